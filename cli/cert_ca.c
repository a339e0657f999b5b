/*
 * `siptlsctl cert ca init | issue | selfsigned | revoke | crl`: the commands
 * that create keys and sign things. The X.509 work is in lib/x509; this
 * file turns options into requests, picks default names and writes files.
 *
 * Default names (RFC 5922 §7.1): a server certificate given no --dns,
 * --uri or --ip gets DNS:NAME and URI:sip:NAME when NAME is a host name,
 * or IP:NAME when it is an address, because a SIP peer checks the domain
 * it wanted against those entries (the CN is only a fallback).
 *
 * A key and its certificate are written as a pair: both go to temporary
 * "*.new" files first and are renamed only when both exist, so a failure
 * never leaves a key without its certificate or the reverse.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cert_int.h"
#include "stls/hsm.h"
#include "stls/secret.h"
#include "stls/x509_ca.h"

#define PATH_LEN 4096
#define PASS_LEN STLS_SECRET_MAX

static int bad_name(const char *cmd, const char *name)
{
	fprintf(stderr, "siptlsctl cert %s: bad NAME '%s': use letters, "
		"digits and . _ @ + - (it names the output files)\n", cmd,
		name);
	stls__cert_usage(cmd);
	return CERT_EXIT_USAGE;
}

/* Reads --pass-file into pass; sets *pp to pass or NULL. */
static int get_pass(const struct cert_opts *o, char *pass, const char **pp)
{
	*pp = NULL;
	if (!o->pass_file) {
		return 0;
	}
	if (stls__cert_read_pass(o->pass_file, pass, PASS_LEN)) {
		return -EINVAL;
	}
	*pp = pass;
	return 0;
}

/* Writes OUT/NAME.key and OUT/NAME.pem (cert, then the CA when given). */
static int write_pair(const struct cert_opts *o, const char *name,
		      EVP_PKEY *key, X509 *cert, X509 *ca,
		      struct stls_x509_err *err)
{
	const char *dir = o->out ? o->out : ".";
	char kp[PATH_LEN], cp[PATH_LEN], kn[PATH_LEN + 8], cn[PATH_LEN + 8];
	X509 *chain[2] = { cert, ca };
	int rc = 0;

	snprintf(kp, sizeof(kp), "%s/%s.key", dir, name);
	snprintf(cp, sizeof(cp), "%s/%s.pem", dir, name);
	snprintf(kn, sizeof(kn), "%s.new", kp);
	snprintf(cn, sizeof(cn), "%s.new", cp);
	if (o->key_file) {
		/* The key exists already (a file or a token): only the
		 * certificate is new. */
		rc = stls_x509_certs_write(cp, chain, ca ? 2 : 1, false,
					   o->force, err);
		if (!rc) {
			printf("wrote %s (the key stays where --key names "
			       "it)\n", cp);
		}
		return rc;
	}
	if (!o->force && (access(kp, F_OK) == 0 || access(cp, F_OK) == 0)) {
		stls_x509_err_set(err, "'%s' already exists: use --force to "
				  "replace it",
				  access(cp, F_OK) == 0 ? cp : kp);
		return -EEXIST;
	}
	rc = stls_x509_key_write(kn, key, NULL, true, err);
	if (!rc) {
		rc = stls_x509_certs_write(cn, chain, ca ? 2 : 1, false, true,
					   err);
	}
	if (!rc && rename(kn, kp) < 0) {
		rc = -errno;
		stls_x509_err_set(err, "cannot write '%s': %s", kp,
				  strerror(errno));
	}
	if (!rc && rename(cn, cp) < 0) {
		rc = -errno;
		stls_x509_err_set(err, "cannot write '%s': %s", cp,
				  strerror(errno));
		unlink(kp);
	}
	unlink(kn);
	unlink(cn);
	if (!rc) {
		printf("wrote %s and %s\n", cp, kp);
	}
	return rc;
}

