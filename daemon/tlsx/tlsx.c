/*
 * The TLS transform: the engine (stls_conn) in a daemon connection's
 * transform slot (see tlsx.h).
 *
 * Data path. The daemon hands each socket read to feed(), which runs the
 * engine over the bytes in place (stls_conn_feed_drain: no ciphertext copy
 * unless the plaintext buffer fills) and keeps the plaintext in a per
 * connection buffer that read() then empties; the buffer is freed as soon
 * as it is empty, so idle connections hold none. Errors and the peer's
 * close_notify are seen in feed(), where the daemon acts on them.
 *
 * Client side. The ClientHello is produced as soon as the connection is
 * made, so it leaves the moment the TCP connect completes. Application
 * data written before the handshake waits in the engine's clear-text queue.
 * When the handshake completes, the connection-out hook runs (ESTABLISHED
 * phase) before any output is handed to the socket; if it drops the
 * connection, nothing of the queued data leaves.
 */
#include "tlsx/tlsx.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dial/outbound.h"
#include "stls/log.h"
#include "stls/profile.h"
#include "runtime/tls_info.h"
#include "runtime/worker.h"

/* Plaintext decrypted per engine call; the daemon reads it right after. */
#define TLSX_CHUNK 16384

enum tlsx_counter {
	TC_HANDSHAKES,
	TC_RESUMED,
	TC_HS_FAILED,
	TC_VERIFY,
	TC_IDENTITY,
	TC_RENEG,
	TC_LOWMEM,
	TC_OUT_DROPPED,
	TC_OPEN,
	TC__COUNT
};

struct stls_tlsx {
	struct stls_tlsx_conf conf;
	uint64_t n[TC__COUNT]; /* atomic */
	unsigned n_ws;
	struct stls_tlsx_wstats *ws; /* per worker (metrics) */
};

const struct stls_histo_spec stls_tlsx_hs_time_spec = {
	.n = 13,
	.le_ns = { 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
		   100000000, 250000000, 500000000, 1000000000, 2500000000u,
		   5000000000u, 10000000000u },
};

struct tlsx_conn {
	struct stls_tlsx *t;
	struct stls_dconn *c;
	struct stls_conn *conn;
	uint8_t *pt;          /* decrypted, not yet read */
	size_t pt_off, pt_len, pt_cap;
	bool handshake_seen;  /* counted, hook run */
	bool dropped;         /* by the connection-out hook */
	bool failure_counted;
	char *server_name;    /* client: for the hook */
	char *server_id;
	char detail[96];      /* our own failure detail, overrides engine's */
	uint64_t t0_ns;       /* made: the handshake time starts */
	struct stls_ltab_row *gauge; /* conns row counting it, or NULL */
	unsigned gauge_i;     /* STLS_TLSX_CONN_* it counts in */
};

static void count(struct stls_tlsx *t, enum tlsx_counter k, int64_t d)
{
	__atomic_add_fetch(&t->n[k], (uint64_t)d, __ATOMIC_RELAXED);
}

/* Per-worker measurements (tlsx.h): the owning worker's block, or NULL
 * before the connection has a worker. */
static struct stls_tlsx_wstats *ws_of(const struct tlsx_conn *x)
{
	unsigned i;

	if (!x->c || !x->c->w)
		return NULL;
	i = x->c->w->idx;
	return &x->t->ws[i < x->t->n_ws ? i : x->t->n_ws - 1];
}

static void ws_bump(_Atomic uint64_t *p)
{
	uint64_t v = atomic_load_explicit(p, memory_order_relaxed);

	atomic_store_explicit(p, v + 1, memory_order_relaxed);
}

static const char *profile_label(const struct tlsx_conn *x)
{
	const struct stls_profile *p = stls_conn_get0_profile(x->conn);

	return p ? stls_profile_name(p) : "";
}

/* Moves the connection's gauge to state <i> under its current profile. */
static void gauge_set(struct tlsx_conn *x, unsigned i)
{
	struct stls_tlsx_wstats *ws = ws_of(x);
	const char *v[2];
	char key[STLS_LTAB_KEY_MAX];

	if (!ws)
		return;
	if (x->gauge)
		stls_ltab_add(x->gauge, x->gauge_i, -1);
	v[0] = stls_conn_get_role(x->conn) == STLS_ROLE_CLIENT ? "out" : "in";
	v[1] = profile_label(x);
	stls_ltab_key(key, v, 2);
	x->gauge = stls_ltab_get(&ws->conns, key);
	x->gauge_i = i;
	stls_ltab_add(x->gauge, i, 1);
}

