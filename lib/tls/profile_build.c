/*
 * The SSL_CTX settings of one profile.
 *
 * The steps follow the seed's parameters (sections 10.1-10.9, 10.28-10.30):
 * protocol versions from tls_method, the TLS <= 1.2 cipher list and the
 * TLS 1.3 suites, fixed options and modes, the global buffer parameters,
 * verification (profile_verify.c), the SNI callback on server contexts,
 * and the session cache. Each step reports its own problems and the build
 * goes on, so that one run lists everything wrong with a profile. The
 * certificates and keys come next (profile_cert.c), into this context or,
 * for a profile that shares an equal one, beside it (profile_share.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "tls/ossl_err.h"
#include "stls/conn.h"
#include "tls/profile_int.h"

/*
 * BCP 195 (RFC 9325 section 4.2): forward secrecy (ECDHE) and AEAD only; no
 * CBC, no static RSA key exchange, no NULL, EXPORT or RC4. Every entry is a
 * TLS 1.2 suite; TLS 1.3 suites are set apart (cipher_suites).
 */
const char stls_profile_default_cipher_list[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/*
 * TLS 1.3: the three suites OpenSSL enables by default, with the server
 * preferring AES-128-GCM-SHA256, as RFC 9325 allows: its 128-bit
 * strength matches the X25519/P-256 key exchange, and its SHA-256
 * transcript and key schedule use the CPU's SHA extensions where
 * OpenSSL's default first choice (AES-256-GCM-SHA384) cannot: 11% less
 * server CPU per handshake here (docs/performance.md).
 */
const char stls_profile_default_cipher_suites[] =
	"TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
	"TLS_AES_256_GCM_SHA384";

/*
 * OpenSSL 3.0's own key-exchange groups, in its order: what a profile
 * without `groups` offers. Written out so that an SNI switch from a
 * profile with groups to one without can restore them.
 */
const char stls_profile_default_groups[] =
	"X25519:P-256:X448:P-521:P-384:ffdhe2048:ffdhe3072:ffdhe4096:"
	"ffdhe6144:ffdhe8192";

/* How each tls_method value maps onto OpenSSL's version bounds. */
struct method_map {
	const char *name;
	int min, max;     /* 0 = no bound */
	bool legacy;      /* allows versions below TLS 1.2 */
	bool unavailable; /* OpenSSL 3 cannot do it at all */
};

static const struct method_map methods[STLS_METHOD__COUNT] = {
	[STLS_METHOD_SSLV2] = { "SSLv2", 0, 0, true, true },
#ifdef OPENSSL_NO_SSL3
	[STLS_METHOD_SSLV3] = { "SSLv3", 0, 0, true, true },
#else
	[STLS_METHOD_SSLV3] = { "SSLv3", SSL3_VERSION, SSL3_VERSION, true },
#endif
	[STLS_METHOD_SSLV23] = { "SSLv23", 0, 0, true },
	[STLS_METHOD_TLSV1] = { "TLSv1", TLS1_VERSION, TLS1_VERSION, true },
	[STLS_METHOD_TLSV1_PLUS] = { "TLSv1+", TLS1_VERSION, 0, true },
	[STLS_METHOD_TLSV1_1] = { "TLSv1.1", TLS1_1_VERSION, TLS1_1_VERSION,
				  true },
	[STLS_METHOD_TLSV1_1_PLUS] = { "TLSv1.1+", TLS1_1_VERSION, 0, true },
	[STLS_METHOD_TLSV1_2] = { "TLSv1.2", TLS1_2_VERSION, TLS1_2_VERSION },
	[STLS_METHOD_TLSV1_2_PLUS] = { "TLSv1.2+", TLS1_2_VERSION, 0 },
	[STLS_METHOD_TLSV1_3] = { "TLSv1.3", TLS1_3_VERSION, TLS1_3_VERSION },
	[STLS_METHOD_TLSV1_3_PLUS] = { "TLSv1.3+", TLS1_3_VERSION, 0 },
};

static void report(const struct stls__build *b, enum stls_diag_level level,
		   enum stls_pf field, const char *fmt, va_list ap)
{
	const struct stls_loc *loc = &b->c->loc;
	char msg[1024];

	if (field < STLS_PF__COUNT &&
	    stls_loc_is_set(&b->c->field_loc[field])) {
		loc = &b->c->field_loc[field];
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (loc->file) {
		stls_diag_add(b->diag, level, loc->file, loc->line, "%s", msg);
	} else {
		stls_diag_add(b->diag, level, NULL, 0, "%s: %s", b->name, msg);
	}
}

void stls__build_err(const struct stls__build *b, enum stls_pf field,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(b, STLS_DIAG_ERROR, field, fmt, ap);
	va_end(ap);
}

void stls__build_warn(const struct stls__build *b, enum stls_pf field,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(b, STLS_DIAG_WARNING, field, fmt, ap);
	va_end(ap);
}

const char *stls__asn1_time_str(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm) ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		snprintf(buf, len, "(invalid time)");
	}
	return buf;
}