static void print_cert_line(X509 *cert)
{
	char serial[64], t[64];

	printf("serial %s, valid until %s\n",
	       stls_x509_serial_hex(cert, serial, sizeof(serial)),
	       stls__cert_time(X509_get0_notAfter(cert), t, sizeof(t)));
}

int stls__cert_cmd_ca(int argc, char **argv)
{
	static const enum cert_opt_id allowed[] = {
		OPT_SUBJECT, OPT_DAYS, OPT_RSA, OPT_EC, OPT_PASS_FILE,
		OPT_FORCE, OPT_NONE
	};
	struct stls_x509_ca_params p = { 0 };
	struct stls_x509_err err = { "" };
	struct cert_opts o;
	char pass[PASS_LEN];
	int rc;

	rc = stls__cert_parse("ca", argc, argv, allowed, 2, 2, &o);
	if (rc) {
		return rc;
	}
	if (strcmp(o.pos[0], "init") != 0) {
		fprintf(stderr, "siptlsctl cert ca: unknown action '%s'\n",
			o.pos[0]);
		stls__cert_usage("ca");
		return CERT_EXIT_USAGE;
	}
	if (get_pass(&o, pass, &p.pass)) {
		return CERT_EXIT_FAIL;
	}
	p.days = o.days ? o.days : 3650;
	p.key = o.key;
	p.force = o.force;
	rc = stls_x509_name_parse(o.subject ? o.subject
					    : "/O=siptls/CN=siptls SIP CA",
				  &p.subject, &err);
	if (rc) {
		OPENSSL_cleanse(pass, sizeof(pass));
		fprintf(stderr, "siptlsctl cert ca: %s\n", err.msg);
		return CERT_EXIT_USAGE;
	}
	rc = stls_x509_ca_create(o.pos[1], &p, &err);
	OPENSSL_cleanse(pass, sizeof(pass));
	X509_NAME_free(p.subject);
	if (rc) {
		return stls__cert_fail(err.msg);
	}
	printf("created CA in %s: %s/ca.pem, %s/ca.key (%s%s)\n", o.pos[1],
	       o.pos[1], o.pos[1],
	       o.key.type == STLS_X509_KEY_RSA ? "RSA" : "EC P-256",
	       p.pass ? ", encrypted" : "");
	return CERT_EXIT_OK;
}

/* Signs with the CA in --ca, writes the pair, records it. */
static int issue_signed(const struct cert_opts *o, struct stls_x509_req *req,
			const char *name, struct stls_x509_err *err)
{
	struct stls_x509_ca *ca = NULL;
	char pass[PASS_LEN];
	const char *pp = NULL;
	X509 *cert = NULL;
	int rc;

	if (get_pass(o, pass, &pp)) {
		return -EINVAL;
	}
	rc = stls_x509_ca_open(o->ca_dir, pp, &ca, err);
	OPENSSL_cleanse(pass, sizeof(pass));
	if (!rc) {
		rc = stls_x509_ca_issue(ca, req, &cert, err);
	}
	if (!rc) {
		rc = write_pair(o, name, req->key, cert,
				o->chain ? stls_x509_ca_get0_cert(ca) : NULL,
				err);
	}
	if (!rc) {
		rc = stls_x509_ca_record(ca, cert, req->profile, name, err);
		if (rc) {
			char path[PATH_LEN];
			const char *dir = o->out ? o->out : ".";

			snprintf(path, sizeof(path), "%s/%s.key", dir, name);
			if (!o->key_file) {
				unlink(path);
			}
			snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
			unlink(path);
		}
	}
	if (!rc) {
		print_cert_line(cert);
	}
	X509_free(cert);
	stls_x509_ca_free(ca);
	return rc;
}

/* Shared by issue and selfsigned: key, subject, names, then sign. */
static int make_leaf(const char *cmd, struct cert_opts *o,
		     enum stls_x509_profile profile, const char *name)
{
	struct stls_x509_req req = { .profile = profile };
	struct stls_x509_err err = { "" };
	char uri[300];
	int rc;