/* One handshake row: result "ok" (resumed or not) or "failed". */
static void count_hs(struct tlsx_conn *x, bool ok, bool resumed)
{
	struct stls_tlsx_wstats *ws = ws_of(x);
	struct stls_ltab_row *r;
	char key[STLS_LTAB_KEY_MAX];
	const char *v[4];

	if (!ws)
		return;
	v[0] = ok ? "ok" : "failed";
	v[1] = stls_conn_get_version(x->conn);
	v[2] = stls_conn_get_cipher(x->conn);
	v[3] = profile_label(x);
	stls_ltab_key(key, v, 4);
	r = stls_ltab_get(&ws->hs, key);
	stls_ltab_add(r, STLS_TLSX_HS_COUNT, 1);
	if (resumed)
		stls_ltab_add(r, STLS_TLSX_HS_RESUMED, 1);
	if (ok)
		stls_histo_observe(&ws->hs_time, &stls_tlsx_hs_time_spec,
				   stls_mono_ns() - x->t0_ns);
}

/* Verification failures by cause (the library's, or identity). */
static void count_verify(struct tlsx_conn *x, unsigned cause)
{
	struct stls_tlsx_wstats *ws = ws_of(x);

	if (ws)
		ws_bump(&ws->verify[cause]);
}

static void count_failure(struct tlsx_conn *x)
{
	enum tlsx_counter k;

	if (x->failure_counted || x->dropped)
		return;
	x->failure_counted = true;
	switch (stls_conn_get_reason(x->conn)) {
	case STLS_CLOSE_VERIFY:
		k = TC_VERIFY;
		count_verify(x, stls_conn_get_verify_cause(x->conn));
		break;
	case STLS_CLOSE_IDENTITY:
		k = TC_IDENTITY;
		count_verify(x, STLS_TLSX_VCAUSE_IDENTITY);
		break;
	case STLS_CLOSE_RENEGOTIATION:
		k = TC_RENEG;
		break;
	case STLS_CLOSE_LOW_MEMORY:
		k = TC_LOWMEM;
		break;
	default:
		if (x->handshake_seen)
			return; /* a TLS error after the handshake */
		k = TC_HS_FAILED;
		break;
	}
	count(x->t, k, 1);
	if (!x->handshake_seen)
		count_hs(x, false, false);
}

static int pt_append(struct tlsx_conn *x, const uint8_t *p, size_t n)
{
	if (x->pt_off == x->pt_len)
		x->pt_off = x->pt_len = 0;
	if (x->pt_len + n > x->pt_cap) {
		size_t cap = x->pt_cap ? x->pt_cap : TLSX_CHUNK;
		uint8_t *np;

		while (cap < x->pt_len + n)
			cap *= 2;
		np = realloc(x->pt, cap);
		if (!np)
			return -ENOMEM;
		x->pt = np;
		x->pt_cap = cap;
	}
	memcpy(x->pt + x->pt_len, p, n);
	x->pt_len += n;
	return 0;
}

static void conn_out_event(struct tlsx_conn *x,
			   enum stls_conn_out_phase phase,
			   struct stls_conn_out_event *ev)
{
	const struct stls_profile *p =
		stls_conn_get0_profile(x->conn);

	memset(ev, 0, sizeof(*ev));
	ev->phase = phase;
	ev->dst = &x->c->peer;
	ev->server_name = x->server_name;
	ev->server_id = x->server_id;
	ev->profile = p ? stls_profile_name(p) : "";
	ev->facts = stls_conn_get_facts(x->conn);
	ev->w = x->c->w;
}

/* The handshake just completed: count it, run the client-side hook. */
static int on_handshake(struct tlsx_conn *x)
{
	const struct stls_facts *f = stls_conn_get_facts(x->conn);
	struct stls_conn_out_event ev;
	struct stls_tlsx *t = x->t;

	x->handshake_seen = true;
	count(t, TC_HANDSHAKES, 1);
	if (f && stls_facts_is_resumed(f))
		count(t, TC_RESUMED, 1);
	count_hs(x, true, f && stls_facts_is_resumed(f));
	gauge_set(x, STLS_TLSX_CONN_ESTABLISHED);
	if (stls_conn_get_role(x->conn) != STLS_ROLE_CLIENT ||
	    !t->conf.conn_out)
		return 0;
	conn_out_event(x, STLS_CONN_OUT_ESTABLISHED, &ev);
	if (t->conf.conn_out(&ev, t->conf.conn_out_arg) == 0)
		return 0;
	x->dropped = true;
	count(t, TC_OUT_DROPPED, 1);
	snprintf(x->detail, sizeof(x->detail),
		 "dropped by connection-out hook");
	return -EPERM;
}

