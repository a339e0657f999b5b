/*
 * The runner of the record layer's negative suite (test_rec_negative.c):
 * one case is a script of records sent "by the client" after a real
 * handshake with an OpenSSL client (forged with the client's own keys by
 * rec_forge.h, or raw bytes), run against a server engine on either
 * layer: the record hand-off (keep_ssl off) and OpenSSL's own (keep_ssl
 * on). What is compared is what a peer sees: the server's state and close
 * reason, the alert the real client reads from the server (level and
 * description), the plaintext delivered, and for a connection still up,
 * that data flows both ways afterwards (for one closing, that our
 * close_notify reaches the client).
 */
#ifndef STLS_TEST_NEG_SUITE_H
#define STLS_TEST_NEG_SUITE_H

#include <stdlib.h>

#include "lib/tls/oc_pair.h"
#include "lib/tls/rec_forge.h"

enum opk {
	O_END,
	O_REC,    /* a record forged with the client's keys */
	O_RAW,    /* bytes fed as they are */
	O_HDR,    /* a header (type, hver, len), then len bytes of 'g' */
	O_KU,     /* the forger updates its write key (after its KeyUpdate) */
	O_EOF,    /* the transport ends */
	O_SEQ_RD, /* hand-off only: both ends' client-to-server sequence */
	O_SEQ_WR, /* hand-off only: both ends' server-to-client sequence */
	O_PUSH,   /* the server writes len bytes */
};

struct op {
	unsigned char k;
	unsigned char type; /* O_REC: content type (TLS 1.3 inner); O_HDR */
	const char *d;      /* O_REC, O_RAW: the bytes; NULL: len x 'f' */
	unsigned len;
	unsigned pad;       /* O_REC, TLS 1.3: zero bytes after the type */
	unsigned hver;      /* O_REC, O_HDR: header version (0: 0x0303) */
	unsigned cut;       /* O_REC: fed as two pieces, the first this long */
	bool trunc;         /* O_REC: only the first piece is fed */
	unsigned rep;       /* O_REC, O_RAW: sent rep times (0: once) */
	bool noty;          /* O_REC, TLS 1.3: no type byte after the content */
	uint64_t seq;       /* O_SEQ_*: the value */
};

/* What a peer sees. */
enum { A_ALIVE, A_CLOSING, A_CLOSED, A_FAILED, A_NA };

struct ans {
	unsigned char st;
	unsigned char why;  /* enum stls_close_reason (CLOSED, FAILED) */
	short alert;        /* level << 8 | description read, or -1 */
	int rx;             /* plaintext bytes delivered, -1: any */
};

#define ALIVE(n) { A_ALIVE, STLS_CLOSE_NONE, -1, n }
#define CLOSING { A_CLOSING, STLS_CLOSE_PEER, -1, -1 }
#define EOFED { A_CLOSED, STLS_CLOSE_EOF, -1, -1 }
#define FAILS(al) { A_FAILED, STLS_CLOSE_PROTOCOL, 2 << 8 | (al), -1 }
#define QUIET { A_FAILED, STLS_CLOSE_PROTOCOL, -1, -1 }
#define NA { A_NA, 0, -1, -1 }
#define RENEG { A_FAILED, STLS_CLOSE_RENEGOTIATION, -1, -1 }
/* Both layers answer alike. */
#define SAME(a) .ho = a, .ssl = a

/* Alert descriptions used in expectations (RFC 8446 section 6). */
enum {
	UNEXPECTED = 10, BAD_MAC = 20, OVERFLOW = 22, HS_FAILURE = 40,
	ILLEGAL = 47, DECODE = 50, PROTO_VERSION = 70, INTERNAL = 80,
};

struct ncase {
	const char *name;
	unsigned char ver;  /* 13 or 12 */
	unsigned char mfl;  /* the client asks for max_fragment_length, 0 */
	bool forger_reads;  /* the server's output is read by the forger */
	struct op ops[7];
	struct ans ho, ssl;
	const char *note;   /* why the layers differ, or NULL */
};

/* The client's TLS 1.3 secrets from its key-log callback. */
static unsigned char ns_cl_wr[48], ns_cl_rd[48];
static unsigned char ns_cl_len;