	if (!stls__cert_name_ok(name)) {
		return bad_name(cmd, name);
	}
	if (profile == STLS_X509_PROFILE_SERVER) {
		stls__cert_default_sans(o, name, uri, sizeof(uri));
	}
	req.sans = o->sans;
	req.n_sans = o->n_sans;
	req.days = o->days ? o->days : 825;
	rc = stls__cert_subject(o, name, &req.subject, &err);
	if (rc) {
		fprintf(stderr, "siptlsctl cert %s: %s\n", cmd, err.msg);
		return CERT_EXIT_USAGE;
	}
	rc = stls__cert_key_get(o, &req.key, &err);
	if (!rc && o->ca_dir) {
		rc = issue_signed(o, &req, name, &err);
	} else if (!rc) {
		X509 *cert = NULL;

		rc = stls_x509_cert_build(&req, &cert, &err);
		if (!rc) {
			rc = write_pair(o, name, req.key, cert, NULL, &err);
		}
		if (!rc) {
			print_cert_line(cert);
		}
		X509_free(cert);
	}
	EVP_PKEY_free(req.key);
	X509_NAME_free(req.subject);
	stls_hsm_fini(); /* a --key in an HSM started it */
	if (rc == -EINVAL && !err.msg[0]) {
		return CERT_EXIT_FAIL;
	}
	return rc ? stls__cert_fail(err.msg) : CERT_EXIT_OK;
}

int stls__cert_cmd_issue(int argc, char **argv)
{
	static const enum cert_opt_id allowed[] = {
		OPT_CA, OPT_DNS, OPT_URI, OPT_IP, OPT_EMAIL, OPT_SUBJECT,
		OPT_DAYS, OPT_RSA, OPT_EC, OPT_OUT, OPT_CHAIN, OPT_FORCE,
		OPT_PASS_FILE, OPT_KEY, OPT_ENGINE, OPT_ENGINE_CONFIG,
		OPT_NONE
	};
	enum stls_x509_profile profile;
	struct cert_opts o;
	int rc;

	rc = stls__cert_parse("issue", argc, argv, allowed, 2, 2, &o);
	if (rc) {
		return rc;
	}
	if (strcmp(o.pos[0], "server") == 0) {
		profile = STLS_X509_PROFILE_SERVER;
	} else if (strcmp(o.pos[0], "client") == 0) {
		profile = STLS_X509_PROFILE_CLIENT;
	} else {
		fprintf(stderr, "siptlsctl cert issue: '%s' is neither "
			"server nor client\n", o.pos[0]);
		stls__cert_usage("issue");
		return CERT_EXIT_USAGE;
	}
	if (!o.ca_dir) {
		fprintf(stderr, "siptlsctl cert issue: --ca DIR is required "
			"(or use: siptlsctl cert selfsigned)\n");
		stls__cert_usage("issue");
		return CERT_EXIT_USAGE;
	}
	return make_leaf("issue", &o, profile, o.pos[1]);
}

int stls__cert_cmd_selfsigned(int argc, char **argv)
{
	static const enum cert_opt_id allowed[] = {
		OPT_DNS, OPT_URI, OPT_IP, OPT_EMAIL, OPT_SUBJECT, OPT_DAYS,
		OPT_RSA, OPT_EC, OPT_OUT, OPT_FORCE, OPT_KEY, OPT_ENGINE,
		OPT_ENGINE_CONFIG, OPT_NONE
	};
	struct cert_opts o;
	int rc;

	rc = stls__cert_parse("selfsigned", argc, argv, allowed, 1, 1, &o);
	if (rc) {
		return rc;
	}
	return make_leaf("selfsigned", &o, STLS_X509_PROFILE_SERVER,
			 o.pos[0]);
}

