/*
 * Unit tests for lib/hsm/hsm_conf.c: engine_config read, checked and
 * applied: unreadable and invalid files named, a PIN that others may read
 * warned about, the seed's "kamailio =" key accepted, MODULE_PATH found.
 */
#include <errno.h>

#include "hsm/hsm_int.h"
#include "lib/hsm/softhsm_fixture.h"

static struct stls_diag D;
static char module[4096];
static const struct stls_loc LOC = { "siptls.conf", 12 };

static int apply(const char *path, const char *engine)
{
	return stls__hsm_conf_apply(path, engine, &LOC, &D, module,
				    sizeof(module));
}

static const char *wfile(const char *name, int mode, const char *text)
{
	static char path[4][700];
	static int i;
	char *p = path[i++ % 4];

	snprintf(p, 700, "%s/%s", test_tmp_dir(), name);
	fx_write(p, mode, text);
	return p;
}

TEST(a_missing_file_is_unreadable_at_the_parameter_line)
{
	stls_diag_init(&D);
	CHECK_EQ(apply("/nonexistent/openssl.cnf", "pkcs11"), -ENOENT);
	CHECK_EQ(D.errors, 1);
	CHECK_EQ(D.v[0].line, 12);
	CHECK_STR_HAS(D.v[0].msg, "engine config unreadable");
	CHECK_STR_HAS(D.v[0].msg, "No such file");
	stls_diag_fini(&D);
}

TEST(a_syntax_error_is_invalid_with_its_line)
{
	stls_diag_init(&D);
	CHECK_EQ(apply(wfile("bad.cnf", 0600, "siptls = x\n[x\n"), NULL),
		 -EINVAL);
	CHECK_STR_HAS(D.v[0].msg, "engine config invalid");
	CHECK_STR_HAS(D.v[0].msg, "line 2");
	stls_diag_fini(&D);
}

TEST(a_pin_readable_by_others_is_warned_about)
{
	struct token_fx fx;
	const char *p;

	token_make(&fx, false);
	stls_diag_init(&D);
	p = wfile("open.cnf", 0644, "");
	fx_engine_cnf(&fx, p, "siptls", "1234", 0644);
	CHECK_OK(apply(p, "pkcs11"));
	CHECK_EQ(D.errors, 0);
	CHECK_EQ(D.warnings, 1);
	CHECK_STR_HAS(D.v[0].msg, "holds a PIN or password");
	CHECK_STR_HAS(D.v[0].msg, "0644");
	CHECK(!strstr(D.v[0].msg, "1234"));
	CHECK_STR_EQ(module, fx.module);
	stls_diag_fini(&D);
}

TEST(a_private_pin_file_and_a_file_without_pin_are_fine)
{
	struct token_fx fx;

	token_make(&fx, false);
	stls_diag_init(&D);
	CHECK_OK(apply(fx.engine_cnf, "pkcs11")); /* PIN, mode 0600 */
	CHECK_EQ(D.n, 0);
	stls_diag_fini(&D);
	stls_diag_init(&D);
	CHECK_OK(apply(fx.nopin_cnf, "pkcs11")); /* no PIN, mode 0644 */
	CHECK_EQ(D.n, 0);
	stls_diag_fini(&D);
}

TEST(the_seed_file_with_kamailio_key_applies_unchanged)
{
	struct token_fx fx;
	const char *p;

	token_make(&fx, false);
	stls_diag_init(&D);
	p = wfile("luna.cnf", 0600, "");
	fx_engine_cnf(&fx, p, "kamailio", "1234", 0600);
	CHECK_OK(apply(p, "pkcs11"));
	CHECK_EQ(D.n, 0);
	CHECK_STR_EQ(module, fx.module);
	stls_diag_fini(&D);
}

TEST(a_file_for_no_application_is_warned_about)
{
	stls_diag_init(&D);
	CHECK_OK(apply(wfile("none.cnf", 0600, "[x]\ny = 1\n"), "pkcs11"));
	CHECK_EQ(D.warnings, 1);
	CHECK_STR_HAS(D.v[0].msg, "nothing in it applies");
	CHECK_STR_EQ(module, "");
	stls_diag_fini(&D);
}

TEST(an_engine_openssl_cannot_load_fails_the_file)
{
	stls_diag_init(&D);
	CHECK_EQ(apply(wfile("dyn.cnf", 0600,
			     "siptls = init\n[init]\nengines = e\n[e]\n"
			     "gem = gem_section\n[gem_section]\n"
			     "dynamic_path = /nonexistent/libgem.so\n"),
		       "gem"),
		 -EINVAL);
	CHECK_EQ(D.errors, 1);
	CHECK_STR_HAS(D.v[0].msg, "OpenSSL cannot apply");
	stls_diag_fini(&D);
}
