/*
 * lib/revoc/http_fetch.c against a real HTTP server on loopback
 * (http_fixture.h): what a distribution point or responder may send,
 * the good and the bad. A CRL comes back whole (DER with a length, PEM
 * up to its END line even when the server keeps the connection open),
 * redirects are followed on http:// only; error statuses, garbage,
 * oversized and truncated bodies, stalled servers, refused connections
 * and URLs that are not http:// each give an error with a reason, never
 * a body and never a crash. The OCSP request is a real POST whose body is
 * an OCSP request about the certificate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ocsp.h>

#include "lib/revoc/http_fixture.h"
#include "lib/revoc/ocsp_fixture.h"
#include "revoc/revoc.h"

/* crl.pem of the test PKI as DER (OPENSSL_free). */
static unsigned char *crl_der(size_t *len)
{
	FILE *fp = fopen(test_cert_path("crl.pem"), "r");
	X509_CRL *c;
	unsigned char *der = NULL;
	int n;

	CHECK_NOT_NULL(fp);
	c = PEM_read_X509_CRL(fp, NULL, NULL, NULL);
	fclose(fp);
	CHECK_NOT_NULL(c);
	n = i2d_X509_CRL(c, &der);
	CHECK(n > 0);
	X509_CRL_free(c);
	*len = (size_t)n;
	return der;
}

/* "HTTP/1.0 200 OK" headers + <body> in one malloc'd reply. */
static char *reply(const char *head, const void *body, size_t blen,
		   size_t *len)
{
	size_t hl = strlen(head);
	char *r = malloc(hl + blen + 1);

	CHECK_NOT_NULL(r);
	memcpy(r, head, hl);
	memcpy(r + hl, body, blen);
	r[hl + blen] = '\0';
	*len = hl + blen;
	return r;
}

static char url_buf[256];

static const char *url(const struct hs *s, const char *path)
{
	snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d%s", s->port,
		 path);
	return url_buf;
}

/* One GET of <r> (one reply) with <max> and <timeout>; body freed. */
static int get_one(const struct hs_reply *r, int timeout, size_t max,
		   char *why, size_t whylen)
{
	struct hs s;
	unsigned char *body = NULL;
	size_t len = 0;
	int err;

	hs_start(&s, r, 1);
	err = stls__http_get(url(&s, "/ca.crl"), timeout, max, &body, &len,
			     why, whylen);
	hs_stop(&s);
	hs_free(&s);
	if (err == 0) {
		CHECK_NOT_NULL(body);
		CHECK(len > 0);
	} else {
		CHECK_NULL(body);
		CHECK(why[0] != '\0');
	}
	free(body);
	return err;
}

TEST(der_crl_with_length_comes_back_whole)
{
	size_t dlen, rlen, len = 0;
	unsigned char *der = crl_der(&dlen), *body = NULL;
	char head[160], why[256], *r;
	struct hs s;
	X509 *ca = ox_cert("ca.pem");
	X509_CRL *crl = NULL;

	snprintf(head, sizeof(head),
		 "HTTP/1.0 200 OK\r\nContent-Type: application/pkix-crl\r\n"
		 "Content-Length: %zu\r\n\r\n",
		 dlen);
	r = reply(head, der, dlen, &rlen);
	hs_start(&s, &(struct hs_reply){ r, rlen, false }, 1);
	CHECK_OK(stls__http_get(url(&s, "/ca.crl"), 10,
				STLS__CRL_MAX_RESP, &body, &len, why,
				sizeof(why)));
	hs_stop(&s);
	CHECK_EQ(len, dlen);
	CHECK_EQ(memcmp(body, der, dlen), 0);
	CHECK_NOT_NULL(s.req[0]);
	CHECK_EQ(strncmp(s.req[0], "GET /ca.crl HTTP/1.", 19), 0);
	CHECK_OK(stls__crl_check(body, len, ca, time(NULL), &crl, why,
				 sizeof(why)));
	X509_CRL_free(crl);
	hs_free(&s);
	free(body);
	free(r);
	OPENSSL_free(der);
	X509_free(ca);
}

/* A PEM CRL, no Content-Length, the connection kept open: the END line
 * ends the body; the client does not wait for the (30 s) timeout. */
