/*
 * Internals of lib/revoc (docs/ocsp.md), for lib/tls and the tests: the
 * checks of OCSP responses and CRLs that come from the network (untrusted
 * input: fuzz/fuzz_ocsp.c, fuzz/fuzz_crl.c), the HTTP exchanges, the
 * store of staples and the store of refreshed CRLs. The public side is
 * include/stls/revoc.h.
 */
#ifndef STLS_REVOC_REVOC_H
#define STLS_REVOC_REVOC_H

#include <time.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "stls/common.h"
#include "stls/revoc.h"

#pragma GCC visibility push(hidden)

/* Clock skew allowed on thisUpdate (and, for peers' staples, nextUpdate). */
#define STLS__OCSP_SKEW 300

/* Largest response accepted over HTTP. */
#define STLS__OCSP_MAX_RESP (128 * 1024)
#define STLS__CRL_MAX_RESP (32 * 1024 * 1024)

/* Back-off after a failed fetch: 5 s doubling up to 10 min. */
#define STLS__BACKOFF_MIN 5
#define STLS__BACKOFF_MAX 600

/* What one OCSP response says about one certificate. */
struct stls__ocsp_result {
	int status;          /* V_OCSP_CERTSTATUS_GOOD/REVOKED/UNKNOWN */
	time_t this_update;
	time_t next_update;  /* 0: the response gives none */
	time_t revoked_at;   /* REVOKED only */
	int reason;          /* REVOKED: CRL reason code, or -1 */
};

/*
 * Checks <der> (len bytes) as the OCSP response (RFC 6960) for <leaf>
 * issued by <issuer>, at time <now>: a well-formed "successful" basic
 * response, signed by <issuer> itself or by a responder certificate that
 * <issuer> issued with id-kp-OCSPSigning (section 4.2.2.2) and that is
 * valid at <now>, with a SingleResponse for <leaf> (any CertID hash), and
 * thisUpdate <= now + skew and, when given, nextUpdate > now - skew.
 * Returns 0 with *out filled, -EBADMSG when the response is malformed,
 * unsigned, not the responder's or not about <leaf>, -EPROTO when the
 * responder answered with an error status, -ESTALE when it is out of its
 * time window (*out is filled then); *why says why (always terminated).
 */
STLS_MUST_USE int stls__ocsp_check(const unsigned char *der, size_t len,
				   X509 *leaf, X509 *issuer, time_t now,
				   long skew, struct stls__ocsp_result *out,
				   char *why, size_t whylen);

/* ASN.1 time to time_t (UTC). 0 for NULL or a bad time. */
time_t stls__asn1_to_time(const ASN1_TIME *t);

/* <t> as "2026-12-06 18:00:00 UTC" in buf ("?" if it cannot be).
 * Returns buf. */
const char *stls__time_str(time_t t, char *buf, size_t len);

/*
 * The issuer of <leaf> among <certs> (any order; NULL allowed): a
 * certificate whose subject is leaf's issuer and whose key verifies
 * leaf's signature. Borrowed, or NULL.
 */
X509 *stls__find_issuer(X509 *leaf, STACK_OF(X509) *certs);

/* Whether <x> carries the TLS Feature extension with status_request. */
bool stls__must_staple(X509 *x);

/*
 * HTTP (http_fetch.c), blocking, HTTP/1.0 through OpenSSL's client, no
 * proxy, http:// only, at most <timeout> seconds. _ocsp() POSTs an OCSP
 * request for <leaf>/<issuer> to <url> (RFC 6960 appendix A.1); _get()
 * GETs <url> (a CRL). On success *body (malloc'd, the caller frees it)
 * holds the response body (at most <max> bytes). Returns 0, -EINVAL for
 * an unusable URL, -ENOMEM, or -EIO when the exchange failed; *why says
 * why.
 */
STLS_MUST_USE int stls__http_ocsp(const char *url, X509 *leaf, X509 *issuer,
				  int timeout, unsigned char **body,
				  size_t *len, char *why, size_t whylen);
STLS_MUST_USE int stls__http_get(const char *url, int timeout, size_t max,
				 unsigned char **body, size_t *len, char *why,
				 size_t whylen);

/*
 * The body of a response whose headers OpenSSL's client has read: reads
 * <bio> to the end of its DER or PEM object (or of the stream) into a new
 * buffer (free()) of at most <max> bytes, waiting at most until
 * <deadline>. Returns 0, -EIO (empty, larger than max, truncated),
 * -ETIMEDOUT or -ENOMEM, why set. Both exchanges above end with it;
 * exposed for fuzz/fuzz_http.c, which feeds it from memory.
 */
STLS_MUST_USE int stls__http_body(BIO *bio, size_t max, time_t deadline,
				  unsigned char **body, size_t *len,
				  char *why, size_t whylen);

/*
 * Staples (staple.c): one entry per certificate and source, shared by
 * every profile (and set) that staples that certificate from that
 * source. _get() finds or makes the entry for <leaf> (issuer <issuer>)
 * with <source>: "on" (fetch from the certificate's AIA responder) or
 * "file:PATH" (read now, and at every _get(): a valid newer response
 * replaces the held one, anything else is reported in *why and changes
 * nothing). Returns 0 with a reference in *out, -ENOENT when "on" finds
 * no http:// responder URL in the certificate, -ENOMEM; a file that cannot
 * be used is not an error (0, with *why set), the entry then staples
 * what it had, if anything.
 */
