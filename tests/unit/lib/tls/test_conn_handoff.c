/*
 * Unit tests for lib/tls/conn_handoff.c's decision: when the SSL stays,
 * whether that is expected (version, suite, configuration: debug log
 * only) or a fallback (a check the hand-off relies on failed: counted in
 * stls_conn_get_counters().handoff_fallbacks and logged as a warning, the
 * first time and then at powers of two), and that a fallback connection
 * works on its SSL. The hand-off itself is tested in test_conn_rec13.c
 * and test_rec12.c.
 */
#include "lib/tls/oc_pair.h"

#include "stls/log.h"

static int warnings;
static char last_warning[256];

static void sink(int level, const char *msg, void *arg)
{
	(void)arg;
	if (level == STLS_L_WARN && strstr(msg, "fell back")) {
		warnings++;
		snprintf(last_warning, sizeof(last_warning), "%s", msg);
	}
}

static void oc_init(struct oc *o, const char *cipher)
{
	bool v12 = cipher && strncmp(cipher, "TLS_", 4) != 0;

	memset(o, 0, sizeof(*o));
	settings_default(&o->set);
	o->seed = 1;
	o->cap = sizeof(o->rx);
	o->sctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key",
			  v12 ? TLS1_2_VERSION : TLS1_3_VERSION,
			  v12 ? TLS1_2_VERSION : TLS1_3_VERSION);
	o->cctx = ctx_new(STLS_ROLE_CLIENT, NULL, NULL,
			  v12 ? TLS1_2_VERSION : TLS1_3_VERSION,
			  v12 ? TLS1_2_VERSION : TLS1_3_VERSION);
	if (v12) {
		CHECK(SSL_CTX_set_cipher_list(o->sctx, cipher));
	} else if (cipher) {
		CHECK(SSL_CTX_set_ciphersuites(o->sctx, cipher));
		CHECK(SSL_CTX_set_ciphersuites(o->cctx, cipher));
	}
}

static uint64_t fallbacks(void)
{
	struct stls_conn_counters k;

	stls_conn_get_counters(&k);
	return k.handoff_fallbacks;
}

/* One connection: handed off or not, and whether it was a fallback. */
static void decide(struct oc *o, bool keep, bool handed, bool fallback)
{
	uint64_t before = fallbacks();

	oc_start(o, keep);
	oc_established(o, handed);
	both_ways(o, "works");
	CHECK_EQ(fallbacks(), before + fallback);
	oc_fini(o);
}

/* Version, suite and configuration keep the SSL without a fallback. */
TEST(expected_reasons_are_not_fallbacks)
{
	struct oc o;

	stls_log_set_sink(sink, NULL);
	warnings = 0;
	oc_init(&o, NULL);
	decide(&o, true, false, false); /* keep_ssl */
	oc_init(&o, "TLS_AES_128_CCM_SHA256");
	CHECK(SSL_CTX_set_ciphersuites(o.cctx, "TLS_AES_128_CCM_SHA256"));
	decide(&o, false, false, false);
	oc_init(&o, "ECDHE-ECDSA-AES128-SHA256"); /* CBC */
	decide(&o, false, false, false);
	oc_init(&o, "ECDHE-ECDSA-AES128-GCM-SHA256");
	o.set.renegotiation = 1;
	decide(&o, false, false, false);
	oc_init(&o, NULL);
	SSL_CTX_set_read_ahead(o.sctx, 1);
	decide(&o, false, false, false);
	oc_init(&o, NULL);
	SSL_CTX_free(o.sctx);
	o.sctx = SSL_CTX_new(TLS_server_method()); /* never prepared */
	CHECK(SSL_CTX_use_certificate_chain_file(
		o.sctx, test_cert_path("server.pem")));
	CHECK(SSL_CTX_use_PrivateKey_file(o.sctx,
					  test_cert_path("server.key"),
					  SSL_FILETYPE_PEM));
	decide(&o, false, false, false);
	oc_init(&o, NULL);
	decide(&o, false, true, false); /* and the normal case */
	CHECK_EQ(warnings, 0);
}

/*
 * A prepared context whose key-log callback was replaced (what a changed
 * OpenSSL that stopped calling it would look like): a fallback, counted
 * and logged, both versions; the connection works on its SSL.
 */
TEST(replaced_callback_is_a_counted_logged_fallback)
{
	static const char *const ciphers[] = {
		"TLS_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
	};
	size_t i;

	stls_log_set_sink(sink, NULL);
	for (i = 0; i < 2; i++) {
		struct oc o;

		warnings = 0;
		oc_init(&o, ciphers[i]);
		SSL_CTX_set_keylog_callback(o.sctx, NULL);
		decide(&o, false, false, true);
		/* The first fallback of this process is logged. */
		if (fallbacks() == 1) {
			CHECK_EQ(warnings, 1);
			CHECK_STR_HAS(last_warning, "key-log callback");
		}
	}
	CHECK_EQ(fallbacks(), 2);
}

/* Warnings at the 1st, 2nd, 4th, 8th... fallback only. */
TEST(fallback_warnings_thin_out)
{
	int i;

	stls_log_set_sink(sink, NULL);
	warnings = 0;
	for (i = 1; i <= 9; i++) {
		struct oc o;

		oc_init(&o, NULL);
		SSL_CTX_set_keylog_callback(o.sctx, NULL);
		decide(&o, false, false, true);
	}
	CHECK_EQ(fallbacks(), 9);
	CHECK_EQ(warnings, 4); /* 1, 2, 4, 8 */
}