TEST(pem_body_ends_at_its_end_line_on_an_open_connection)
{
	FILE *fp = fopen(test_cert_path("crl.pem"), "r");
	char pem[16384], why[256], *r;
	size_t plen, rlen, len = 0;
	unsigned char *body = NULL;
	struct hs s;
	time_t t0 = time(NULL);

	CHECK_NOT_NULL(fp);
	plen = fread(pem, 1, sizeof(pem), fp);
	fclose(fp);
	CHECK(plen > 0 && plen < sizeof(pem));
	r = reply("HTTP/1.0 200 OK\r\n\r\n", pem, plen, &rlen);
	hs_start(&s, &(struct hs_reply){ r, rlen, true }, 1);
	CHECK_OK(stls__http_get(url(&s, "/ca.crl"), 30, STLS__CRL_MAX_RESP,
				&body, &len, why, sizeof(why)));
	CHECK(time(NULL) - t0 < 25);
	hs_stop(&s);
	hs_free(&s);
	CHECK_EQ(len, plen);
	CHECK_EQ(memcmp(body, pem, plen), 0);
	free(body);
	free(r);
}

/* A PEM CRL whose END line has no newline, the server closing after it:
 * whole (only a PEM block without its END line is cut short). */
TEST(pem_body_without_final_newline_is_whole)
{
	FILE *fp = fopen(test_cert_path("crl.pem"), "r");
	char pem[16384], why[256], *r;
	size_t plen, rlen;

	CHECK_NOT_NULL(fp);
	plen = fread(pem, 1, sizeof(pem), fp);
	fclose(fp);
	CHECK(plen > 1 && pem[plen - 1] == '\n');
	r = reply("HTTP/1.0 200 OK\r\n\r\n", pem, plen - 1, &rlen);
	CHECK_OK(get_one(&(struct hs_reply){ r, rlen, false }, 10,
			 STLS__CRL_MAX_RESP, why, sizeof(why)));
	free(r);
	/* Without its END line it is cut short. */
	r = reply("HTTP/1.0 200 OK\r\n\r\n", pem, plen / 2, &rlen);
	CHECK_EQ(get_one(&(struct hs_reply){ r, rlen, false }, 10,
			 STLS__CRL_MAX_RESP, why, sizeof(why)),
		 -EIO);
	CHECK_STR_HAS(why, "truncated");
	free(r);
}

TEST(error_statuses_are_errors)
{
	static const char *const statuses[] = {
		"HTTP/1.0 404 Not Found\r\nContent-Length: 5\r\n\r\nnope\n",
		"HTTP/1.1 500 Internal Server Error\r\n\r\n",
		"HTTP/1.0 403 Forbidden\r\nContent-Type: text/html\r\n\r\n"
		"<html>no</html>",
		"HTTP/1.0 304 Not Modified\r\n\r\n",
		"HTTP/1.0 100 Continue\r\n\r\n",
	};
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		CHECK_EQ(get_one(&(struct hs_reply){ statuses[i], 0, false },
				 10, 4096, why, sizeof(why)),
			 -EIO);
		CHECK_STR_HAS(why, "http://127.0.0.1:");
	}
}

TEST(garbage_and_empty_replies_are_errors)
{
	static const struct hs_reply junk[] = {
		{ "", 0, false }, /* closed at once: nothing at all */
		{ "hello\r\n\r\n", 0, false },
		{ "HTTP/1.0\r\n\r\n", 0, false },
		{ "HTTP/1.0 abc OK\r\n\r\n", 0, false },
		{ "HTTP/9.9 200 OK\r\n\r\n0\x82\x01", 0, false },
		{ "HTTP/1.0 200 OK\r\n", 0, false }, /* headers never end */
		{ "HTTP/1.0 200 OK\r\nContent-Length: -5\r\n\r\nabc", 0,
		  false },
		{ "HTTP/1.0 200 OK\r\nContent-Length: zz\r\n\r\nabc", 0,
		  false },
		{ "HTTP/1.0 200 OK\r\n\r\n", 0, false }, /* no body */
		{ "\x00\x01\x02\xff\xfe\r\n\r\n", 9, false },
	};
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		int err = get_one(&junk[i], 10, 4096, why, sizeof(why));

		if (err != -EIO) {
			test_fail(__FILE__, __LINE__, "reply %zu: %d (%s)", i,
				  err, why);
		}
	}
}

