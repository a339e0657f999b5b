/*
 * Unit tests for lib/hsm/hsm_engine.c against a real token: SoftHSM2
 * through libp11's pkcs11 engine (softhsm_fixture.h). Keys load by URI and
 * by the seed's /engine: id, PIN problems are named, engine_algorithms is
 * checked, and concurrent signing with one key from several threads is
 * verified signature by signature and timed (docs/hsm.md quotes it).
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <openssl/rsa.h>

#include "lib/hsm/softhsm_fixture.h"

static struct stls_diag D;

static void start(struct token_fx *fx)
{
	token_make(fx, true);
	stls_diag_init(&D);
	CHECK_OK(token_engine(fx->engine_cnf, &D));
	CHECK(stls_hsm_has_engine());
}

static int load(const char *id, const char *pin, struct stls_hsm_err *e)
{
	EVP_PKEY *k = NULL;
	int rc = stls_hsm_key_load(id, pin, &k, e);

	EVP_PKEY_free(k);
	return rc;
}

TEST(keys_load_by_uri_and_by_engine_id_and_stay_in_the_token)
{
	struct token_fx fx;
	EVP_PKEY *ec, *rsa, *again;

	start(&fx);
	ec = token_key(FX_EC);
	rsa = token_key("/engine:" FX_RSA);
	CHECK_EQ(EVP_PKEY_get_base_id(ec), EVP_PKEY_EC);
	CHECK_EQ(EVP_PKEY_get_bits(ec), 256);
	CHECK_EQ(EVP_PKEY_get_base_id(rsa), EVP_PKEY_RSA);
	CHECK_EQ(EVP_PKEY_get_bits(rsa), 2048);
	CHECK(stls_hsm_key_is_hsm(ec));
	CHECK(stls_hsm_key_is_hsm(rsa));
	/* By id instead of label: the same key. */
	again = token_key("pkcs11:token=siptls-test;id=%01");
	CHECK_EQ(EVP_PKEY_eq(ec, again), 1);
	EVP_PKEY_free(again);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	stls_hsm_fini();
	CHECK(!stls_hsm_has_engine());
	stls_diag_fini(&D);
}

TEST(wrong_pin_is_refused_once_and_not_offered_again)
{
	struct stls_hsm_err e;
	struct token_fx fx;
	char bad[700];

	token_make(&fx, true);
	snprintf(bad, sizeof(bad), "%s/bad.cnf", fx.dir);
	fx_engine_cnf(&fx, bad, "siptls", "9999", 0600);
	stls_diag_init(&D);
	CHECK_OK(token_engine(bad, &D));
	CHECK_EQ(load(FX_EC, NULL, &e), -EACCES);
	CHECK_EQ(e.cause, STLS_HSM_PIN_REFUSED);
	CHECK_STR_HAS(e.msg, "PIN refused");
	CHECK_STR_HAS(e.msg, "PIN incorrect");
	CHECK(!strstr(e.msg, "9999"));
	CHECK_EQ(load(FX_RSA, NULL, &e), -EACCES);
	CHECK_STR_HAS(e.msg, "not offered again");
	stls_hsm_fini();
	stls_diag_fini(&D);
}

TEST(missing_pin_is_named_and_a_profile_password_answers_it)
{
	struct stls_hsm_err e;
	struct token_fx fx;

	token_make(&fx, true);
	stls_diag_init(&D);
	CHECK_OK(token_engine(fx.nopin_cnf, &D));
	CHECK_EQ(load(FX_EC, NULL, &e), -EACCES);
	CHECK_EQ(e.cause, STLS_HSM_PIN_MISSING);
	CHECK_STR_HAS(e.msg, "private_key_password");
	CHECK_OK(load(FX_EC, FX_PIN, &e));
	stls_hsm_fini();
	stls_diag_fini(&D);
}

TEST(pin_value_in_the_uri_logs_in)
{
	struct stls_hsm_err e;
	struct token_fx fx;

	token_make(&fx, true);
	stls_diag_init(&D);
	CHECK_OK(token_engine(fx.nopin_cnf, &D));
	CHECK_OK(load(FX_RSA "?pin-value=" FX_PIN, NULL, &e));
	stls_hsm_fini();
	stls_diag_fini(&D);
}

TEST(unknown_label_and_unparsable_id_are_told_apart)
{
	struct stls_hsm_err e;
	struct token_fx fx;

	start(&fx);
	CHECK_EQ(load("pkcs11:token=siptls-test;object=nokey", NULL, &e),
		 -ENOENT);
	CHECK_EQ(e.cause, STLS_HSM_KEY_NOT_FOUND);
	CHECK_STR_HAS(e.msg, "no private key with that label");
	CHECK_EQ(load("/engine:my_HSM_key_label", NULL, &e), -EINVAL);
	CHECK_EQ(e.cause, STLS_HSM_KEY_ID_INVALID);
	stls_hsm_fini();
	stls_diag_fini(&D);
}

