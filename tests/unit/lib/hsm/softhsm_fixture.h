/*
 * A real PKCS#11 token for the HSM tests: SoftHSM2 (Debian softhsm2,
 * installed by scripts/install-deps.sh) in the case's temporary directory,
 * made with softhsm2-util and filled with pkcs11-tool (Debian opensc):
 * an ECDSA P-256 key labelled "ec" and an RSA-2048 key labelled "rsa",
 * generated inside the token (never extractable). An engine_config in
 * the seed's shape points libp11's pkcs11 engine at the module with the
 * PIN. Header-only, so that each test binary stays one file.
 */
#ifndef STLS_SOFTHSM_FIXTURE_H
#define STLS_SOFTHSM_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#include "stls/hsm.h"
#include "stls/x509.h"
#include "test.h"

#define FX_PIN "1234"
#define FX_LABEL "siptls-test"
#define FX_EC "pkcs11:token=siptls-test;object=ec"
#define FX_RSA "pkcs11:token=siptls-test;object=rsa"

struct token_fx {
	char dir[512];
	char module[256];
	char engine_cnf[600]; /* PIN inside, mode 0600 */
	char nopin_cnf[600];  /* no PIN */
};

/* Runs a shell command; fails the case when it fails. */
static inline void fx_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0) {
		test_fail(__FILE__, __LINE__, "command failed (%d): %s", rc,
			  cmd);
	}
}

static inline void fx_write(const char *path, int mode, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
	CHECK_OK(chmod(path, (mode_t)mode));
}

static inline const char *fx_module(void)
{
	static const char *const paths[] = {
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/softhsm/libsofthsm2.so",
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], R_OK) == 0) {
			return paths[i];
		}
	}
	test_fail(__FILE__, __LINE__, "libsofthsm2.so not found: run "
		  "scripts/install-deps.sh");
}

/* Writes an engine config in the seed's shape; pin NULL: none. */
static inline void fx_engine_cnf(const struct token_fx *fx, const char *path,
				 const char *app, const char *pin, int mode)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "# engine_config for siptls (seed section 9)\n"
		 "%s = openssl_init\n\n[openssl_init]\n"
		 "engines = engine_section\n\n[engine_section]\n"
		 "pkcs11 = pkcs11_section\n\n[pkcs11_section]\n"
		 "engine_id = pkcs11\nMODULE_PATH = %s\n%s%s%sinit = 0\n",
		 app, fx->module, pin ? "PIN = " : "", pin ? pin : "",
		 pin ? "\n" : "");
	fx_write(path, mode, text);
}

/* Makes the token (and its two keys when <keys>) in the case's tmp dir. */
static inline void token_make(struct token_fx *fx, bool keys)
{
	char path[700];

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "%s", test_tmp_dir());
	snprintf(fx->module, sizeof(fx->module), "%s", fx_module());
	snprintf(path, sizeof(path), "%s/tokens", fx->dir);
	CHECK_OK(mkdir(path, 0700));
	snprintf(path, sizeof(path), "%s/softhsm2.conf", fx->dir);
	{
		char text[1024];

		snprintf(text, sizeof(text),
			 "directories.tokendir = %s/tokens\n"
			 "objectstore.backend = file\nlog.level = ERROR\n"
			 "slots.removable = false\n", fx->dir);
		fx_write(path, 0600, text);
	}
	CHECK_OK(setenv("SOFTHSM2_CONF", path, 1));
	fx_sh("softhsm2-util --init-token --free --label %s --so-pin 87654321 "
	      "--pin %s >/dev/null", FX_LABEL, FX_PIN);
	if (keys) {
		fx_sh("pkcs11-tool --module %s --token-label %s --login "
		      "--pin %s --keypairgen --key-type EC:prime256v1 "
		      "--label ec --id 01 >/dev/null 2>&1", fx->module,
		      FX_LABEL, FX_PIN);
		fx_sh("pkcs11-tool --module %s --token-label %s --login "
		      "--pin %s --keypairgen --key-type rsa:2048 --label rsa "
		      "--id 02 >/dev/null 2>&1", fx->module, FX_LABEL,
		      FX_PIN);
	}
	snprintf(fx->engine_cnf, sizeof(fx->engine_cnf), "%s/engine.cnf",
		 fx->dir);
	fx_engine_cnf(fx, fx->engine_cnf, "siptls", FX_PIN, 0600);
	snprintf(fx->nopin_cnf, sizeof(fx->nopin_cnf), "%s/nopin.cnf",
		 fx->dir);
	fx_engine_cnf(fx, fx->nopin_cnf, "siptls", NULL, 0644);
}