/* A redirect to another http:// path is followed; one to https:// is
 * refused (no trust decisions here). */
TEST(redirects_followed_on_http_only)
{
	size_t dlen, rlen, len = 0;
	unsigned char *der = crl_der(&dlen), *body = NULL;
	char moved[256], tls[256], why[256], *r;
	struct hs s;

	hs_listen(&s);
	snprintf(moved, sizeof(moved),
		 "HTTP/1.0 301 Moved\r\nLocation: http://127.0.0.1:%d/b.crl"
		 "\r\n\r\n",
		 s.port);
	r = reply("HTTP/1.0 200 OK\r\n\r\n", der, dlen, &rlen);
	hs_run(&s,
	       (struct hs_reply[]){ { moved, 0, false }, { r, rlen, false } },
	       2);
	CHECK_OK(stls__http_get(url(&s, "/a.crl"), 10, STLS__CRL_MAX_RESP,
				&body, &len, why, sizeof(why)));
	hs_stop(&s);
	CHECK_EQ(len, dlen);
	CHECK_EQ(memcmp(body, der, dlen), 0);
	CHECK_EQ(strncmp(s.req[1], "GET /b.crl ", 11), 0);
	hs_free(&s);
	free(body);
	body = NULL;

	hs_listen(&s);
	snprintf(tls, sizeof(tls),
		 "HTTP/1.0 302 Found\r\nLocation: https://127.0.0.1:%d/b.crl"
		 "\r\n\r\n",
		 s.port);
	hs_run(&s, &(struct hs_reply){ tls, 0, false }, 1);
	CHECK_EQ(stls__http_get(url(&s, "/a.crl"), 10, STLS__CRL_MAX_RESP,
				&body, &len, why, sizeof(why)),
		 -EIO);
	hs_stop(&s);
	hs_free(&s);
	CHECK_NULL(body);
	CHECK(s.served == 1);
	free(r);
	OPENSSL_free(der);
}

TEST(size_limit_by_header_and_by_body)
{
	char big[6000], why[256], *r;
	size_t rlen;

	/* A Content-Length over the limit. */
	CHECK_EQ(get_one(&(struct hs_reply){ "HTTP/1.0 200 OK\r\n"
					     "Content-Length: 2000\r\n\r\n",
					     0, false },
			 10, 1000, why, sizeof(why)),
		 -EIO);
	/* No Content-Length, a body over the limit. */
	memset(big, 'A', sizeof(big));
	r = reply("HTTP/1.0 200 OK\r\n\r\n", big, sizeof(big), &rlen);
	CHECK_EQ(get_one(&(struct hs_reply){ r, rlen, false }, 10, 1000, why,
			 sizeof(why)),
		 -EIO);
	CHECK_STR_HAS(why, "larger than 1000 bytes");
	/* Exactly at the limit is taken. */
	CHECK_OK(get_one(&(struct hs_reply){ r, rlen, false }, 10,
			 sizeof(big), why, sizeof(why)));
	/* A DER length over the limit, the body cut short of it. */
	big[0] = 0x30;
	big[1] = (char)0x84;
	big[2] = big[3] = big[4] = big[5] = (char)0xff;
	free(r);
	r = reply("HTTP/1.0 200 OK\r\n\r\n", big, sizeof(big), &rlen);
	CHECK_EQ(get_one(&(struct hs_reply){ r, rlen, false }, 10, 1000, why,
			 sizeof(why)),
		 -EIO);
	free(r);
}

/* A body cut short of what its DER header or Content-Length says is an
 * error, not a short body handed on as if whole. */
TEST(truncated_body_is_an_error)
{
	size_t dlen, rlen;
	unsigned char *der = crl_der(&dlen);
	char head[128], why[256], *r;

	CHECK(dlen > 100);
	r = reply("HTTP/1.0 200 OK\r\n\r\n", der, dlen - 40, &rlen);
	CHECK_EQ(get_one(&(struct hs_reply){ r, rlen, false }, 10,
			 STLS__CRL_MAX_RESP, why, sizeof(why)),
		 -EIO);
	CHECK_STR_HAS(why, "truncated");
	free(r);
	snprintf(head, sizeof(head),
		 "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n", dlen);
	r = reply(head, der, dlen - 40, &rlen);
	CHECK_EQ(get_one(&(struct hs_reply){ r, rlen, false }, 10,
			 STLS__CRL_MAX_RESP, why, sizeof(why)),
		 -EIO);
	free(r);
	OPENSSL_free(der);
}