struct stls__staple;

STLS_MUST_USE int stls__staple_get(X509 *leaf, X509 *issuer,
				   const char *source, time_t now,
				   struct stls__staple **out, char *why,
				   size_t whylen);
void stls__staple_put(struct stls__staple *st);

/* The certificate of the entry (borrowed). */
X509 *stls__staple_leaf(const struct stls__staple *st);

/*
 * The response to staple at <now>: a copy made with OPENSSL_malloc() (for
 * SSL_set_tlsext_status_ocsp_resp(), which takes it). Returns 0, or
 * -ENOENT when there is nothing current and good to staple (the first
 * time that happens because the held one expired, it is logged),
 * -ENOMEM.
 */
STLS_MUST_USE int stls__staple_copy(struct stls__staple *st, time_t now,
				    unsigned char **der, size_t *len);

/* What tls.info shows about the entry; <out> is filled in full. */
void stls__staple_status(struct stls__staple *st, time_t now,
			 struct stls_cert_status *out);

/*
 * Fetches every "on" entry due at <now> and applies the answers. Returns
 * the time the next one is due (0: none held).
 */
time_t stls__staple_refresh(int timeout, time_t now);

/*
 * Applies one answer to an entry, as the refresh does after a fetch:
 * <der> the response (NULL: the fetch failed with <err>). Exposed for
 * the tests of the schedule. Returns the entry's next fetch time.
 */
time_t stls__staple_apply(struct stls__staple *st, const unsigned char *der,
			  size_t len, const char *err, time_t now);

/* Entries in the store (tests). */
size_t stls__staple_count(void);

/*
 * CRL checks (crl_check.c): parses <data> (DER or PEM) as one CRL issued
 * and signed by <issuer>, current at <now> (lastUpdate <= now + skew,
 * nextUpdate given and after now), no delta CRL. Returns 0 and the CRL in
 * *out (the caller owns it), -EBADMSG (malformed, wrong issuer, bad
 * signature, delta) or -ESTALE (out of its time window), with *why.
 */
STLS_MUST_USE int stls__crl_check(const unsigned char *data, size_t len,
				  X509 *issuer, time_t now, X509_CRL **out,
				  char *why, size_t whylen);

/*
 * Whether <fresh> may replace <held> (NULL: anything may): issued later,
 * or as late with a higher CRL number. Returns 1 newer, 0 the same, -1
 * older.
 */
int stls__crl_compare(X509_CRL *fresh, X509_CRL *held);

/*
 * Distribution points (crl_check.c): the http:// URIs of the CRL's
 * Issuing Distribution Point, then of the CRL Distribution Points of
 * every certificate in <certs> issued under the CRL's issuer name, each
 * once, at most <max>; copies (free each). Returns how many were written.
 */
size_t stls__crl_urls(X509_CRL *crl, STACK_OF(X509) *certs, char **urls,
		      size_t max);

/*
 * Refreshed CRLs (crl_slot.c): one slot per CA (by issuer name). _get()
 * finds or makes the slot of <crl>'s issuer, verified by <issuer>,
 * fetched from <urls> (added to the slot's own, up to 4), and offers
 * <crl> to it (kept when newer than what the slot holds). Returns 0 with
 * a reference in *out, or -ENOMEM.
 */
struct stls__crlslot;

STLS_MUST_USE int stls__crlslot_get(X509_CRL *crl, X509 *issuer,
				    char *const *urls, size_t nurls,
				    struct stls__crlslot **out);
void stls__crlslot_put(struct stls__crlslot *s);

/*
 * The X509_STORE lookup_crls callback of contexts with crl_refresh: the
 * store's own CRLs for <nm> (OpenSSL's default lookup), plus the slot's
 * latest; OpenSSL then uses the newest current one.
 */
STACK_OF(X509_CRL) *stls__crlslot_lookup(const X509_STORE_CTX *ctx,
					 const X509_NAME *nm);

/*
 * Fetches every slot due at <now> (at nextUpdate, at the latest
 * <interval> s after the last fetch, after back-off) and applies the
 * answers. Returns the next due time (0: no slot).
 */
time_t stls__crlslot_refresh(int timeout, int interval, time_t now);

/* The slot's CRL held now (a new reference; NULL: none). Tests. */
X509_CRL *stls__crlslot_get1_crl(struct stls__crlslot *s);

/* Applies one fetch result to a slot (NULL data: failed with <err>),
 * as the refresh does. Returns the next fetch time. Tests. */
time_t stls__crlslot_apply(struct stls__crlslot *s, const unsigned char *data,
			   size_t len, const char *err, int interval,
			   time_t now);

/* Calls fn for each slot under the store's lock (tls.info). */
size_t stls__crlslot_list(void (*fn)(const struct stls_crl_status *st,
				     void *arg),
			  void *arg);

#pragma GCC visibility pop

#endif