/*
 * Sets CKA_SIGN of private key <label> to <sign> through the module
 * itself (pkcs11-tool 0.23 ignores --usage-* when it generates a pair).
 * Call before the engine starts: this initialises and finalises the
 * module.
 */
static inline void token_set_sign(const struct token_fx *fx,
				  const char *label, bool sign)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_BBOOL v = sign ? CK_TRUE : CK_FALSE;
	CK_ATTRIBUTE find[2] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_ATTRIBUTE set = { CKA_SIGN, &v, sizeof(v) };
	CK_C_GetFunctionList gfl;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slots[8];
	CK_ULONG n = 8, found = 0, i;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	void *h = dlopen(fx->module, RTLD_NOW);

	CHECK_NOT_NULL(h);
	*(void **)&gfl = dlsym(h, "C_GetFunctionList");
	CHECK_EQ(gfl(&f), CKR_OK);
	CHECK_EQ(f->C_Initialize(&args), CKR_OK);
	CHECK_EQ(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	/* SoftHSM keeps one free slot besides the token: skip it. */
	for (i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;

		if (f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    (ti.flags & CKF_TOKEN_INITIALIZED)) {
			break;
		}
	}
	CHECK(i < n);
	CHECK_EQ(f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION,
				  NULL, NULL, &s), CKR_OK);
	CHECK_EQ(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)FX_PIN,
			    strlen(FX_PIN)), CKR_OK);
	CHECK_EQ(f->C_FindObjectsInit(s, find, 2), CKR_OK);
	CHECK_EQ(f->C_FindObjects(s, &o, 1, &found), CKR_OK);
	CHECK_EQ(found, 1);
	CHECK_EQ(f->C_FindObjectsFinal(s), CKR_OK);
	CHECK_EQ(f->C_SetAttributeValue(s, o, &set, 1), CKR_OK);
	CHECK_EQ(f->C_Logout(s), CKR_OK);
	CHECK_EQ(f->C_CloseSession(s), CKR_OK);
	CHECK_EQ(f->C_Finalize(NULL), CKR_OK);
	dlclose(h);
}

/* Starts the pkcs11 engine with engine config <cnf>. */
static inline int token_engine(const char *cnf, struct stls_diag *d)
{
	struct stls_hsm_conf c = { .engine = "pkcs11", .engine_config = cnf };

	return stls_hsm_init(&c, d);
}

/* Loads key <id>; fails the case when it cannot. */
static inline EVP_PKEY *token_key(const char *id)
{
	struct stls_hsm_err err;
	EVP_PKEY *k = NULL;
	int rc = stls_hsm_key_load(id, NULL, &k, &err);

	if (rc) {
		test_fail(__FILE__, __LINE__, "load %s: %d %s", id, rc,
			  err.msg);
	}
	return k;
}

/* A self-signed certificate for <key> (signed in the token) at <path>. */
static inline void token_cert(EVP_PKEY *key, const char *cn,
			      const char *path)
{
	struct stls_x509_san san = { STLS_X509_SAN_DNS, cn };
	struct stls_x509_req req = { .profile = STLS_X509_PROFILE_SERVER };
	struct stls_x509_err err = { "" };
	X509 *cert = NULL;

	CHECK_OK(stls_x509_name_parse("/CN=siptls token test", &req.subject,
				      &err));
	req.sans = &san;
	req.n_sans = 1;
	req.days = 30;
	req.key = key;
	if (stls_x509_cert_build(&req, &cert, &err)) {
		test_fail(__FILE__, __LINE__, "cert: %s", err.msg);
	}
	CHECK_OK(stls_x509_certs_write(path, &cert, 1, false, true, &err));
	X509_free(cert);
	X509_NAME_free(req.subject);
}

#endif
