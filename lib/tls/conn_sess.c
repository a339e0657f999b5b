/*
 * The session of a handed-off server connection (docs/engine.md,
 * "Session resumption"). The hand-off frees the SSL as a clean end, so the
 * session stays in the server's session cache; but RFC 5246 section 7.2.2
 * says that the session of a connection that ends in a fatal alert must
 * not be resumed, and with an SSL OpenSSL drops it from the cache then.
 * So when the context the connection started on (the one whose cache
 * holds its sessions, even after an SNI switch) caches server sessions,
 * the hand-off keeps what removing the session needs: a reference on that
 * context, the protocol version and the session id (not the session
 * itself, which would outlive its cache timeout in long connections).
 * A fatal failure removes it; a clean end just lets go.
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

struct stls_rec_sess {
	SSL_CTX *ctx; /* a reference, released in sess_release() */
	int version;
	unsigned char id_len;
	unsigned char id[SSL_MAX_SSL_SESSION_ID_LENGTH];
};

/*
 * Before the hand-off frees c->ssl: keep what removing its session from
 * c->ctx0's server cache needs, when that cache is on and the session has
 * an id. Returns 0 (also when nothing needs keeping) or -ENOMEM.
 * Thread: owner.
 */
int stls__conn_sess_keep(struct stls_conn *c)
{
	SSL_SESSION *s = SSL_get_session(c->ssl);
	struct stls_rec_sess *k;
	const unsigned char *id;
	unsigned int len = 0;

	if (!s || !c->ctx0 || !c->rec ||
	    !(SSL_CTX_get_session_cache_mode(c->ctx0) &
	      SSL_SESS_CACHE_SERVER)) {
		return 0;
	}
	id = SSL_SESSION_get_id(s, &len);
	if (len == 0 || len > sizeof(k->id)) {
		return 0;
	}
	k = OPENSSL_zalloc(sizeof(*k));
	if (!k) {
		return -ENOMEM;
	}
	/* Released in sess_release(). */
	if (!SSL_CTX_up_ref(c->ctx0)) {
		OPENSSL_free(k);
		return -ENOMEM;
	}
	k->ctx = c->ctx0;
	k->version = SSL_SESSION_get_protocol_version(s);
	k->id_len = (unsigned char)len;
	memcpy(k->id, id, len);
	c->rec->sess = k;
	return 0;
}

static void sess_release(struct stls_rec13 *r)
{
	if (r->sess) {
		SSL_CTX_free(r->sess->ctx);
		OPENSSL_clear_free(r->sess, sizeof(*r->sess));
		r->sess = NULL;
	}
}

/*
 * A fatal failure of a handed-off connection: remove its session from the
 * cache (the cache finds it by version and id; a session already gone is
 * no matter), then let go. Out of memory for the lookup key, the session
 * stays. Thread: owner; the cache has its own lock.
 */
void stls__conn_sess_forget(struct stls_conn *c)
{
	struct stls_rec_sess *k = c->rec ? c->rec->sess : NULL;
	SSL_SESSION *key;

	if (!k) {
		return;
	}
	key = SSL_SESSION_new();
	if (key && SSL_SESSION_set1_id(key, k->id, k->id_len) &&
	    SSL_SESSION_set_protocol_version(key, k->version)) {
		(void)SSL_CTX_remove_session(k->ctx, key);
	}
	SSL_SESSION_free(key);
	sess_release(c->rec);
}

/* A clean end (or stls_conn_free()): let go, the session stays. */
void stls__conn_sess_free(struct stls_rec13 *r)
{
	sess_release(r);
}
