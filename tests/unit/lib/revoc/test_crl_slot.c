/*
 * lib/revoc/crl_slot.c and crl_check.c: a refreshed CRL slot of the test
 * root CA. It starts from crl-empty.pem; a newer CRL (crl.pem, which
 * revokes client-revoked) replaces it; an older one, another CA's, or
 * garbage are refused and the held one stays; a failed fetch backs off;
 * the list shows the slot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/revoc/ocsp_fixture.h"
#include "revoc/revoc.h"

static unsigned char *slurp(const char *name, size_t *len)
{
	FILE *fp = fopen(test_cert_path(name), "rb");
	unsigned char *buf = malloc(65536);

	CHECK_NOT_NULL(fp);
	CHECK_NOT_NULL(buf);
	*len = fread(buf, 1, 65536, fp);
	fclose(fp);
	CHECK(*len > 0);
	return buf;
}

static X509_CRL *read_crl(const char *name)
{
	FILE *fp = fopen(test_cert_path(name), "r");
	X509_CRL *c;

	CHECK_NOT_NULL(fp);
	c = PEM_read_X509_CRL(fp, NULL, NULL, NULL);
	fclose(fp);
	CHECK_NOT_NULL(c);
	return c;
}

static time_t apply_file(struct stls__crlslot *s, const char *name,
			 time_t now)
{
	size_t len;
	unsigned char *d = slurp(name, &len);
	time_t t = stls__crlslot_apply(s, d, len, NULL, 3600, now);

	free(d);
	return t;
}

static int revoked_count(struct stls__crlslot *s)
{
	X509_CRL *c = stls__crlslot_get1_crl(s);
	int n;

	CHECK_NOT_NULL(c);
	n = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(c));
	X509_CRL_free(c);
	return n < 0 ? 0 : n;
}

static void count_one(const struct stls_crl_status *st, void *arg)
{
	int *n = arg;

	CHECK(strstr(st->issuer, "siptls Test CA") != NULL);
	CHECK_EQ(strcmp(st->url, "http://127.0.0.1:9/ca.crl"), 0);
	(*n)++;
}

TEST(newer_replaces_older_and_bad_refused)
{
	X509 *ca = ox_cert("ca.pem");
	X509_CRL *start = read_crl("crl-empty.pem");
	char *urls[1] = { (char *)"http://127.0.0.1:9/ca.crl" };
	struct stls__crlslot *s;
	time_t now = time(NULL), t;
	static const unsigned char junk[] = "-----BEGIN X509 CRL-----\nAAAA\n"
					    "-----END X509 CRL-----\n";
	int n = 0;

	CHECK_OK(stls__crlslot_get(start, ca, urls, 1, &s));
	CHECK_EQ(revoked_count(s), 0);
	/* Newer, revoking one: taken; next fetch within the interval. */
	t = apply_file(s, "crl.pem", now);
	CHECK(t > now && t <= now + 3600);
	CHECK_EQ(revoked_count(s), 1);
	/* Older: refused, held one stays; back-off. */
	CHECK_EQ(apply_file(s, "crl-empty.pem", now), now + 5);
	CHECK_EQ(revoked_count(s), 1);
	/* Another CA's CRL. */
	CHECK_EQ(apply_file(s, "int-crl.pem", now), now + 10);
	CHECK_EQ(revoked_count(s), 1);
	/* Garbage, and a failed fetch. */
	CHECK_EQ(stls__crlslot_apply(s, junk, sizeof(junk) - 1, NULL, 3600,
				     now),
		 now + 20);
	CHECK_EQ(stls__crlslot_apply(s, NULL, 0, "connect timeout", 3600,
				     now),
		 now + 40);
	CHECK_EQ(revoked_count(s), 1);
	CHECK_EQ(stls__crlslot_list(count_one, &n), 1);
	CHECK_EQ(n, 1);
	stls__crlslot_put(s);
	CHECK_EQ(stls__crlslot_list(count_one, &n), 0);
	X509_CRL_free(start);
	X509_free(ca);
}

TEST(crl_check_issuer_and_window)
{
	X509 *ca = ox_cert("ca.pem"), *intc = ox_cert("int.pem");
	X509_CRL *out = NULL;
	size_t len;
	unsigned char *d = slurp("crl.pem", &len);
	char why[160];

	CHECK_OK(stls__crl_check(d, len, ca, time(NULL), &out, why,
				 sizeof(why)));
	X509_CRL_free(out);
	out = NULL;
	CHECK_EQ(stls__crl_check(d, len, intc, time(NULL), &out, why,
				 sizeof(why)),
		 -EBADMSG);
	/* Twenty years on the CRL (ten years) is past its nextUpdate. */
	CHECK_EQ(stls__crl_check(d, len, ca, time(NULL) + 20L * 366 * 86400, &out,
				 why, sizeof(why)),
		 -ESTALE);
	X509_CRL_free(out);
	free(d);
	X509_free(ca);
	X509_free(intc);
}