static void ns_hex(const char *line, const char *label, unsigned char *out)
{
	const char *p;
	size_t i;

	if (strncmp(line, label, strlen(label)) != 0) {
		return;
	}
	p = line + strlen(label) + 1 + 64 + 1;
	ns_cl_len = (unsigned char)(strlen(p) / 2);
	for (i = 0; i < ns_cl_len; i++) {
		unsigned v;

		CHECK(sscanf(p + 2 * i, "%2x", &v) == 1);
		out[i] = (unsigned char)v;
	}
}

static void ns_keylog(const SSL *ssl, const char *line)
{
	(void)ssl;
	ns_hex(line, "CLIENT_TRAFFIC_SECRET_0", ns_cl_wr);
	ns_hex(line, "SERVER_TRAFFIC_SECRET_0", ns_cl_rd);
}

/*
 * oc_pair.h's contexts: TLS 1.3 for suite NULL or a TLS 1.3 suite name,
 * TLS 1.2 for a TLS 1.2 cipher name; the client logs its secrets.
 */
static void oc_init(struct oc *o, const char *suite)
{
	bool v12 = suite && strncmp(suite, "TLS_", 4) != 0;
	int v = v12 ? TLS1_2_VERSION : TLS1_3_VERSION;

	memset(o, 0, sizeof(*o));
	settings_default(&o->set);
	o->set.send_close_notify = 1;
	o->seed = 1;
	o->cap = sizeof(o->rx);
	o->sctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key", v, v);
	o->cctx = ctx_new(STLS_ROLE_CLIENT, NULL, NULL, v, v);
	SSL_CTX_set_keylog_callback(o->cctx, ns_keylog);
	if (v12) {
		CHECK(SSL_CTX_set_cipher_list(o->cctx, suite));
	} else if (suite) {
		CHECK(SSL_CTX_set_ciphersuites(o->cctx, suite));
	}
}

static void ns_pair(struct oc *o, const struct ncase *nc, bool keep)
{
	oc_init(o, nc->ver == 12 ? "ECDHE-ECDSA-AES128-GCM-SHA256" : NULL);
	if (nc->mfl) {
		CHECK(SSL_CTX_set_tlsext_max_fragment_length(o->cctx,
							     nc->mfl));
	}
	oc_start(o, keep);
	oc_established(o, !keep);
}

/* The forger: the client's keys; reads what the server writes too. */
static void ns_forger(struct oc *o, struct stls_rec13 *f, bool v12,
		      uint64_t srv_wr_seq)
{
	uint16_t id = (uint16_t)SSL_CIPHER_get_protocol_id(
		SSL_get_current_cipher(o->cl));
	unsigned char ms[48], cr[32], sr[32];
	struct stls_rec13_dir t;

	if (!v12) {
		CHECK_OK(stls__rec13_init(f, id, NULL, ns_cl_rd, ns_cl_wr,
					  ns_cl_len));
		f->rd.seq = srv_wr_seq;
		return;
	}
	CHECK_EQ(SSL_SESSION_get_master_key(SSL_get_session(o->cl), ms, 48),
		 48);
	CHECK_EQ(SSL_get_client_random(o->cl, cr, 32), 32);
	CHECK_EQ(SSL_get_server_random(o->cl, sr, 32), 32);
	CHECK_OK(stls__rec12_init(f, id, NULL, ms, 48, cr, sr));
	t = f->rd;
	f->rd = f->wr;
	f->wr = t;
	f->wr.seq = 1;
	f->rd.seq = 1;
}

static void ns_feed(struct oc *o, const unsigned char *p, size_t n,
		    size_t cut, bool trunc)
{
	if (cut && cut < n) {
		srv_feed(o, p, cut);
		if (trunc) {
			return;
		}
		p += cut;
		n -= cut;
	}
	srv_feed(o, p, n);
}

static void ns_rec(struct oc *o, struct stls_rec13 *f, const struct op *op)
{
	static unsigned char in[FORGE_MAX], rec[FORGE_MAX];
	unsigned hver = op->hver ? op->hver : 0x0303;
	size_t n = op->len, k;

	CHECK(n + 1 + op->pad <= sizeof(in));
	if (op->d) {
		memcpy(in, op->d, n);
	} else {
		memset(in, 'f', n);
	}
	if (f->v12) {
		k = forge12(f, op->type, in, n, hver, rec);
	} else {
		if (!op->noty) {
			in[n++] = op->type;
		}
		memset(in + n, 0, op->pad);
		k = forge13(f, in, n + op->pad, hver, rec);
	}
	ns_feed(o, rec, k, op->cut, op->trunc);
}

