/*
 * `siptlsctl cert ... --key KEY` and `siptlsctl cert csr`: certificates
 * and requests for a key that already exists, in a file or in an HSM.
 *
 * The seed's HSM how-to assumes the certificate for a token key is made
 * elsewhere; these commands make it here. A key id (pkcs11:..., /engine:,
 * /uri:) goes through lib/hsm exactly as siptlsd loads it: --engine names
 * the engine (default pkcs11 for pkcs11: and /engine: ids, the only route
 * to a token on Debian 12), --engine-config the OpenSSL file with
 * MODULE_PATH and PIN (the same file as [tls] engine_config). The request
 * or the self-signed certificate is signed in the token; a certificate
 * from the demo CA (issue --ca) only needs the token's public key.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cert_int.h"
#include "stls/hsm.h"
#include "stls/p11uri.h"

#define PATH_LEN 4096

/* Starts the engine the key id needs, once for this command. */
static int start_hsm(const struct cert_opts *o, const char *id,
		     struct stls_x509_err *err)
{
	struct stls_hsm_conf c = { .engine = o->engine,
				   .engine_config = o->engine_config };
	struct stls_diag d;
	char line[1024];
	size_t i;
	int rc;

	if (!c.engine && strncmp(id, "/uri:", 5) != 0) {
		c.engine = "pkcs11";
	}
	stls_diag_init(&d);
	rc = stls_hsm_init(&c, &d);
	for (i = 0; i < d.n; i++) {
		fprintf(stderr, "siptlsctl cert: %s\n",
			stls_diag_format(&d.v[i], line, sizeof(line)));
	}
	stls_diag_fini(&d);
	if (rc) {
		stls_x509_err_set(err, "cannot start the HSM engine%s",
				  rc == -EINVAL ? " (see above)" : "");
	}
	return rc;
}

static int load_hsm(const struct cert_opts *o, EVP_PKEY **out,
		    struct stls_x509_err *err)
{
	struct stls_hsm_err herr;
	char shown[512];
	int rc;

	rc = start_hsm(o, o->key_file, err);
	if (rc) {
		return rc;
	}
	rc = stls_hsm_key_load(o->key_file, NULL, out, &herr);
	if (rc) {
		stls_x509_err_set(err, "key '%s': %s",
				  stls_p11uri_redact(o->key_file, shown,
						     sizeof(shown)),
				  herr.msg);
	}
	return rc;
}

int stls__cert_key_get(const struct cert_opts *o, EVP_PKEY **out,
		       struct stls_x509_err *err)
{
	if (!o->key_file) {
		if (o->engine || o->engine_config) {
			stls_x509_err_set(err, "--engine and --engine-config "
					  "go with --key");
			return -EINVAL;
		}
		return stls_x509_key_new(&o->key, out, err);
	}
	if (o->key_spec) {
		stls_x509_err_set(err, "--key names an existing key: --rsa "
				  "and --ec make a new one");
		return -EINVAL;
	}
	if (stls_hsm_is_key_id(o->key_file)) {
		return load_hsm(o, out, err);
	}
	return stls_x509_key_read(o->key_file, "key", NULL, out, err);
}

/* Writes OUT/NAME.csr and, for a new key, OUT/NAME.key. */
static int write_csr(const struct cert_opts *o, const char *name,
		     EVP_PKEY *key, X509_REQ *csr, struct stls_x509_err *err)
{
	const char *dir = o->out ? o->out : ".";
	char cp[PATH_LEN], kp[PATH_LEN];
	int rc = 0;

	snprintf(cp, sizeof(cp), "%s/%s.csr", dir, name);
	snprintf(kp, sizeof(kp), "%s/%s.key", dir, name);
	if (!o->key_file) {
		rc = stls_x509_key_write(kp, key, NULL, o->force, err);
	}
	if (!rc) {
		rc = stls_x509_csr_write(cp, csr, o->force, err);
	}
	if (!rc) {
		printf("wrote %s%s%s\n", cp, o->key_file ? "" : " and ",
		       o->key_file ? "" : kp);
	}
	return rc;
}

int stls__cert_cmd_csr(int argc, char **argv)
{
	static const enum cert_opt_id allowed[] = {
		OPT_DNS, OPT_URI, OPT_IP, OPT_EMAIL, OPT_SUBJECT, OPT_RSA,
		OPT_EC, OPT_OUT, OPT_FORCE, OPT_KEY, OPT_ENGINE,
		OPT_ENGINE_CONFIG, OPT_NONE
	};
	struct stls_x509_req req = { .profile = STLS_X509_PROFILE_SERVER };
	struct stls_x509_err err = { "" };
	X509_REQ *csr = NULL;
	struct cert_opts o;
	char uri[300];
	int rc;

	rc = stls__cert_parse("csr", argc, argv, allowed, 1, 1, &o);
	if (rc) {
		return rc;
	}
	if (!stls__cert_name_ok(o.pos[0])) {
		fprintf(stderr, "siptlsctl cert csr: bad NAME '%s': use "
			"letters, digits and . _ @ + -\n", o.pos[0]);
		return CERT_EXIT_USAGE;
	}
	stls__cert_default_sans(&o, o.pos[0], uri, sizeof(uri));
	req.sans = o.sans;
	req.n_sans = o.n_sans;
	rc = stls__cert_subject(&o, o.pos[0], &req.subject, &err);
	if (rc) {
		fprintf(stderr, "siptlsctl cert csr: %s\n", err.msg);
		return CERT_EXIT_USAGE;
	}
	rc = stls__cert_key_get(&o, &req.key, &err);
	if (!rc) {
		rc = stls_x509_csr_build(&req, &csr, &err);
	}
	if (!rc) {
		rc = write_csr(&o, o.pos[0], req.key, csr, &err);
	}
	X509_REQ_free(csr);
	EVP_PKEY_free(req.key);
	X509_NAME_free(req.subject);
	stls_hsm_fini();
	return rc ? stls__cert_fail(err.msg) : CERT_EXIT_OK;
}
