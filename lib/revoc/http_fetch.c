/*
 * The two HTTP exchanges of revocation data, through OpenSSL's HTTP
 * client (OSSL_HTTP_transfer(), OSSL_HTTP_get()): an OCSP request POSTed
 * to a responder (RFC 6960 appendix A.1: HTTP/1.0, Content-Type
 * application/ocsp-request, the answer application/ocsp-response), and a
 * CRL fetched with GET from a distribution point (RFC 5280 section
 * 4.2.1.13). Both block for at most <timeout> seconds and bound the size
 * of what they accept.
 *
 * Only http:// URLs: a responder or distribution point reached over TLS
 * would need its own trust decisions, and RFC 5280 and 6960 use HTTP (the
 * data is signed). No proxy is used, whatever the environment says: a
 * daemon should not change where it connects because of a variable it
 * inherited. This is the one place where libsiptls opens sockets; it is
 * called only from the refresh (stls_revoc_refresh()), on a thread the
 * caller keeps for it, never from a handshake.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/http.h>

#include "revoc/revoc.h"

/*
 * Whether buf[0..n) already holds a whole object: a DER SEQUENCE whose
 * length it gives, or a PEM block up to its END line. A server that keeps
 * the connection open after the body (openssl ocsp) then costs no wait.
 */
static bool complete(const unsigned char *buf, size_t n)
{
	size_t len, i, k;
	const unsigned char *end;

	if (n >= 2 && buf[0] == 0x30) {
		if (buf[1] < 0x80) {
			return n >= 2 + (size_t)buf[1];
		}
		k = buf[1] & 0x7f;
		if (k == 0 || k > 4 || n < 2 + k) {
			return false;
		}
		for (len = 0, i = 0; i < k; i++) {
			len = len << 8 | buf[2 + i];
		}
		return n >= 2 + k + len;
	}
	end = n > 9 ? memmem(buf, n, "-----END ", 9) : NULL;
	return end && memchr(end + 9, '\n', n - (size_t)(end + 9 - buf));
}

/*
 * Whether buf[0..n), not complete(), is the start of an object cut short:
 * a DER SEQUENCE, or a PEM block without its END line (a body that ends
 * right after the END line, with no newline, is whole).
 */
static bool truncated(const unsigned char *buf, size_t n)
{
	return (n >= 1 && buf[0] == 0x30) ||
	       (n > 11 && memmem(buf, n, "-----BEGIN ", 11) &&
		!memmem(buf, n, "-----END ", 9));
}

/*
 * stls__http_body() (revoc.h): reads <bio> to the end of its object, or
 * its end, into a new buffer of at most <max> bytes, by <deadline>. A
 * response that is not ASN.1 comes
 * back as the connection itself (OpenSSL streams it), a non-blocking
 * socket: a read that would block waits (BIO_wait()) instead of ending
 * the body early. A server that stops sending before the object is whole
 * is -ETIMEDOUT at the deadline; one that closes early, -EIO ("truncated"):
 * a part of a CRL is never handed on as if it were the whole body.
 */
int stls__http_body(BIO *bio, size_t max, time_t deadline,
		    unsigned char **body, size_t *len, char *why, size_t whylen)
{
	unsigned char *buf = NULL, *nb;
	size_t n = 0, cap = 0;
	bool whole = false;
	int r, w;

	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if (cap > max + 1) {
				cap = max + 1;
			}
			if (n == cap) {
				free(buf);
				snprintf(why, whylen, "response larger than "
					 "%zu bytes", max);
				return -EIO;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				snprintf(why, whylen, "out of memory");
				return -ENOMEM;
			}
			buf = nb;
		}
		if ((whole = complete(buf, n))) {
			break;
		}
		r = BIO_read(bio, buf + n, (int)(cap - n));
		if (r <= 0 && BIO_should_retry(bio)) {
			w = BIO_wait(bio, deadline, 50);
			if (w > 0) {
				continue;
			}
			if (w == 0) {
				free(buf);
				snprintf(why, whylen, "timed out after %zu "
					 "bytes of the response", n);
				return -ETIMEDOUT;
			}
		}
		if (r <= 0) {
			break;
		}
		n += (size_t)r;
	}
	if (n == 0 || (!whole && truncated(buf, n))) {
		free(buf);
		if (n == 0) {
			snprintf(why, whylen, "empty response");
		} else {
			snprintf(why, whylen, "truncated response (%zu "
				 "bytes, the object is longer)", n);
		}
		return -EIO;
	}
	*body = buf;
	*len = n;
	return 0;
}