static void ns_hdr(struct oc *o, const struct op *op)
{
	static unsigned char rec[5 + 65535];
	unsigned hver = op->hver ? op->hver : 0x0303;

	rec[0] = op->type;
	rec[1] = (unsigned char)(hver >> 8);
	rec[2] = (unsigned char)hver;
	rec[3] = (unsigned char)(op->len >> 8);
	rec[4] = (unsigned char)op->len;
	memset(rec + 5, 'g', op->len);
	srv_feed(o, rec, 5 + op->len);
}

static void ns_op(struct oc *o, struct stls_rec13 *f, const struct op *op)
{
	unsigned i;

	switch (op->k) {
	case O_REC:
		for (i = 0; i <= op->rep; i++) {
			ns_rec(o, f, op);
		}
		break;
	case O_RAW:
		for (i = 0; i <= op->rep; i++) {
			srv_feed(o, op->d, op->len);
		}
		break;
	case O_HDR:
		ns_hdr(o, op);
		break;
	case O_KU:
		CHECK_OK(stls__rec13_update(f, true));
		break;
	case O_EOF:
		stls_conn_feed_eof(o->s);
		break;
	case O_SEQ_RD:
		o->s->rec->rd.seq = f->wr.seq = op->seq;
		break;
	case O_SEQ_WR:
		o->s->rec->wr.seq = f->rd.seq = op->seq;
		break;
	case O_PUSH: {
		static char buf[STLS_REC13_MAX_PLAIN];

		memset(buf, 'p', op->len);
		(void)!stls_conn_push(o->s, buf, op->len);
		break;
	}
	default:
		break;
	}
}

/*
 * The forger reads every record the server queued, following its
 * KeyUpdates: the last alert (or -1), the application data appended to
 * app (up to cap bytes; *app_len counts).
 */
static int ns_forger_read(struct oc *o, struct stls_rec13 *f,
			  unsigned char *app, size_t cap, size_t *app_len)
{
	static unsigned char buf[1 << 17], pt[FORGE_MAX];
	size_t n = 0, off = 0, body, got;
	unsigned char t;
	int alert = -1;

	while (stls_conn_get_pending_out(o->s) > 0) {
		size_t k;
		const unsigned char *p = stls_conn_peek(o->s, &k);

		CHECK(p && n + k <= sizeof(buf));
		memcpy(buf + n, p, k);
		stls_conn_consume(o->s, k);
		n += k;
	}
	while (off + 5 <= n) {
		body = (size_t)buf[off + 3] << 8 | buf[off + 4];
		CHECK(off + 5 + body <= n);
		CHECK_OK(stls__rec13_open(f, buf + off, 5 + body, pt, &got,
					  &t));
		if (t == 21 && got == 2) {
			alert = pt[0] << 8 | pt[1];
		}
		if (t == 23 && app && *app_len + got <= cap) {
			memcpy(app + *app_len, pt, got);
			*app_len += got;
		}
		if (!f->v12 && t == 22 && got == 5 && pt[0] == 24) {
			CHECK_OK(stls__rec13_update(f, false));
		}
		off += 5 + body;
	}
	return alert;
}

/* Data both ways after the case; true when it flowed. */
static bool ns_alive(struct oc *o, struct stls_rec13 *f, bool forger_reads)
{
	static const struct op ping = { .k = O_REC, .type = 23, .d = "ping",
					.len = 4 };
	size_t rx0 = o->rxlen, crx0 = o->crxlen, n = 0;
	unsigned char back[64];

	ns_rec(o, f, &ping);
	if (o->rxlen != rx0 + 4 || memcmp(o->rx + rx0, "ping", 4) != 0 ||
	    stls_conn_push(o->s, "pong", 4) != 4) {
		return false;
	}
	if (forger_reads) {
		return ns_forger_read(o, f, back, sizeof(back), &n) < 0 &&
		       n == 4 && memcmp(back, "pong", 4) == 0;
	}
	oc_move(o);
	cl_read(o);
	return o->crxlen == crx0 + 4 && memcmp(o->crx + crx0, "pong", 4) == 0;
}

/* Run one case on one layer. */
static struct ans ns_run(const struct ncase *nc, bool keep)
{
	struct ans a = { A_FAILED, STLS_CLOSE_NONE, -1, 0 };
	struct stls_rec13 f;
	struct oc o;
	size_t i;

