/*
 * Unit tests for lib/hsm/hsm_dso.c: a dynamic engine loaded by the
 * engine_config stays mapped after OpenSSL let it go, so its own
 * allocations stay referenced (no false leak at exit).
 */
#include <dlfcn.h>

#include <openssl/crypto.h>

#include "hsm/hsm_int.h"
#include "lib/hsm/softhsm_fixture.h"

static const char *engine_so(char *buf, size_t len)
{
	const char *dir = OpenSSL_version(OPENSSL_ENGINES_DIR);
	const char *q = strchr(dir, '"');

	snprintf(buf, len, "%.*s/pkcs11.so",
		 q ? (int)strcspn(q + 1, "\"") : 0, q ? q + 1 : "");
	return buf;
}

TEST(a_loaded_engine_stays_mapped_after_fini)
{
	struct token_fx fx;
	struct stls_diag d;
	char so[512];
	void *h;

	token_make(&fx, false);
	stls_diag_init(&d);
	CHECK_OK(token_engine(fx.engine_cnf, &d));
	stls_hsm_fini();
	/* OpenSSL's cleanup would unload it now; it must stay. */
	OPENSSL_cleanup();
	h = dlopen(engine_so(so, sizeof(so)), RTLD_LAZY | RTLD_NOLOAD);
	CHECK_NOT_NULL(h);
	dlclose(h);
	stls_diag_fini(&d);
}

TEST(keeping_with_no_engine_loaded_is_harmless)
{
	stls__hsm_keep_engines();
	stls__hsm_keep_engines();
}