static int open_ca(const struct cert_opts *o, struct stls_x509_ca **ca,
		   struct stls_x509_err *err)
{
	char pass[PASS_LEN];
	const char *pp = NULL;
	int rc;

	err->msg[0] = '\0';
	if (get_pass(o, pass, &pp)) {
		return -EINVAL;
	}
	rc = stls_x509_ca_open(o->ca_dir, pp, ca, err);
	OPENSSL_cleanse(pass, sizeof(pass));
	return rc;
}

int stls__cert_cmd_revoke(int argc, char **argv)
{
	static const enum cert_opt_id allowed[] = {
		OPT_CA, OPT_REASON, OPT_PASS_FILE, OPT_NONE
	};
	struct stls_x509_ca *ca = NULL;
	struct stls_x509_err err = { "" };
	struct cert_opts o;
	char serial[64];
	X509 *cert = NULL;
	int rc;

	rc = stls__cert_parse("revoke", argc, argv, allowed, 1, 1, &o);
	if (rc) {
		return rc;
	}
	if (!o.ca_dir) {
		fprintf(stderr, "siptlsctl cert revoke: --ca DIR is "
			"required\n");
		return CERT_EXIT_USAGE;
	}
	rc = stls_x509_cert_read(o.pos[0], "certificate", &cert, &err);
	if (!rc) {
		rc = open_ca(&o, &ca, &err);
	}
	if (!rc) {
		rc = stls_x509_ca_revoke(ca, cert, o.reason, &err);
	}
	if (!rc) {
		printf("revoked serial %s (%s); now publish a new CRL: "
		       "siptlsctl cert crl --ca %s --out FILE\n",
		       stls_x509_serial_hex(cert, serial, sizeof(serial)),
		       stls_x509_reason_name(o.reason), o.ca_dir);
	}
	X509_free(cert);
	stls_x509_ca_free(ca);
	if (rc && !err.msg[0]) {
		return CERT_EXIT_FAIL;
	}
	return rc ? stls__cert_fail(err.msg) : CERT_EXIT_OK;
}

int stls__cert_cmd_crl(int argc, char **argv)
{
	static const enum cert_opt_id allowed[] = {
		OPT_CA, OPT_OUT, OPT_DAYS, OPT_PASS_FILE, OPT_NONE
	};
	struct stls_x509_ca *ca = NULL;
	struct stls_x509_err err = { "" };
	X509_CRL *crl = NULL;
	struct cert_opts o;
	char path[PATH_LEN], t[64];
	int rc;

	rc = stls__cert_parse("crl", argc, argv, allowed, 0, 0, &o);
	if (rc) {
		return rc;
	}
	if (!o.ca_dir) {
		fprintf(stderr, "siptlsctl cert crl: --ca DIR is required\n");
		return CERT_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "%s", o.out ? o.out : "");
	if (!o.out) {
		snprintf(path, sizeof(path), "%s/crl.pem", o.ca_dir);
	}
	rc = open_ca(&o, &ca, &err);
	if (!rc) {
		rc = stls_x509_ca_crl(ca, o.days ? o.days : 30, &crl, &err);
	}
	if (!rc) {
		rc = stls_x509_crl_write(path, crl, &err);
	}
	if (!rc) {
		printf("wrote %s: CRL number %lu, %d revoked, next update "
		       "%s\n", path,
		       stls_x509_ca_get0_state(ca)->crl_number - 1,
		       /* An empty CRL has no stack at all (-1). */
		       sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) > 0
			       ? sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl))
			       : 0,
		       stls__cert_time(X509_CRL_get0_nextUpdate(crl), t,
				       sizeof(t)));
	}
	X509_CRL_free(crl);
	stls_x509_ca_free(ca);
	if (rc && !err.msg[0]) {
		return CERT_EXIT_FAIL;
	}
	return rc ? stls__cert_fail(err.msg) : CERT_EXIT_OK;
}