	ns_pair(&o, nc, keep);
	ns_forger(&o, &f, nc->ver == 12,
		  keep ? 0 : o.s->rec->wr.seq);
	for (i = 0; i < STLS_ARRAY_SIZE(nc->ops) && nc->ops[i].k; i++) {
		ns_op(&o, &f, &nc->ops[i]);
	}
	a.rx = (int)o.rxlen;
	a.why = (unsigned char)stls_conn_get_reason(o.s);
	a.alert = (short)(nc->forger_reads
				  ? ns_forger_read(&o, &f, NULL, 0, NULL)
				  : oc_client_alert(&o));
	switch (stls_conn_get_state(o.s)) {
	case STLS_CONN_ESTABLISHED:
		a.st = A_ALIVE;
		if (!ns_alive(&o, &f, nc->forger_reads)) {
			a.st = A_FAILED; /* data no longer flows */
		}
		break;
	case STLS_CONN_CLOSING:
		a.st = A_CLOSING;
		/* Our close_notify must reach the client. */
		if (!nc->forger_reads &&
		    (stls_conn_close(o.s) != STLS_IO_DONE ||
		     oc_client_alert(&o) != (1 << 8 | 0))) {
			a.st = A_FAILED;
		}
		break;
	case STLS_CONN_CLOSED:
		a.st = A_CLOSED;
		break;
	default:
		a.st = A_FAILED;
		break;
	}
	stls__rec13_fini(&f);
	oc_fini(&o);
	return a;
}

static void ns_str(struct ans a, char *buf, size_t len)
{
	static const char *const st[] = {
		[A_ALIVE] = "alive", [A_CLOSING] = "closing",
		[A_CLOSED] = "closed", [A_FAILED] = "failed", [A_NA] = "n/a",
	};
	int n;

	n = snprintf(buf, len, "%s", st[a.st]);
	if (a.st == A_CLOSED || a.st == A_FAILED) {
		n += snprintf(buf + n, len - (size_t)n, " (%s)",
			      stls_close_reason_names[a.why]);
	}
	if (a.st != A_NA && a.alert >= 0) {
		snprintf(buf + n, len - (size_t)n, ", sends %s %s",
			 (a.alert >> 8) == 1 ? "warning" : "fatal",
			 SSL_alert_desc_string_long(a.alert & 0xff));
	} else if (a.st == A_FAILED && a.why == STLS_CLOSE_PROTOCOL) {
		snprintf(buf + n, len - (size_t)n, ", no alert");
	}
}

static bool ns_match(struct ans want, struct ans got)
{
	if (want.st == A_NA) {
		return true;
	}
	return want.st == got.st && want.alert == got.alert &&
	       (want.rx < 0 || want.rx == got.rx) &&
	       (want.st == A_ALIVE || want.st == A_CLOSING ||
		want.why == got.why);
}

/*
 * Run cases on both layers; every answer that differs from the
 * expectation is printed (all of them, then the case fails). With
 * STLS_NEG_TABLE set, prints the table of answers (markdown).
 */
static void ns_run_all(const struct ncase *cs, size_t n)
{
	bool table = getenv("STLS_NEG_TABLE") != NULL;
	int bad = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct ncase *nc = &cs[i];
		struct ans ho = ns_run(nc, false), ssl = nc->ssl;
		char a[128], b[128], w[128];

		if (nc->ssl.st != A_NA) {
			ssl = ns_run(nc, true);
		}
		ns_str(ho, a, sizeof(a));
		ns_str(ssl, b, sizeof(b));
		if (!ns_match(nc->ho, ho)) {
			ns_str(nc->ho, w, sizeof(w));
			fprintf(stderr,
				"  MISMATCH TLS 1.%u %s, hand-off: want %s, "
				"got %s\n", nc->ver - 10, nc->name, w, a);
			bad++;
		}
		if (!ns_match(nc->ssl, ssl)) {
			ns_str(nc->ssl, w, sizeof(w));
			fprintf(stderr,
				"  MISMATCH TLS 1.%u %s, kept SSL: want %s, "
				"got %s\n", nc->ver - 10, nc->name, w, b);
			bad++;
		}
		if (table) {
			printf("| TLS 1.%u | %s | %s | %s | %s |\n",
			       nc->ver - 10, nc->name, a, b,
			       nc->note ? nc->note : "");
		}
	}
	CHECK_EQ(bad, 0);
}

#endif
