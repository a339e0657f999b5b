/*
 * Unit tests for lib/hsm/hsm.c: key ids, the process-wide set-up (once,
 * same parameters only), routing to the engine or the store, "token
 * absent" told apart from "key not found", and the run-time failure
 * counter with its once-per-interval log line.
 */
#include <errno.h>

#include "stls/log.h"
#include "lib/hsm/softhsm_fixture.h"

TEST(key_ids_are_told_from_files)
{
	CHECK(stls_hsm_is_key_id("/engine:my_HSM_key_label"));
	CHECK(stls_hsm_is_key_id("/engine:pkcs11:token=T;object=K"));
	CHECK(stls_hsm_is_key_id("pkcs11:token=T;object=K"));
	CHECK(stls_hsm_is_key_id("/uri:file:/etc/siptls/key.pem"));
	CHECK(!stls_hsm_is_key_id("/etc/siptls/key.pem"));
	CHECK(!stls_hsm_is_key_id("pkcs11.pem"));
	CHECK(!stls_hsm_is_key_id(NULL));
}

TEST(nothing_set_starts_nothing)
{
	struct stls_hsm_conf c = { .engine = "NONE" };
	struct stls_diag d;

	stls_diag_init(&d);
	CHECK_OK(stls_hsm_init(&c, &d));
	CHECK(!stls_hsm_has_engine());
	CHECK_EQ(d.n, 0);
	stls_hsm_fini();
	stls_diag_fini(&d);
}

TEST(settings_and_conf_give_the_parameters)
{
	struct stls_settings s;
	struct stls_hsm_conf c;

	CHECK_OK(stls_settings_init(&s));
	s.engine = strdup("pkcs11");
	s.engine_algorithms = strdup("ALL");
	stls_hsm_conf_from_settings(&s, &c);
	CHECK_STR_EQ(c.engine, "pkcs11");
	CHECK_STR_EQ(c.engine_algorithms, "ALL");
	CHECK_NULL(c.engine_config);
	CHECK_EQ(c.engine_loc.line, 0);
	stls_settings_fini(&s);
}

TEST(a_missing_token_is_named_not_a_missing_key)
{
	struct stls_hsm_err e;
	struct token_fx fx;
	struct stls_diag d;
	EVP_PKEY *k = NULL;

	token_make(&fx, true);
	stls_diag_init(&d);
	CHECK_OK(token_engine(fx.engine_cnf, &d));
	CHECK_EQ(stls_hsm_key_load("pkcs11:token=absent;object=ec", NULL, &k,
				   &e),
		 -ENODEV);
	CHECK_EQ(e.cause, STLS_HSM_TOKEN_ABSENT);
	CHECK_STR_HAS(e.msg, "token absent");
	CHECK_EQ(stls_hsm_key_load("pkcs11:token=siptls-test;object=absent",
				   NULL, &k, &e),
		 -ENOENT);
	CHECK_EQ(e.cause, STLS_HSM_KEY_NOT_FOUND);
	/* /uri: never goes through the engine. */
	CHECK_EQ(stls_hsm_key_load("/uri:" FX_EC, NULL, &k, &e), -ENODEV);
	CHECK_EQ(e.cause, STLS_HSM_NO_LOADER);
	CHECK_NULL(k);
	stls_hsm_fini();
	stls_diag_fini(&d);
}

static int logged;
static char last[1024];

static void sink(int level, const char *msg, void *arg)
{
	(void)arg;
	if (level == STLS_L_WARN && strstr(msg, "hsm:")) {
		logged++;
		snprintf(last, sizeof(last), "%s", msg);
	}
}

TEST(runtime_failures_are_counted_and_logged_once_per_interval)
{
	uint64_t n0 = stls_hsm_key_failures();
	int i;

	stls_log_set_sink(sink, NULL);
	for (i = 0; i < 5; i++) {
		stls_hsm_key_failed("TLSs<default>", "Object handle invalid");
	}
	stls_log_set_sink(NULL, NULL);
	CHECK_EQ(stls_hsm_key_failures(), n0 + 5);
	CHECK_EQ(logged, 1);
	CHECK_STR_HAS(last, "TLSs<default>");
	CHECK_STR_HAS(last, "Object handle invalid");
	CHECK_STR_HAS(last, "1 failed since the last report");
}
