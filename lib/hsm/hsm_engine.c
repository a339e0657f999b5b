/*
 * The engine key source: the only file of siptls that calls OpenSSL's
 * ENGINE API, deprecated since OpenSSL 3.0 and still the working route to
 * a PKCS#11 token on Debian 12 (libp11's pkcs11 engine, package
 * libengine-pkcs11-openssl). It is built only when the headers still
 * declare the API (CMake checks; STLS_HAVE_ENGINE). Replacing it with a
 * provider touches nothing else: see hsm_int.h and docs/hsm.md.
 *
 * One engine per process (the seed: "only a single global engine"),
 * started before the workers: ENGINE_by_id() finds it (built in, loaded by
 * engine_config, or the shared object of that name in OpenSSL's engines
 * directory), ENGINE_init() takes the functional reference that keys
 * loaded from it rely on, and engine_algorithms becomes
 * ENGINE_set_default_string(). Keys come from ENGINE_load_private_key()
 * with our PIN prompt (hsm_pin.c).
 *
 * Threads: start/stop on the main thread, load on the control thread.
 * Signing with the keys happens on every worker at once; libp11 keeps a
 * pool of PKCS#11 sessions per token with its own locks (checked by
 * tests/unit/lib/hsm/test_hsm_engine.c, measured in docs/hsm.md).
 */
#undef OPENSSL_NO_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>

#include "hsm/hsm_int.h"

/* The functional reference from start() to stop(). */
static ENGINE *engine;

/* The names ENGINE_set_default_string() knows (seed 10.37). */
static const char *const algorithm_names[] = {
	"ALL", "RSA", "DSA", "DH", "EC", "RAND", "CIPHERS", "DIGESTS",
	"PKEY", "PKEY_CRYPTO", "PKEY_ASN1",
};

/* Checks every comma-separated name of <list>; 0 or -EINVAL (err set). */
static int algorithms_validate(const char *list, struct stls_hsm_err *err)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ","), i;
		bool known = false;

		for (i = 0; i < STLS_ARRAY_SIZE(algorithm_names); i++) {
			known |= strlen(algorithm_names[i]) == n &&
				 strncasecmp(p, algorithm_names[i], n) == 0;
		}
		if (!known) {
			stls__hsm_err_set(err, STLS_HSM_ENGINE_ALGORITHMS,
					  "engine algorithms refused: unknown "
					  "method '%.*s' (use ALL, RSA, DSA, "
					  "DH, EC, RAND, CIPHERS, DIGESTS, "
					  "PKEY, PKEY_CRYPTO, PKEY_ASN1)",
					  (int)n, p);
			return -EINVAL;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

static int find_engine(const char *id, ENGINE **out, struct stls_hsm_err *err)
{
	char why[256];
	ENGINE *e;

	ERR_clear_error();
	e = ENGINE_by_id(id);
	if (e) {
		*out = e;
		return 0;
	}
	(void)stls__hsm_cause_drain(STLS_HSM_ENGINE_NOT_FOUND, why,
				    sizeof(why));
	stls__hsm_err_set(err, STLS_HSM_ENGINE_NOT_FOUND,
			  "engine not found: no engine '%s' (looked in "
			  "engine_config and in %s): %s", id,
			  OpenSSL_version(OPENSSL_ENGINES_DIR), why);
	return -ENODEV;
}

static int engine_start(const char *id, const char *algorithms, bool quiet,
			struct stls_hsm_err *err)
{
	char why[256];
	ENGINE *e = NULL;
	int rc;

	if (engine) {
		return 0;
	}
	if (algorithms && algorithms_validate(algorithms, err)) {
		return -EINVAL;
	}
	rc = find_engine(id, &e, err);
	if (rc) {
		return rc;
	}
	if (!ENGINE_init(e)) {
		(void)stls__hsm_cause_drain(STLS_HSM_ENGINE_INIT, why,
					    sizeof(why));
		stls__hsm_err_set(err, STLS_HSM_ENGINE_INIT,
				  "engine failed to start: '%s' refused "
				  "ENGINE_init: %s", id, why);
		ENGINE_free(e);
		return -ENODEV;
	}
	/* The functional reference keeps it; drop the structural one. */
	ENGINE_free(e);
	/* libp11 prints its failures on stderr unless told: our messages
	 * name them instead. Other engines ignore the optional command. */
	if (quiet) {
		(void)ENGINE_ctrl_cmd_string(e, "QUIET", NULL, 1);
	}
	ERR_clear_error();
	if (algorithms && !ENGINE_set_default_string(e, algorithms)) {
		(void)stls__hsm_cause_drain(STLS_HSM_ENGINE_ALGORITHMS, why,
					    sizeof(why));
		stls__hsm_err_set(err, STLS_HSM_ENGINE_ALGORITHMS,
				  "engine algorithms refused: '%s' does not "
				  "offer '%s': %s", id, algorithms, why);
		ENGINE_finish(e);
		return -EINVAL;
	}
	engine = e;
	return 0;
}

static int engine_load(const char *id, const char *pin, EVP_PKEY **out,
		       struct stls_hsm_err *err)
{
	struct stls__hsm_pin ask = { pin, false };
	enum stls_hsm_cause cause;
	char why[256];
	EVP_PKEY *k;

	if (!engine) {
		stls__hsm_err_set(err, STLS_HSM_NO_ENGINE,
				  "no engine configured: set [tls] engine");
		return -ENODEV;
	}
	ERR_clear_error();
	k = ENGINE_load_private_key(engine, id, stls__hsm_ui(), &ask);
	if (k) {
		*out = k;
		return 0;
	}
	cause = stls__hsm_cause_drain(STLS_HSM_KEY_NOT_FOUND, why,
				      sizeof(why));
	if (ask.asked && !pin) {
		cause = STLS_HSM_PIN_MISSING;
	}
	stls__hsm_err_set(err, cause, "%s: %s", stls_hsm_cause_names[cause],
			  why);
	return stls__hsm_cause_errno(cause);
}

static void engine_stop(void)
{
	if (engine) {
		ENGINE_finish(engine);
		engine = NULL;
	}
}

const struct stls__hsm_source stls__hsm_engine_source = {
	.name = "engine",
	.start = engine_start,
	.load = engine_load,
	.stop = engine_stop,
};
