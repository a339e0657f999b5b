/*
 * Tests of lib/x509/x509_ca.c: the CA directory (create, open under a lock,
 * issue, record, revoke, CRL) and its failure modes.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <openssl/x509v3.h>

#include "test.h"

#include "stls/x509_ca.h"

static const char *dir(void)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/ca", test_tmp_dir());
	return buf;
}

static void create(void)
{
	struct stls_x509_ca_params p = { .days = 30 };
	struct stls_x509_err err;

	CHECK_OK(stls_x509_name_parse("/CN=Unit CA", &p.subject, NULL));
	CHECK_OK(stls_x509_ca_create(dir(), &p, &err));
	X509_NAME_free(p.subject);
}

static X509 *issue(struct stls_x509_ca *ca, const char *cn)
{
	struct stls_x509_keyspec ec = { 0 };
	struct stls_x509_req req = { .profile = STLS_X509_PROFILE_CLIENT,
				     .days = 5 };
	X509 *x = NULL;
	char name[64];

	snprintf(name, sizeof(name), "/CN=%s", cn);
	CHECK_OK(stls_x509_name_parse(name, &req.subject, NULL));
	CHECK_OK(stls_x509_key_new(&ec, &req.key, NULL));
	CHECK_OK(stls_x509_ca_issue(ca, &req, &x, NULL));
	CHECK_OK(stls_x509_ca_record(ca, x, req.profile, cn, NULL));
	EVP_PKEY_free(req.key);
	X509_NAME_free(req.subject);
	return x;
}

TEST(create_then_refuse_then_force)
{
	struct stls_x509_ca_params p = { .days = 30, .force = false };
	struct stls_x509_err err;
	struct stat sb;

	create();
	CHECK_OK(stat(dir(), &sb));
	CHECK_EQ(sb.st_mode & 0777, 0700);
	CHECK_OK(stls_x509_name_parse("/CN=Again", &p.subject, NULL));
	CHECK_EQ(stls_x509_ca_create(dir(), &p, &err), -EEXIST);
	CHECK_STR_HAS(err.msg, "use --force");
	p.force = true;
	CHECK_OK(stls_x509_ca_create(dir(), &p, &err));
	X509_NAME_free(p.subject);
}

TEST(open_is_exclusive)
{
	struct stls_x509_ca *a = NULL, *b = NULL;
	struct stls_x509_err err;

	create();
	CHECK_OK(stls_x509_ca_open(dir(), NULL, &a, &err));
	CHECK_EQ(stls_x509_ca_open(dir(), NULL, &b, &err), -EBUSY);
	CHECK_STR_HAS(err.msg, "is busy");
	stls_x509_ca_free(a);
	CHECK_OK(stls_x509_ca_open(dir(), NULL, &b, &err));
	stls_x509_ca_free(b);
	stls_x509_ca_free(NULL);
}

TEST(issue_revoke_crl_update_the_state)
{
	struct stls_x509_ca *ca = NULL;
	struct stls_x509_err err;
	const struct stls_x509_castate *st;
	X509 *a, *b;
	X509_CRL *crl = NULL;
	char serial[64];

	create();
	CHECK_OK(stls_x509_ca_open(dir(), NULL, &ca, &err));
	a = issue(ca, "a");
	b = issue(ca, "b");
	st = stls_x509_ca_get0_state(ca);
	CHECK_EQ(st->n, 3); /* the CA itself, a, b */
	CHECK_OK(stls_x509_ca_revoke(ca, b, CRL_REASON_SUPERSEDED, &err));
	CHECK_EQ(stls_x509_ca_revoke(ca, b, CRL_REASON_SUPERSEDED, &err),
		 -EALREADY);
	CHECK_EQ(stls_x509_ca_revoke(ca, b, 99, &err), -EINVAL);
	CHECK_OK(stls_x509_ca_crl(ca, 3, &crl, &err));
	CHECK_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
	CHECK_EQ(st->crl_number, 2);
	X509_CRL_free(crl);
	stls_x509_ca_free(ca);
	/* Everything survived on disk. */
	CHECK_OK(stls_x509_ca_open(dir(), NULL, &ca, &err));
	st = stls_x509_ca_get0_state(ca);
	CHECK_EQ(st->crl_number, 2);
	stls_x509_serial_hex(b, serial, sizeof(serial));
	CHECK(stls_x509_castate_find(st, serial, true) >= 0);
	stls_x509_serial_hex(a, serial, sizeof(serial));
	CHECK(stls_x509_castate_find(st, serial, false) >= 0);
	CHECK(stls_x509_castate_find(st, serial, true) < 0);
	CHECK_EQ(X509_verify(a, X509_get0_pubkey(stls_x509_ca_get0_cert(ca))),
		 1);
	stls_x509_ca_free(ca);
	X509_free(a);
	X509_free(b);
}

TEST(open_reports_broken_directories)
{
	struct stls_x509_ca *ca = NULL;
	struct stls_x509_err err;
	char cmd[1200];

	CHECK_EQ(stls_x509_ca_open(dir(), NULL, &ca, &err), -ENOENT);
	CHECK_STR_HAS(err.msg, "cannot read CA certificate '");
	CHECK_STR_HAS(err.msg, "siptlsctl cert ca init");
	create();
	snprintf(cmd, sizeof(cmd), "echo 'bogus' >> '%s/ca-state.txt'", dir());
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(stls_x509_ca_open(dir(), NULL, &ca, &err), -EINVAL);
	CHECK_STR_HAS(err.msg, "ca-state.txt:6: missing value");
	/* A key from another CA does not match the certificate. */
	snprintf(cmd, sizeof(cmd), "sed -i '$d' '%s/ca-state.txt' && cp '%s' "
		 "'%s/ca.key'", dir(), test_cert_path("server.key"), dir());
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(stls_x509_ca_open(dir(), NULL, &ca, &err), -EKEYREJECTED);
	CHECK_STR_HAS(err.msg, "does not match CA certificate");
	CHECK_NULL(ca);
}
