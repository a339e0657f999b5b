/*
 * lib/revoc/staple.c: the staple store. One entry per certificate and
 * source, shared and counted; a file: source read at _get(); what each
 * answer does (stls__staple_apply(), as the refresh applies fetches): a
 * good one is held and fetched again halfway to its nextUpdate; a failure
 * keeps the last good one and backs off 5, 10, 20 s ...; an older one is
 * refused; revoked drops it; at nextUpdate nothing is stapled.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/revoc/ocsp_fixture.h"
#include "revoc/revoc.h"

struct sx {
	X509 *leaf, *issuer;
	char src[600];
};

static void sx_init(struct sx *s, long tu, long nu)
{
	size_t len;
	unsigned char *der;
	char path[512];
	FILE *fp;

	s->leaf = ox_cert("server-chain.pem");
	s->issuer = ox_cert("int.pem");
	der = ox_resp(s->leaf, s->issuer, "int", V_OCSP_CERTSTATUS_GOOD, tu,
		      nu, &len);
	snprintf(path, sizeof(path), "%s/staple-%ld.der", test_tmp_dir(), nu);
	fp = fopen(path, "wb");
	CHECK_NOT_NULL(fp);
	CHECK(fwrite(der, 1, len, fp) == len);
	fclose(fp);
	OPENSSL_free(der);
	snprintf(s->src, sizeof(s->src), "file:%s", path);
}

static void sx_fini(struct sx *s)
{
	X509_free(s->leaf);
	X509_free(s->issuer);
}

static time_t apply(struct sx *s, struct stls__staple *e, int status,
		    long tu, long nu, time_t now)
{
	size_t len;
	unsigned char *der = ox_resp(s->leaf, s->issuer, "int", status, tu,
				     nu, &len);
	time_t t = stls__staple_apply(e, der, len, NULL, now);

	OPENSSL_free(der);
	return t;
}

static enum stls_ocsp_state state(struct stls__staple *e, time_t now)
{
	struct stls_cert_status st;

	stls__staple_status(e, now, &st);
	return st.ocsp;
}

static bool staples(struct stls__staple *e, time_t now)
{
	unsigned char *der = NULL;
	size_t len = 0;
	int err = stls__staple_copy(e, now, &der, &len);

	OPENSSL_free(der);
	return err == 0 && len > 0;
}

TEST(file_source_shared_and_counted)
{
	struct sx s;
	struct stls__staple *a, *b;
	char why[160];

	sx_init(&s, -60, 3600);
	CHECK_EQ(stls__staple_count(), 0);
	CHECK_OK(stls__staple_get(s.leaf, s.issuer, s.src, time(NULL), &a, why,
				  sizeof(why)));
	CHECK_EQ(why[0], '\0');
	CHECK_OK(stls__staple_get(s.leaf, s.issuer, s.src, time(NULL), &b, why,
				  sizeof(why)));
	CHECK(a == b);
	CHECK_EQ(stls__staple_count(), 1);
	CHECK_EQ(state(a, time(NULL)), STLS_OCSP_GOOD);
	CHECK(staples(a, time(NULL)));
	CHECK(stls__staple_leaf(a) == s.leaf);
	stls__staple_put(a);
	CHECK_EQ(stls__staple_count(), 1);
	stls__staple_put(b);
	CHECK_EQ(stls__staple_count(), 0);
	sx_fini(&s);
}

TEST(missing_file_is_reported_not_fatal)
{
	struct sx s;
	struct stls__staple *a;
	char why[160];

	sx_init(&s, -60, 3600);
	CHECK_OK(stls__staple_get(s.leaf, s.issuer, "file:/nonexistent/x.der",
				  time(NULL), &a, why, sizeof(why)));
	CHECK(strstr(why, "cannot read") != NULL);
	CHECK_EQ(state(a, time(NULL)), STLS_OCSP_NONE);
	CHECK(!staples(a, time(NULL)));
	stls__staple_put(a);
	/* "on" needs a responder URL in the certificate. */
	CHECK_EQ(stls__staple_get(s.leaf, s.issuer, "on", time(NULL), &a, why,
				  sizeof(why)),
		 -ENOENT);
	sx_fini(&s);
}

TEST(schedule_backoff_and_last_good)
{
	struct sx s;
	struct stls__staple *e;
	char why[160];
	time_t now = time(NULL), t;

	sx_init(&s, -60, 3600);
	CHECK_OK(stls__staple_get(s.leaf, s.issuer, s.src, now, &e, why,
				  sizeof(why)));
	/* A good answer valid an hour: next fetch halfway (30 min). */
	t = apply(&s, e, V_OCSP_CERTSTATUS_GOOD, -10, 3600, now);
	CHECK(t >= now + 1790 && t <= now + 1810);
	/* Failures: back-off 5, 10, 20 s; the good one stays stapled. */
	CHECK_EQ(stls__staple_apply(e, NULL, 0, "connect timeout", now),
		 now + 5);
	CHECK_EQ(stls__staple_apply(e, NULL, 0, "connect timeout", now),
		 now + 10);
	CHECK_EQ(stls__staple_apply(e, NULL, 0, "connect timeout", now),
		 now + 20);
	CHECK_EQ(state(e, now), STLS_OCSP_GOOD);
	CHECK(staples(e, now));
	/* "unknown" changes nothing but the error. */
	apply(&s, e, V_OCSP_CERTSTATUS_UNKNOWN, -10, 3600, now);
	CHECK_EQ(state(e, now), STLS_OCSP_GOOD);
	/* An older good answer is refused. */
	apply(&s, e, V_OCSP_CERTSTATUS_GOOD, -1000, 3600, now);
	CHECK(staples(e, now));
	/* At nextUpdate nothing is stapled any more. */
	CHECK(!staples(e, now + 3601));
	CHECK_EQ(state(e, now + 3601), STLS_OCSP_EXPIRED);
	/* A new good answer, back-off reset. */
	apply(&s, e, V_OCSP_CERTSTATUS_GOOD, 0, 600, now + 5);
	CHECK_EQ(stls__staple_apply(e, NULL, 0, "down", now + 5), now + 10);
	/* Revoked: dropped at once. */
	apply(&s, e, V_OCSP_CERTSTATUS_REVOKED, 1, 600, now + 6);
	CHECK_EQ(state(e, now + 6), STLS_OCSP_REVOKED);
	CHECK(!staples(e, now + 6));
	stls__staple_put(e);
	sx_fini(&s);
}