static bool handshake_done(const struct tlsx_conn *x)
{
	return stls_conn_get_flags(x->conn) & STLS_CONN_F_HANDSHAKE_DONE;
}

/*
 * The engine over wire bytes: runs it until it wants input, keeping the
 * plaintext. <on_worker>: the handshake is counted (and the client's
 * connection-out hook run) the moment it completes, before any more is
 * decrypted; without it (a server's step on a handshake thread) nothing
 * outside <x> is touched and x_step_done() counts it after.
 */
static enum stls_io engine_feed(struct tlsx_conn *x, const uint8_t *p,
				size_t n, bool on_worker)
{
	uint8_t out[TLSX_CHUNK];
	enum stls_io io;
	size_t got;
	bool first = true;

	if (x->dropped)
		return STLS_IO_FAILED;
	do {
		if (first)
			io = stls_conn_feed_drain(x->conn, p, n, out,
						  sizeof(out), &got);
		else
			io = stls_conn_drain(x->conn, out, sizeof(out), &got);
		first = false;
		if (on_worker && !x->handshake_seen && handshake_done(x) &&
		    on_handshake(x) != 0)
			return STLS_IO_FAILED;
		if (got && pt_append(x, out, got) != 0) {
			snprintf(x->detail, sizeof(x->detail),
				 "out of memory");
			return STLS_IO_FAILED;
		}
	} while (io == STLS_IO_DONE);
	return io;
}

static enum stls_io x_feed(void *xp, const uint8_t *p, size_t n)
{
	struct tlsx_conn *x = xp;
	enum stls_io io = engine_feed(x, p, n, true);

	if (io == STLS_IO_FAILED)
		count_failure(x);
	return io;
}

/* Server connections only (the runtime offloads inbound ones): no hook
 * runs at their handshake's end, only counters, so counting after the
 * whole step is the same as counting inside it. */
static enum stls_io x_step(void *xp, const uint8_t *p, size_t n)
{
	return engine_feed(xp, p, n, false);
}

static enum stls_io x_step_done(void *xp, enum stls_io io)
{
	struct tlsx_conn *x = xp;

	/* As feed() does: a handshake that completed is counted even when
	 * the same step then failed (a bad record right behind Finished). */
	if (!x->handshake_seen && handshake_done(x) && on_handshake(x) != 0)
		io = STLS_IO_FAILED;
	if (io == STLS_IO_FAILED)
		count_failure(x);
	return io;
}

static ssize_t x_read(void *xp, uint8_t *buf, size_t cap)
{
	struct tlsx_conn *x = xp;
	size_t n = x->pt_len - x->pt_off;

	if (n == 0)
		return 0;
	if (n > cap)
		n = cap;
	memcpy(buf, x->pt + x->pt_off, n);
	x->pt_off += n;
	if (x->pt_off == x->pt_len) {
		/* Idle connections hold no plaintext buffer. */
		free(x->pt);
		x->pt = NULL;
		x->pt_off = x->pt_len = x->pt_cap = 0;
	}
	return (ssize_t)n;
}

static int x_write(void *xp, const uint8_t *p, size_t n)
{
	struct tlsx_conn *x = xp;
	ssize_t r;

	if (x->dropped)
		return -EPIPE;
	r = stls_conn_push(x->conn, p, n);
	if (r < 0) {
		if (r != -ENOBUFS)
			count_failure(x);
		return (int)r;
	}
	return (size_t)r == n ? 0 : -ENOBUFS;
}

static size_t x_peek(void *xp, const uint8_t **p)
{
	struct tlsx_conn *x = xp;
	size_t n = 0;

	/* A dropped connection sends nothing: not even queued data that the
	 * engine encrypted when the handshake completed. (The handshake only
	 * completes in x_feed(), which runs the hook before any peek.) */
	if (x->dropped) {
		*p = NULL;
		return 0;
	}
	*p = stls_conn_peek(x->conn, &n);
	return n;
}