/* The OpenSSL reason of a failed exchange, into why. */
static void http_why(const char *what, char *why, size_t whylen)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(why, whylen, "%s: %s", what, r ? r : "connection failed");
	ERR_clear_error();
}

/* Splits an http:// URL. Returns 0 or -EINVAL (why set). */
static int split_url(const char *url, char **host, char **port, char **path,
		     char *why, size_t whylen)
{
	int use_ssl = 0;

	if (!OSSL_HTTP_parse_url(url, &use_ssl, NULL, host, port, NULL, path,
				 NULL, NULL)) {
		ERR_clear_error();
		snprintf(why, whylen, "cannot parse URL '%s'", url);
		return -EINVAL;
	}
	if (use_ssl) {
		/* NULL again: the caller frees them on its way out too. */
		OPENSSL_free(*host);
		OPENSSL_free(*port);
		OPENSSL_free(*path);
		*host = *port = *path = NULL;
		snprintf(why, whylen, "'%s': only http:// is used", url);
		return -EINVAL;
	}
	return 0;
}

int stls__http_ocsp(const char *url, X509 *leaf, X509 *issuer, int timeout,
		    unsigned char **body, size_t *len, char *why,
		    size_t whylen)
{
	char *host = NULL, *port = NULL, *path = NULL;
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf, issuer);
	BIO *reqbio = NULL, *rsp = NULL;
	int err;

	why[0] = '\0';
	if (!req || !id || !OCSP_request_add0_id(req, id)) {
		OCSP_CERTID_free(id);
		OCSP_REQUEST_free(req);
		ERR_clear_error();
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	err = split_url(url, &host, &port, &path, why, whylen);
	if (err) {
		goto out;
	}
	reqbio = ASN1_item_i2d_mem_bio(ASN1_ITEM_rptr(OCSP_REQUEST),
				       (const ASN1_VALUE *)req);
	if (!reqbio) {
		snprintf(why, whylen, "out of memory");
		err = -ENOMEM;
		goto out;
	}
	rsp = OSSL_HTTP_transfer(NULL, host, port, path, 0, "", NULL, NULL,
				 NULL, NULL, NULL, 0, NULL,
				 "application/ocsp-request", reqbio,
				 "application/ocsp-response", 1,
				 STLS__OCSP_MAX_RESP, timeout, 0);
	if (!rsp) {
		http_why(url, why, whylen);
		err = -EIO;
		goto out;
	}
	err = stls__http_body(rsp, STLS__OCSP_MAX_RESP, time(NULL) + timeout,
			      body, len, why, whylen);
out:
	ERR_clear_error();
	BIO_free_all(rsp);
	BIO_free(reqbio);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	OCSP_REQUEST_free(req); /* frees id too */
	return err;
}

int stls__http_get(const char *url, int timeout, size_t max,
		   unsigned char **body, size_t *len, char *why, size_t whylen)
{
	char *host = NULL, *port = NULL, *path = NULL;
	BIO *rsp;
	int err;

	why[0] = '\0';
	err = split_url(url, &host, &port, &path, why, whylen);
	if (err) {
		return err;
	}
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	rsp = OSSL_HTTP_get(url, "", NULL, NULL, NULL, NULL, NULL, 0, NULL,
			    NULL, 0, max, timeout);
	if (!rsp) {
		http_why(url, why, whylen);
		return -EIO;
	}
	err = stls__http_body(rsp, max, time(NULL) + timeout, body, len, why,
			      whylen);
	BIO_free_all(rsp);
	ERR_clear_error();
	return err;
}
