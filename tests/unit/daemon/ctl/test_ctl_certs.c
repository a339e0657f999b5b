/*
 * daemon/ctl/ctl_certs.c: the certificate part of tls.info through the
 * dispatcher. Each profile's certificate with its subject, notAfter as
 * UTC text equal to the certificate's, expires_in, must_staple and the
 * OCSP state; a profile stapling from a file (a response signed here by
 * the issuer) shows "good" with its source and times; no refreshed CRLs
 * gives an empty list; last_good_reload moves with a reload.
 */
/* ctest-label: tsan */
#include <regex.h>
#include <time.h>

#include <openssl/ocsp.h>

#include "daemon/ctl/ctl_fixture.h"
#include "lib/revoc/ocsp_fixture.h"

static bool utc_text(const char *s)
{
	regex_t re;
	bool ok;

	CHECK_OK(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
			      "[0-9]{2}Z$",
			 REG_EXTENDED | REG_NOSUB));
	ok = s && regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* The notAfter of the first certificate of <pem> as tls.info writes it. */
static void not_after_text(const char *pem, char *buf, size_t len)
{
	X509 *x = ox_cert(pem);
	struct tm tm;

	CHECK(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm));
	CHECK(strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0);
	X509_free(x);
}

static json_t *find_cert(json_t *certs, const char *profile)
{
	size_t i;

	for (i = 0; i < json_array_size(certs); i++) {
		json_t *c = json_array_get(certs, i);

		if (strcmp(json_string_value(json_object_get(c, "profile")),
			   profile) == 0)
			return c;
	}
	return NULL;
}

TEST(default_certificate_without_stapling)
{
	struct cf f;
	json_t *r, *o, *c, *ocsp;
	char want[32];
	const char *lg;
	int64_t left;

	cf_init(&f, 1, NULL);
	r = cf_call(&f, "tls.info", NULL);
	o = cf_result(r);
	CHECK_NOT_NULL(o);
	c = find_cert(json_object_get(o, "certificates"), "TLSs<default>");
	CHECK_NOT_NULL(c);
	CHECK_STR_HAS(json_string_value(json_object_get(c, "subject")),
		      "CN");
	not_after_text("server.pem", want, sizeof(want));
	CHECK_STR_EQ(json_string_value(json_object_get(c, "not_after")),
		     want);
	left = json_integer_value(json_object_get(c, "expires_in"));
	CHECK(left > 0);
	CHECK(json_is_false(json_object_get(c, "must_staple")));
	ocsp = json_object_get(c, "ocsp");
	CHECK_STR_EQ(json_string_value(json_object_get(ocsp, "state")), "off");
	CHECK_EQ(json_object_size(ocsp), 1); /* off: the state alone */
	CHECK(json_is_array(json_object_get(o, "crls")));
	CHECK_EQ(json_array_size(json_object_get(o, "crls")), 0);
	lg = json_string_value(json_object_get(o, "last_good_reload"));
	CHECK(utc_text(lg));
	json_decref(r);
	cf_fini(&f);
}

TEST(stapled_from_a_file_shows_good_with_its_times)
{
	struct cf f;
	X509 *leaf = ox_cert("server-chain.pem"), *issuer = ox_cert("int.pem");
	size_t olen;
	unsigned char *der = ox_resp(leaf, issuer, "int",
				     V_OCSP_CERTSTATUS_GOOD, -60, 7200, &olen);
	char resp[600], extra[2048], want[32];
	json_t *r, *c, *ocsp;
	FILE *fp;

	snprintf(resp, sizeof(resp), "%s/ocsp.der", test_tmp_dir());
	fp = fopen(resp, "wb");
	CHECK_NOT_NULL(fp);
	CHECK_EQ(fwrite(der, 1, olen, fp), olen);
	fclose(fp);
	snprintf(extra, sizeof(extra),
		 "[server:default]\ncertificate = %s\nprivate_key = %s\n"
		 "ocsp_stapling = file:%s\n",
		 test_cert_path("server-chain.pem"),
		 test_cert_path("server-chain.key"), resp);
	cf_init(&f, 1, extra);
	r = cf_call(&f, "tls.info", NULL);
	c = find_cert(json_object_get(cf_result(r), "certificates"),
		      "TLSs<default>");
	CHECK_NOT_NULL(c);
	not_after_text("server-chain.pem", want, sizeof(want));
	CHECK_STR_EQ(json_string_value(json_object_get(c, "not_after")),
		     want);
	ocsp = json_object_get(c, "ocsp");
	CHECK_STR_EQ(json_string_value(json_object_get(ocsp, "state")),
		     "good");
	CHECK_STR_HAS(json_string_value(json_object_get(ocsp, "source")),
		      "ocsp.der");
	CHECK(utc_text(json_string_value(
		json_object_get(ocsp, "this_update"))));
	CHECK(utc_text(json_string_value(
		json_object_get(ocsp, "next_update"))));
	CHECK_STR_EQ(json_string_value(json_object_get(ocsp, "error")), "");
	json_decref(r);
	cf_fini(&f);
	OPENSSL_free(der);
	X509_free(leaf);
	X509_free(issuer);
}

TEST(last_good_reload_moves_with_a_reload)
{
	struct cf f;
	json_t *r;
	uint64_t ok = 0, failed = 0;
	time_t before;

	cf_init(&f, 1, NULL);
	before = stls_pstore_last_good(f.ps);
	/* Second resolution: wait for the clock to turn (at most ~1 s). */
	while (time(NULL) == before)
		usleep(20000);
	r = cf_call(&f, "tls.reload", NULL);
	CHECK_NOT_NULL(cf_result(r));
	json_decref(r);
	stls_pstore_counts(f.ps, &ok, &failed);
	CHECK_EQ(ok, 1);
	CHECK(stls_pstore_last_good(f.ps) > before);
	r = cf_call(&f, "tls.info", NULL);
	{
		struct tm tm;
		char want[32];
		time_t t = stls_pstore_last_good(f.ps);

		gmtime_r(&t, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		CHECK_STR_EQ(json_string_value(json_object_get(
				     cf_result(r), "last_good_reload")),
			     want);
	}
	json_decref(r);
	cf_fini(&f);
}