/* What a step may send from the handshake thread: all of a server's
 * output, its flights and, from the step that completes its handshake,
 * its session tickets and any data written to it before (encrypted at
 * that moment, in order); no hook runs at a server's handshake end (see
 * on_handshake()). A client's output once its handshake is done waits
 * for x_step_done(), whose connection-out hook may still drop it. */
static size_t x_step_peek(void *xp, const uint8_t **p)
{
	struct tlsx_conn *x = xp;

	if (stls_conn_get_role(x->conn) == STLS_ROLE_CLIENT &&
	    handshake_done(x)) {
		*p = NULL;
		return 0;
	}
	return x_peek(xp, p);
}

static void x_consume(void *xp, size_t n)
{
	struct tlsx_conn *x = xp;

	stls_conn_consume(x->conn, n);
}

static bool x_established(void *xp)
{
	struct tlsx_conn *x = xp;

	return x->handshake_seen && !x->dropped;
}

static void x_shutdown(void *xp)
{
	struct tlsx_conn *x = xp;

	if (!x->dropped)
		(void)stls_conn_close(x->conn);
}

static void x_free(void *xp)
{
	struct tlsx_conn *x = xp;

	struct stls_tlsx_wstats *ws;

	if (!x)
		return;
	count(x->t, TC_OPEN, -1);
	ws = ws_of(x);
	if (ws)
		ws_bump(&ws->closes[stls_conn_get_reason(x->conn)]);
	if (x->gauge)
		stls_ltab_add(x->gauge, x->gauge_i, -1);
	stls_conn_free(x->conn);
	free(x->pt);
	free(x->server_name);
	free(x->server_id);
	free(x);
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void x_describe(void *xp, struct stls_tls_info *out)
{
	struct tlsx_conn *x = xp;
	const struct stls_facts *f = stls_conn_get_facts(x->conn);
	const struct stls_profile *p =
		stls_conn_get0_profile(x->conn);

	memset(out, 0, sizeof(*out));
	copy_str(out->state, sizeof(out->state),
		 stls_conn_state_names[stls_conn_get_state(x->conn)]);
	out->flags = stls_conn_get_flags(x->conn);
	out->ct_wq_size = stls_conn_get_ct_wq(x->conn);
	out->enc_rd_buf = stls_conn_get_pending_in(x->conn);
	copy_str(out->sni, sizeof(out->sni), stls_conn_get_sni(x->conn));
	copy_str(out->version, sizeof(out->version),
		 stls_conn_get_version(x->conn));
	if (p) {
		copy_str(out->profile, sizeof(out->profile),
			 stls_profile_name(p));
		out->generation =
			stls_profile_set_generation(stls_profile_set_of(p));
	}
	out->verified = -1;
	if (!f)
		return;
	if (stls_facts_get(f, "tls_description", 0, out->cipher,
			   sizeof(out->cipher)) < 0)
		copy_str(out->cipher, sizeof(out->cipher),
			 stls_facts_get_cipher(f));
	if (stls_facts_get(f, "tls_peer_subject", 0, out->peer_subject,
			   sizeof(out->peer_subject)) < 0)
		out->peer_subject[0] = '\0';
	out->verified = stls_facts_is_peer_verified(f) ? 1 : 0;
	out->resumed = stls_facts_is_resumed(f) ? 1 : 0;
}

static const struct stls_xform_ops tlsx_ops = {
	.name = "tls",
	.feed = x_feed,
	.read = x_read,
	.write = x_write,
	.peek = x_peek,
	.consume = x_consume,
	.established = x_established,
	.shutdown = x_shutdown,
	.free = x_free,
	.describe = x_describe,
	.step = x_step,
	.step_done = x_step_done,
	.step_peek = x_step_peek,
};

/* Wraps <ssl> (taken) in a new engine connection and transform state. */
static int make_conn(struct stls_tlsx *t, SSL *ssl,
		     const struct stls_conn_opts *base, struct tlsx_conn **out)
{
	struct tlsx_conn *x = calloc(1, sizeof(*x));
	struct stls_conn_opts o = *base;
	enum stls_close_reason why = STLS_CLOSE_NONE;
	int err;

	if (!x) {
		SSL_free(ssl);
		return -ENOMEM;
	}
	o.ssl = ssl;
	o.settings = t->conf.live;
	o.user = x;
	err = stls_conn_new(&o, &x->conn, &why);
	if (err) {
		if (why == STLS_CLOSE_LOW_MEMORY)
			count(t, TC_LOWMEM, 1);
		free(x);
		return err;
	}
	x->t = t;
	x->t0_ns = stls_mono_ns();
	count(t, TC_OPEN, 1);
	*out = x;
	return 0;
}

/* xform_new for tls: listeners (server role). */
static int server_xform_new(void *arg, struct stls_dconn *c,
			    struct stls_xform *out)
{
	struct stls_tlsx *t = arg;
	struct stls_conn_opts o = { .role = STLS_ROLE_SERVER,
				    .keep_ssl = t->conf.keep_ssl };
	struct stls_profile_set *set = stls_pstore_get(t->conf.ps);
	const struct stls_profile *p;
	struct tlsx_conn *x;
	SSL *ssl;
	int err;

	p = stls_profile_set_match_server(set, &c->local, NULL);
	ssl = stls_profile_ssl_new(p, &c->local);
	/* The SSL holds its own reference on the set from here on. */
	stls_profile_set_unref(set);
	if (!ssl)
		return -ENOMEM;
	err = make_conn(t, ssl, &o, &x);
	if (err)
		return err;
	x->c = c;
	gauge_set(x, STLS_TLSX_CONN_HANDSHAKING);
	out->ops = &tlsx_ops;
	out->x = x;
	return 0;
}

int stls_tlsx_new(const struct stls_tlsx_conf *conf, struct stls_tlsx **out)
{
	struct stls_tlsx *t = calloc(1, sizeof(*t));
	unsigned i;

	if (!t)
		return -ENOMEM;
	t->conf = *conf;
	t->n_ws = conf->workers ? conf->workers : 1;
	t->ws = calloc(t->n_ws, sizeof(*t->ws));
	if (!t->ws) {
		free(t);
		return -ENOMEM;
	}
	for (i = 0; i < t->n_ws; i++) {
		stls_ltab_init(&t->ws[i].hs);
		stls_ltab_init(&t->ws[i].conns);
	}
	*out = t;
	return 0;
}

void stls_tlsx_free(struct stls_tlsx *t)
{
	unsigned i;

	if (!t)
		return;
	for (i = 0; i < t->n_ws; i++) {
		stls_ltab_fini(&t->ws[i].hs);
		stls_ltab_fini(&t->ws[i].conns);
	}
	free(t->ws);
	free(t);
}

unsigned stls_tlsx_workers(const struct stls_tlsx *t)
{
	return t->n_ws;
}

const struct stls_tlsx_wstats *stls_tlsx_wstats(const struct stls_tlsx *t,
						unsigned i)
{
	return &t->ws[i];
}

void stls_tlsx_install(struct stls_tlsx *t, struct stls_daemon_opts *o)
{
	o->xform_new = server_xform_new;
	o->xform_arg = t;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* Picks the client profile and makes the engine connection. */
static int client_conn(struct stls_tlsx *t, const struct stls_tlsx_target *tg,
		       struct tlsx_conn **out)
{
	struct stls_profile_set *set = stls_pstore_get(t->conf.ps);
	const struct stls_profile *p;
	const struct stls_profile_conf *pc;
	struct stls_conn_opts o = { .role = STLS_ROLE_CLIENT };
	SSL *ssl;

	p = stls_profile_set_match_client(set, &tg->dst,
					  nonempty(tg->server_name),
					  nonempty(tg->server_id));
	pc = stls_profile_conf_of(p);
	o.sni = nonempty(tg->server_name) ? tg->server_name
					    : nonempty(pc->server_name);
	if (pc->verify_server_name > 0)
		o.verify_name = nonempty(tg->sip_domain) ? tg->sip_domain
							 : o.sni;
	o.verify_wildcard = pc->verify_wildcard > 0;
	ssl = stls_profile_ssl_new(p, &tg->dst);
	stls_profile_set_unref(set);
	if (!ssl)
		return -ENOMEM;
	return make_conn(t, ssl, &o, out);
}

int stls_tlsx_connect(struct stls_tlsx *t, struct stls_worker *w,
		      const struct stls_tlsx_target *tg,
		      struct stls_dconn **out)
{
	struct stls_conn_out_event ev = { .phase = STLS_CONN_OUT_CONNECT };
	struct tlsx_conn *x = NULL;
	struct stls_dconn *c;
	size_t got;
	int err;

	ev.dst = &tg->dst;
	ev.server_name = nonempty(tg->server_name);
	ev.server_id = nonempty(tg->server_id);
	ev.profile = "";
	ev.w = w;
	if (t->conf.conn_out &&
	    t->conf.conn_out(&ev, t->conf.conn_out_arg) != 0) {
		count(t, TC_OUT_DROPPED, 1);
		return -EPERM;
	}
	err = client_conn(t, tg, &x);
	if (err)
		return err;
	if ((tg->server_name && !(x->server_name = strdup(tg->server_name))) ||
	    (tg->server_id && !(x->server_id = strdup(tg->server_id)))) {
		x_free(x);
		return -ENOMEM;
	}
	/* The ClientHello, ready for the moment the connect completes. */
	if (stls_conn_drain(x->conn, NULL, 0, &got) == STLS_IO_FAILED) {
		count_failure(x);
		x_free(x);
		return -EPROTO;
	}
	err = stls_outbound_open(w, &tg->dst, NULL, STLS_DCONN_OUTBOUND, false,
				 &c);
	if (err) {
		x_free(x);
		return err;
	}
	x->c = c;
	gauge_set(x, STLS_TLSX_CONN_HANDSHAKING);
	c->xform.ops = &tlsx_ops;
	c->xform.x = x;
	*out = c;
	return 0;
}

struct stls_conn *stls_tlsx_conn_of(const struct stls_dconn *c)
{
	if (!c || c->xform.ops != &tlsx_ops)
		return NULL;
	return ((struct tlsx_conn *)c->xform.x)->conn;
}

const struct stls_facts *stls_tlsx_facts(const struct stls_dconn *c)
{
	/* A step on a handshake thread owns the engine: no facts yet. */
	struct stls_conn *conn = c && !c->step_out ? stls_tlsx_conn_of(c)
						   : NULL;

	return conn ? stls_conn_get_facts(conn) : NULL;
}

const char *stls_tlsx_detail(const struct stls_dconn *c)
{
	const struct tlsx_conn *x;

	if (!c || c->xform.ops != &tlsx_ops)
		return "";
	if (c->step_out)
		return "handshake step in progress";
	x = c->xform.x;
	if (x->detail[0])
		return x->detail;
	return stls_conn_get_detail(x->conn);
}

void stls_tlsx_stats(const struct stls_tlsx *t, struct stls_tlsx_stats *out)
{
	uint64_t n[TC__COUNT];
	int i;

	for (i = 0; i < TC__COUNT; i++)
		n[i] = __atomic_load_n(&t->n[i], __ATOMIC_RELAXED);
	memset(out, 0, sizeof(*out));
	out->handshakes = n[TC_HANDSHAKES];
	out->handshakes_resumed = n[TC_RESUMED];
	out->handshake_failures = n[TC_HS_FAILED];
	out->verify_failures = n[TC_VERIFY];
	out->identity_failures = n[TC_IDENTITY];
	out->renegotiations_refused = n[TC_RENEG];
	out->low_memory_refused = n[TC_LOWMEM];
	out->conn_out_dropped = n[TC_OUT_DROPPED];
	out->tls_connections = n[TC_OPEN];
	out->ct_wq_bytes = stls_conn_get_ct_wq_total();
}

void stls_tlsx_stats_format(const struct stls_tlsx_stats *st, char *buf,
			    size_t len)
{
	snprintf(buf, len,
		 "handshakes=%" PRIu64 " handshakes_resumed=%" PRIu64
		 " handshake_failures=%" PRIu64 " verify_failures=%" PRIu64
		 " identity_failures=%" PRIu64
		 " renegotiations_refused=%" PRIu64
		 " low_memory_refused=%" PRIu64 " conn_out_dropped=%" PRIu64
		 " tls_connections=%" PRIu64 " ct_wq_bytes=%" PRIu64,
		 st->handshakes, st->handshakes_resumed,
		 st->handshake_failures, st->verify_failures,
		 st->identity_failures, st->renegotiations_refused,
		 st->low_memory_refused, st->conn_out_dropped,
		 st->tls_connections, st->ct_wq_bytes);
}

void stls_tlsx_stats_log(const struct stls_tlsx *t)
{
	struct stls_tlsx_stats st;
	char buf[600];

	if (!t)
		return;
	stls_tlsx_stats(t, &st);
	stls_tlsx_stats_format(&st, buf, sizeof(buf));
	STLS_NOTICE("stats: tls: %s", buf);
}