static void apply_method(const struct stls__build *b, SSL_CTX *ctx)
{
	int m = b->c->method;
	const struct method_map *mm;
	char why[STLS_OSSL_ERR_MAX];

	if (m == STLS_METHOD_UNSET) {
		m = STLS_METHOD_TLSV1_2_PLUS;
	}
	if (m < 0 || m >= STLS_METHOD__COUNT) {
		stls__build_err(b, STLS_PF_METHOD, "tls_method: invalid value %d",
				m);
		return;
	}
	mm = &methods[m];
	if (mm->unavailable) {
		stls__build_err(b, STLS_PF_METHOD,
				"tls_method: %s is not available in OpenSSL 3",
				mm->name);
		return;
	}
	stls__ossl_err_clear();
	if (!SSL_CTX_set_min_proto_version(ctx, mm->min) ||
	    !SSL_CTX_set_max_proto_version(ctx, mm->max)) {
		stls__build_err(b, STLS_PF_METHOD,
				"tls_method: OpenSSL refuses %s: %s", mm->name,
				stls__ossl_err_drain(why, sizeof(why)));
		return;
	}
	if (mm->legacy) {
		stls__build_warn(b, STLS_PF_METHOD,
				 "tls_method: %s allows protocols below "
				 "TLS 1.2 (deprecated, RFC 8996); OpenSSL 3 "
				 "refuses them at its default security level "
				 "and the default cipher list has no cipher "
				 "for them: to allow them, set cipher_list "
				 "to e.g. 'DEFAULT:@SECLEVEL=0'",
				 mm->name);
	}
}

static void apply_ciphers(const struct stls__build *b, SSL_CTX *ctx)
{
	const char *list = b->c->cipher_list;
	char why[STLS_OSSL_ERR_MAX];

	if (!has_str(list)) {
		list = stls_profile_default_cipher_list;
	}
	stls__ossl_err_clear();
	if (!SSL_CTX_set_cipher_list(ctx, list)) {
		stls__build_err(b, STLS_PF_CIPHER_LIST,
				"cipher_list: OpenSSL accepts no cipher in "
				"'%s': %s",
				list, stls__ossl_err_drain(why, sizeof(why)));
	}
	list = has_str(b->c->cipher_suites) ? b->c->cipher_suites
					    : stls_profile_default_cipher_suites;
	if (!SSL_CTX_set_ciphersuites(ctx, list)) {
		stls__build_err(b, STLS_PF_CIPHER_SUITES,
				"cipher_suites: OpenSSL refuses '%s': %s",
				list, stls__ossl_err_drain(why, sizeof(why)));
	}
}

