/*
 * A hosted platform's TLS configuration, made at test or bench time: one
 * CA, one ECDSA P-256 certificate per tenant, and a tls.cfg with one
 * [server:any] profile per tenant, plus [server:default].
 *
 * Tenant i is named "t<i>.<domain>"; with every_wildcard = k > 0, every
 * k-th tenant (i % k == k - 1) is a wildcard tenant instead:
 * "*.w<i>.<domain>". Files in <dir>: ca.pem, default.pem/.key,
 * t<i>.pem/.key, tls.cfg (paths relative to <dir>), and siptlsd.conf (a
 * main config naming tls.cfg, listening on 127.0.0.1:<port>).
 *
 * Keys and certificates come from libsiptls's X.509 helpers (the code
 * behind `siptlsctl cert`); files are written directly (no fsync: test
 * data). Header-only so that a test and a bench program can share it.
 * Returns 0 or a negative errno; prints the reason on stderr.
 */
#ifndef STLS_TEST_TENANTS_GEN_H
#define STLS_TEST_TENANTS_GEN_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "stls/x509.h"

struct tenants_spec {
	const char *dir;    /* existing, writable */
	int n;              /* number of tenants, >= 0 */
	const char *domain; /* "tenants.example" */
	int every_wildcard; /* 0: none */
	int port;           /* siptlsd.conf's TLS listener */
};

/* The server_name of tenant <i> into buf. */
static inline const char *tenants_name(const struct tenants_spec *s, int i,
				       char *buf, size_t len)
{
	int k = s->every_wildcard;

	if (k > 0 && i % k == k - 1) {
		snprintf(buf, len, "*.w%d.%s", i, s->domain);
	} else {
		snprintf(buf, len, "t%d.%s", i, s->domain);
	}
	return buf;
}

/* A name tenant <i> answers to (the wildcard's label filled in). */
static inline const char *tenants_sni(const struct tenants_spec *s, int i,
				      char *buf, size_t len)
{
	int k = s->every_wildcard;

	if (k > 0 && i % k == k - 1) {
		snprintf(buf, len, "x%d.w%d.%s", i, i, s->domain);
	} else {
		snprintf(buf, len, "t%d.%s", i, s->domain);
	}
	return buf;
}

static inline int tenants_write(const char *dir, const char *file, X509 *x,
				EVP_PKEY *key)
{
	char path[4096];
	FILE *f = NULL;
	int fd, ok;

	/* Keys 0600, as a deployment keeps them (no mode warning). */
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		  x ? 0644 : 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		fprintf(stderr, "tenants: %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return -EIO;
	}
	ok = x ? PEM_write_X509(f, x)
	       : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok ? 0 : -EIO;
}

/* One certificate for <cn> (issued by ca/ca_key, or self-signed CA). */
static inline int tenants_cert(const char *dir, const char *stem,
			       const char *cn, X509 *ca, EVP_PKEY *ca_key,
			       X509 **xout, EVP_PKEY **kout)
{
	struct stls_x509_keyspec ks = { STLS_X509_KEY_EC, 0 };
	struct stls_x509_san san = { STLS_X509_SAN_DNS, cn };
	struct stls_x509_req req = { 0 };
	struct stls_x509_err e = { "" };
	char subj[512], file[512];
	X509_NAME *name = NULL;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int err;

	snprintf(subj, sizeof(subj), "/CN=%s", cn);
	err = stls_x509_key_new(&ks, &key, &e);
	if (!err) {
		err = stls_x509_name_parse(subj, &name, &e);
	}
	if (!err) {
		req.profile = ca ? STLS_X509_PROFILE_SERVER
				 : STLS_X509_PROFILE_CA;
		req.subject = name;
		req.sans = ca ? &san : NULL;
		req.n_sans = ca ? 1 : 0;
		req.days = 365;
		req.key = key;
		req.issuer = ca;
		req.issuer_key = ca_key;
		err = stls_x509_cert_build(&req, &x, &e);
	}
	if (!err) {
		snprintf(file, sizeof(file), "%s.pem", stem);
		err = tenants_write(dir, file, x, NULL);
	}
	if (!err) {
		snprintf(file, sizeof(file), "%s.key", stem);
		err = tenants_write(dir, file, NULL, key);
	}
	if (err) {
		fprintf(stderr, "tenants: %s: %s\n", stem,
			e.msg[0] ? e.msg : strerror(-err));
	}
	X509_NAME_free(name);
	if (err || !xout) {
		X509_free(x);
		EVP_PKEY_free(key);
		return err;
	}
	*xout = x;
	*kout = key;
	return 0;
}

static inline int tenants_main_conf(const struct tenants_spec *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/siptlsd.conf", s->dir);
	f = fopen(path, "w");
	if (!f) {
		return -errno;
	}
	fprintf(f, "[core]\nlisten = tls:127.0.0.1:%d\n"
		"backend = udp:127.0.0.1:%d\nrpc_socket = %s/ctl.sock\n\n"
		"[tls]\nconfig = tls.cfg\n", s->port, s->port, s->dir);
	return fclose(f) == 0 ? 0 : -EIO;
}

static inline int tenants_gen(const struct tenants_spec *s)
{
	char path[4096], name[300], stem[64];
	EVP_PKEY *ca_key = NULL;
	X509 *ca = NULL;
	FILE *cfg = NULL;
	int i, err;

	err = tenants_cert(s->dir, "ca", "Tenants Test CA", NULL, NULL, &ca,
			   &ca_key);
	if (!err) {
		err = tenants_cert(s->dir, "default", s->domain, ca, ca_key,
				   NULL, NULL);
	}
	snprintf(path, sizeof(path), "%s/tls.cfg", s->dir);
	if (!err && !(cfg = fopen(path, "w"))) {
		err = -errno;
	}
	if (!err) {
		fprintf(cfg, "[server:default]\ncertificate = default.pem\n"
			"private_key = default.key\n");
	}
	for (i = 0; i < s->n && !err; i++) {
		snprintf(stem, sizeof(stem), "t%d", i);
		tenants_name(s, i, name, sizeof(name));
		err = tenants_cert(s->dir, stem, name, ca, ca_key, NULL,
				   NULL);
		fprintf(cfg, "\n[server:any]\nserver_name = %s\n"
			"certificate = %s.pem\nprivate_key = %s.key\n", name,
			stem, stem);
	}
	if (cfg && fclose(cfg) != 0 && !err) {
		err = -EIO;
	}
	if (!err) {
		err = tenants_main_conf(s);
	}
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return err;
}

#endif
