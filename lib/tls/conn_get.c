/*
 * Names, the transition table and the getters of the TLS connection
 * engine (see stls/conn.h): O(1) reads of the state kept by conn.c, for
 * tls.list, selects and the daemon, and the ciphertext output queue
 * (peek/consume).
 */
#include "tls/tls_int.h"

#include "stls/profile.h"

const char *const stls_conn_state_names[STLS_CONN__COUNT] = {
	[STLS_CONN_NONE] = "none",
	[STLS_CONN_ACCEPTING] = "accepting",
	[STLS_CONN_CONNECTING] = "connecting",
	[STLS_CONN_ESTABLISHED] = "established",
	[STLS_CONN_CLOSING] = "closing",
	[STLS_CONN_CLOSED] = "closed",
	[STLS_CONN_FAILED] = "failed",
};

const char *const stls_close_reason_names[STLS_CLOSE__COUNT] = {
	[STLS_CLOSE_NONE] = "none",
	[STLS_CLOSE_LOCAL] = "local",
	[STLS_CLOSE_PEER] = "peer",
	[STLS_CLOSE_EOF] = "eof",
	[STLS_CLOSE_HANDSHAKE] = "handshake",
	[STLS_CLOSE_VERIFY] = "verify",
	[STLS_CLOSE_IDENTITY] = "identity",
	[STLS_CLOSE_RENEGOTIATION] = "renegotiation",
	[STLS_CLOSE_PROTOCOL] = "protocol",
	[STLS_CLOSE_LOW_MEMORY] = "low_memory",
	[STLS_CLOSE_NO_MEMORY] = "no_memory",
	[STLS_CLOSE_KEY] = "key",
};

/* Legal transitions; rows left out (CLOSED, FAILED) allow nothing. */
static const bool allowed[STLS_CONN__COUNT][STLS_CONN__COUNT] = {
	[STLS_CONN_NONE] = { [STLS_CONN_ACCEPTING] = true,
			     [STLS_CONN_CONNECTING] = true,
			     [STLS_CONN_FAILED] = true },
	[STLS_CONN_ACCEPTING] = { [STLS_CONN_ESTABLISHED] = true,
				  [STLS_CONN_CLOSED] = true,
				  [STLS_CONN_FAILED] = true },
	[STLS_CONN_CONNECTING] = { [STLS_CONN_ESTABLISHED] = true,
				   [STLS_CONN_CLOSED] = true,
				   [STLS_CONN_FAILED] = true },
	[STLS_CONN_ESTABLISHED] = { [STLS_CONN_CLOSING] = true,
				    [STLS_CONN_CLOSED] = true,
				    [STLS_CONN_FAILED] = true },
	[STLS_CONN_CLOSING] = { [STLS_CONN_CLOSED] = true,
				[STLS_CONN_FAILED] = true },
};

bool stls_conn_state_allowed(enum stls_conn_state from,
			     enum stls_conn_state to)
{
	if ((unsigned)from >= STLS_CONN__COUNT ||
	    (unsigned)to >= STLS_CONN__COUNT) {
		return false;
	}
	return allowed[from][to];
}

enum stls_conn_state stls_conn_get_state(const struct stls_conn *c)
{
	return c->state;
}

unsigned stls_conn_get_flags(const struct stls_conn *c)
{
	return c->flags;
}

enum stls_close_reason stls_conn_get_reason(const struct stls_conn *c)
{
	return c->reason;
}

const char *stls_conn_get_detail(const struct stls_conn *c)
{
	return c->detail;
}

enum stls_role stls_conn_get_role(const struct stls_conn *c)
{
	return c->role;
}

void *stls_conn_get_user(const struct stls_conn *c)
{
	return c->user;
}

size_t stls_conn_get_ct_wq(const struct stls_conn *c)
{
	return c->ctq.total;
}

const void *stls_conn_peek(const struct stls_conn *c, size_t *len)
{
	return stls__wq_peek(&c->io.out, len);
}

void stls_conn_consume(struct stls_conn *c, size_t n)
{
	stls__wq_consume(&c->io.out, n);
}

size_t stls_conn_get_pending_out(const struct stls_conn *c)
{
	return c->io.out.total;
}

size_t stls_conn_get_pending_in(const struct stls_conn *c)
{
	return stls__io_pending_in(&c->io);
}

const char *stls_conn_get_sni(const struct stls_conn *c)
{
	return c->sni;
}

const char *stls_conn_get_cipher(const struct stls_conn *c)
{
	return c->facts ? stls_facts_get_cipher(c->facts) : NULL;
}

const char *stls_conn_get_version(const struct stls_conn *c)
{
	return c->facts ? stls_facts_get_version(c->facts) : NULL;
}

const struct stls_facts *stls_conn_get_facts(const struct stls_conn *c)
{
	return c->facts;
}

bool stls_conn_is_peer_verified(const struct stls_conn *c)
{
	return c->facts && stls_facts_is_peer_verified(c->facts);
}

SSL *stls_conn_get0_ssl(const struct stls_conn *c)
{
	return c->ssl;
}

const struct stls_profile *stls_conn_get0_profile(const struct stls_conn *c)
{
	return c->ssl ? stls_profile_of_ssl(c->ssl) : c->profile;
}

bool stls_conn_is_handed_off(const struct stls_conn *c)
{
	return c->rec != NULL;
}

size_t stls_conn_get_ct_wq_total(void)
{
	return stls__ctq_total();
}