/* A server that stops sending: before its headers, or in the middle of
 * the body. Either is an error within about the timeout. */
TEST(stalled_server_times_out)
{
	size_t dlen, rlen;
	unsigned char *der = crl_der(&dlen);
	char why[256], *r;
	time_t t0 = time(NULL);

	CHECK_EQ(get_one(&(struct hs_reply){ "", 0, true }, 1,
			 STLS__CRL_MAX_RESP, why, sizeof(why)),
		 -EIO);
	CHECK(time(NULL) - t0 < 10);
	r = reply("HTTP/1.0 200 OK\r\n\r\n", der, dlen / 2, &rlen);
	t0 = time(NULL);
	CHECK_EQ(get_one(&(struct hs_reply){ r, rlen, true }, 1,
			 STLS__CRL_MAX_RESP, why, sizeof(why)),
		 -ETIMEDOUT);
	CHECK(time(NULL) - t0 < 10);
	CHECK_STR_HAS(why, "timed out");
	free(r);
	OPENSSL_free(der);
}

/* Chunked transfer coding is not decoded by the client: the chunk sizes
 * stay in the body, so a CRL sent that way does not pass for one. */
TEST(chunked_body_is_not_taken_for_a_crl)
{
	size_t dlen, rlen, len = 0, hl;
	unsigned char *der = crl_der(&dlen), *body = NULL;
	char head[160], why[256], *r;
	struct hs s;
	X509 *ca = ox_cert("ca.pem");
	X509_CRL *crl = NULL;
	int err;

	hl = (size_t)snprintf(head, sizeof(head),
			      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
			      "\r\n\r\n%zx\r\n",
			      dlen);
	r = malloc(hl + dlen + 16);
	CHECK_NOT_NULL(r);
	memcpy(r, head, hl);
	memcpy(r + hl, der, dlen);
	memcpy(r + hl + dlen, "\r\n0\r\n\r\n", 7);
	rlen = hl + dlen + 7;
	hs_start(&s, &(struct hs_reply){ r, rlen, false }, 1);
	err = stls__http_get(url(&s, "/ca.crl"), 10, STLS__CRL_MAX_RESP,
			     &body, &len, why, sizeof(why));
	hs_stop(&s);
	hs_free(&s);
	if (err == 0) {
		CHECK_NE(stls__crl_check(body, len, ca, time(NULL), &crl, why,
					 sizeof(why)),
			 0);
		CHECK_NULL(crl);
	} else {
		CHECK_EQ(err, -EIO);
		CHECK_NULL(body);
	}
	free(body);
	free(r);
	OPENSSL_free(der);
	X509_free(ca);
}

TEST(refused_connection_and_bad_urls)
{
	struct hs s;
	unsigned char *body = NULL;
	size_t len = 0;
	char why[256], u[64];
	static const char *const bad[] = {
		"https://127.0.0.1:45001/ca.crl",
		"ftp://127.0.0.1/ca.crl",
		"http://[::1/ca.crl",
	};
	size_t i;

	/* A port nobody listens on any more. */
	hs_listen(&s);
	close(s.fd);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/ca.crl", s.port);
	CHECK_EQ(stls__http_get(u, 5, 4096, &body, &len, why, sizeof(why)),
		 -EIO);
	hs_free(&s);
	CHECK_STR_HAS(why, u);
	CHECK_NULL(body);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = stls__http_get(bad[i], 5, 4096, &body, &len, why,
					 sizeof(why));

		if (err != -EINVAL) {
			test_fail(__FILE__, __LINE__, "'%s': %d (%s)", bad[i],
				  err, why);
		}
		CHECK(why[0] != '\0');
		CHECK_NULL(body);
	}
	/* OpenSSL takes a URL without a scheme for http://host (even an
	 * empty one): it fails when the host does not resolve. */
	CHECK_EQ(stls__http_get("no such host", 2, 4096, &body, &len, why,
				sizeof(why)),
		 -EIO);
	CHECK_NULL(body);
	CHECK_EQ(stls__http_get("", 2, 4096, &body, &len, why, sizeof(why)),
		 -EIO);
	CHECK_NULL(body);
}