TEST(unknown_engine_and_bad_algorithms_are_reported_at_their_lines)
{
	struct stls_hsm_conf c = { .engine = "nosuchengine" };
	struct token_fx fx;

	token_make(&fx, false);
	stls_diag_init(&D);
	c.engine_loc = (struct stls_loc){ "siptls.conf", 7 };
	CHECK_EQ(stls_hsm_init(&c, &D), -EINVAL);
	CHECK_EQ(D.errors, 1);
	CHECK_STR_EQ(D.v[0].file, "siptls.conf");
	CHECK_EQ(D.v[0].line, 7);
	CHECK_STR_HAS(D.v[0].msg, "engine: engine not found");
	CHECK_STR_HAS(D.v[0].msg, "nosuchengine");
	CHECK(!stls_hsm_has_engine());

	c.engine = "pkcs11";
	c.engine_config = fx.engine_cnf;
	c.engine_algorithms = "RSA,NOPE";
	c.algorithms_loc = (struct stls_loc){ "siptls.conf", 9 };
	CHECK_EQ(stls_hsm_init(&c, &D), -EINVAL);
	CHECK_EQ(D.v[D.n - 1].line, 9);
	CHECK_STR_HAS(D.v[D.n - 1].msg, "unknown method 'NOPE'");
	stls_diag_fini(&D);
}

TEST(engine_algorithms_become_defaults)
{
	struct stls_hsm_conf c = { .engine = "pkcs11",
				   .engine_algorithms = "RSA,EC" };
	struct token_fx fx;
	EVP_PKEY *k;

	token_make(&fx, true);
	c.engine_config = fx.engine_cnf;
	stls_diag_init(&D);
	CHECK_OK(stls_hsm_init(&c, &D));
	/* Same parameters: a no-op; others: refused (one engine). */
	CHECK_OK(stls_hsm_init(&c, &D));
	c.engine_algorithms = "ALL";
	CHECK_EQ(stls_hsm_init(&c, &D), -EALREADY);
	k = token_key(FX_EC);
	EVP_PKEY_free(k);
	stls_hsm_fini();
	stls_diag_fini(&D);
}

/* --- concurrent signing ------------------------------------------------ */

struct signer {
	EVP_PKEY *key;
	int n, ok;
	bool rsa;
};

static void *sign_loop(void *arg)
{
	static const unsigned char msg[] = "concurrent handshake transcript";
	struct signer *s = arg;
	int i;

	for (i = 0; i < s->n; i++) {
		unsigned char sig[512];
		size_t len = sizeof(sig);
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pc = NULL;
		int good;

		good = EVP_DigestSignInit(m, &pc, EVP_sha256(), NULL,
					  s->key) == 1;
		if (good && s->rsa) {
			good = EVP_PKEY_CTX_set_rsa_padding(
				       pc, RSA_PKCS1_PSS_PADDING) > 0;
		}
		good = good && EVP_DigestSign(m, sig, &len, msg,
					      sizeof(msg)) == 1;
		EVP_MD_CTX_reset(m);
		pc = NULL;
		good = good && EVP_DigestVerifyInit(m, &pc, EVP_sha256(),
						    NULL, s->key) == 1;
		if (good && s->rsa) {
			good = EVP_PKEY_CTX_set_rsa_padding(
				       pc, RSA_PKCS1_PSS_PADDING) > 0;
		}
		good = good && EVP_DigestVerify(m, sig, len, msg,
						sizeof(msg)) == 1;
		EVP_MD_CTX_free(m);
		s->ok += good;
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Signs n times on each of <threads> threads; returns signatures/s. */
static double run_signers(EVP_PKEY *k, bool rsa, int threads, int n)
{
	pthread_t t[8];
	struct signer s[8];
	double t0 = now();
	int i;

	for (i = 0; i < threads; i++) {
		s[i] = (struct signer){ k, n, 0, rsa };
		CHECK_OK(pthread_create(&t[i], NULL, sign_loop, &s[i]));
	}
	for (i = 0; i < threads; i++) {
		CHECK_OK(pthread_join(t[i], NULL));
		CHECK_EQ(s[i].ok, n);
	}
	return (double)(threads * n) / (now() - t0);
}

TEST(concurrent_signing_with_one_token_key_is_safe)
{
	struct token_fx fx;
	EVP_PKEY *ec, *rsa;
	double e1, e2, e4, r1, r2;

	start(&fx);
	ec = token_key(FX_EC);
	rsa = token_key(FX_RSA);
	/* Every signature verified: a session shared without a lock
	 * shows up as failed or wrong signatures. */
	e1 = run_signers(ec, false, 1, 300);
	e2 = run_signers(ec, false, 2, 300);
	e4 = run_signers(ec, false, 4, 150);
	r1 = run_signers(rsa, true, 1, 60);
	r2 = run_signers(rsa, true, 2, 60);
	printf("token signatures/s (sign + verify): ECDSA P-256 1 thread "
	       "%.0f, 2 threads %.0f, 4 threads %.0f; RSA-2048 PSS 1 "
	       "thread %.0f, 2 threads %.0f\n", e1, e2, e4, r1, r2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	stls_hsm_fini();
	stls_diag_fini(&D);
}