/* The key-exchange groups (TLS 1.3 key shares, TLS 1.2 ECDHE curves). */
static void apply_groups(const struct stls__build *b, SSL_CTX *ctx)
{
	char why[STLS_OSSL_ERR_MAX];

	if (!has_str(b->c->groups)) {
		return;
	}
	stls__ossl_err_clear();
	if (!SSL_CTX_set1_groups_list(ctx, b->c->groups)) {
		stls__build_err(b, STLS_PF_GROUPS,
				"groups: OpenSSL refuses '%s': %s",
				b->c->groups,
				stls__ossl_err_drain(why, sizeof(why)));
	}
}

/* Options, modes and the global buffer parameters (seed 10.14-10.18). */
static void apply_options(const struct stls__build *b, SSL_CTX *ctx)
{
	const struct stls_settings *s = b->s;
	uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE;

	if (s->renegotiation == 1) {
		/* OpenSSL 3 refuses client renegotiation unless asked. */
		opts |= SSL_OP_ALLOW_CLIENT_RENEGOTIATION;
	} else {
		opts |= SSL_OP_NO_RENEGOTIATION;
	}
	SSL_CTX_set_options(ctx, opts);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (s->ssl_release_buffers == 1) {
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	} else if (s->ssl_release_buffers == 0) {
		SSL_CTX_clear_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	}
	if (s->ssl_max_send_fragment >= 512 &&
	    s->ssl_max_send_fragment <= 16384) {
		SSL_CTX_set_max_send_fragment(ctx,
					      (long)s->ssl_max_send_fragment);
	}
	if (s->ssl_read_ahead == 0 || s->ssl_read_ahead == 1) {
		SSL_CTX_set_read_ahead(ctx, s->ssl_read_ahead);
	}
}

static void apply_session(const struct stls__build *b, SSL_CTX *ctx)
{
	const struct stls_settings *s = b->s;
	const char *sid = has_str(s->session_id) ? s->session_id : "siptls";

	SSL_CTX_set_session_cache_mode(ctx, s->session_cache == 1 ?
					    SSL_SESS_CACHE_SERVER :
					    SSL_SESS_CACHE_OFF);
	/* Length checked once for the whole set (profile_set.c). */
	if (strlen(sid) <= SSL_MAX_SID_CTX_LENGTH) {
		SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid,
					       (unsigned int)strlen(sid));
	}
	/* session_tickets = 0: neither TLS 1.2 tickets nor TLS 1.3 ones
	 * (stateless or stateful), so with the cache off nothing resumes. */
	if (!s->session_tickets)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (b->c->role == STLS_ROLE_SERVER) {
		SSL_CTX_set_num_tickets(ctx, s->session_tickets ?
						     STLS_PROFILE_NUM_TICKETS :
						     0);
		/* Connections may hand their record layer to the engine
		 * (docs/engine.md) only when asked: a prepared context makes
		 * OpenSSL format key-log lines for every connection. */
		if (s->record_handoff &&
		    stls_conn_ctx_apply_ex(ctx, STLS_PROFILE_LIBCTX,
					   STLS_PROFILE_PROPQ) != 0) {
			stls__build_warn(b, STLS_PF__COUNT,
					 "record hand-off unavailable");
		}
	}
}

int stls__profile_ctx_new(const struct stls__build *b, SSL_CTX **out)
{
	SSL_CTX *ctx;
	int err = 0;

	stls__ossl_err_clear();
	ctx = SSL_CTX_new_ex(STLS_PROFILE_LIBCTX, STLS_PROFILE_PROPQ,
			     TLS_method());
	if (!ctx) {
		ERR_clear_error();
		return -ENOMEM;
	}
	apply_method(b, ctx);
	apply_ciphers(b, ctx);
	apply_groups(b, ctx);
	apply_options(b, ctx);
	stls__profile_verify_apply(b, ctx);
	if (b->c->role == STLS_ROLE_SERVER) {
		err = stls__profile_sni_install(ctx);
	}
	apply_session(b, ctx);
	/* After the hand-off's preparation, which the log then chains. */
	if (b->keylog) {
		stls__keylog_install(ctx);
	}
	if (err) {
		SSL_CTX_free(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}