/* A 200 reply of <der> under <ctype> (malloc'd). */
static char *ocsp_reply(const char *ctype, const unsigned char *der,
			size_t olen, size_t *rlen)
{
	char head[160];

	snprintf(head, sizeof(head),
		 "HTTP/1.0 200 OK\r\nContent-Type: %s\r\n"
		 "Content-Length: %zu\r\n\r\n",
		 ctype, olen);
	return reply(head, der, olen, rlen);
}

/* One OCSP exchange with a server giving <r>; s->req kept (hs_free). */
static int ocsp_one(struct hs *s, const struct hs_reply *r, X509 *leaf,
		    X509 *issuer, unsigned char **body, size_t *len,
		    char *why, size_t whylen)
{
	int err;

	hs_start(s, r, 1);
	err = stls__http_ocsp(url(s, "/ocsp"), leaf, issuer, 10, body, len,
			      why, whylen);
	hs_stop(s);
	if (err) {
		CHECK_NULL(*body);
	}
	return err;
}

/* The OCSP exchange: a POST of an OCSP request about the leaf, the
 * response handed back as it came; the wrong content type or status is
 * an error. */
TEST(ocsp_post_request_and_response)
{
	X509 *leaf = ox_cert("server-chain.pem"), *issuer = ox_cert("int.pem");
	size_t rlen, len = 0, olen;
	unsigned char *der = ox_resp(leaf, issuer, "int",
				     V_OCSP_CERTSTATUS_GOOD, -60, 3600, &olen);
	unsigned char *body = NULL;
	const unsigned char *p;
	char why[256], *r, *eoh;
	struct hs s;
	OCSP_REQUEST *req;
	OCSP_CERTID *want;

	r = ocsp_reply("application/ocsp-response", der, olen, &rlen);
	CHECK_OK(ocsp_one(&s, &(struct hs_reply){ r, rlen, false }, leaf,
			  issuer, &body, &len, why, sizeof(why)));
	free(r);
	CHECK_EQ(len, olen);
	CHECK_EQ(memcmp(body, der, olen), 0);
	CHECK_EQ(strncmp(s.req[0], "POST /ocsp HTTP/1.", 18), 0);
	CHECK_NOT_NULL(strcasestr(s.req[0],
				  "Content-Type: application/ocsp-request"));
	eoh = strstr(s.req[0], "\r\n\r\n");
	CHECK_NOT_NULL(eoh);
	p = (const unsigned char *)eoh + 4;
	req = d2i_OCSP_REQUEST(NULL, &p,
			       (long)(s.reqlen[0] - (size_t)(eoh + 4 - s.req[0])));
	CHECK_NOT_NULL(req);
	CHECK_EQ(OCSP_request_onereq_count(req), 1);
	want = OCSP_cert_to_id(NULL, leaf, issuer);
	CHECK_EQ(OCSP_id_cmp(want, OCSP_onereq_get0_id(
					   OCSP_request_onereq_get0(req, 0))),
		 0);
	OCSP_CERTID_free(want);
	OCSP_REQUEST_free(req);
	hs_free(&s);
	free(body);
	body = NULL;

	/* The right bytes under the wrong content type. */
	r = ocsp_reply("text/html", der, olen, &rlen);
	CHECK_EQ(ocsp_one(&s, &(struct hs_reply){ r, rlen, false }, leaf,
			  issuer, &body, &len, why, sizeof(why)),
		 -EIO);
	hs_free(&s);
	free(r);
	/* A responder that fails. */
	CHECK_EQ(ocsp_one(&s,
			  &(struct hs_reply){ "HTTP/1.0 503 Busy\r\n\r\n", 0,
					      false },
			  leaf, issuer, &body, &len, why, sizeof(why)),
		 -EIO);
	hs_free(&s);
	CHECK_EQ(stls__http_ocsp("https://127.0.0.1:45001/", leaf, issuer, 10,
				 &body, &len, why, sizeof(why)),
		 -EINVAL);
	OPENSSL_free(der);
	X509_free(leaf);
	X509_free(issuer);
}
