/*
 * Server identity check for outbound connections: RFC 5922 section 7.2
 * (SIP domain certificates) with the matching rules of RFC 6125.
 *
 * The certificate matches SIP domain D when:
 *   - a subjectAltName URI is "sip:D" or "sips:D" (a URI with a user part,
 *     a port or parameters identifies something else and never matches);
 *   - a subjectAltName DNS name equals D, or, when wildcards are allowed,
 *     is "*.R" and D is one label followed by ".R" (R has at least two
 *     labels, so "*.test" never matches);
 *   - only when the certificate has no DNS or URI subjectAltName at all:
 *     its subject CN equals D (RFC 6125 section 6.4.4).
 * IP address SANs never match a domain. Comparisons ignore ASCII case.
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509v3.h>

static bool eq_nocase(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

static bool uri_matches(const char *u, size_t n, const char *dom)
{
	if (n > 4 && strncasecmp(u, "sip:", 4) == 0) {
		return eq_nocase(u + 4, n - 4, dom);
	}
	if (n > 5 && strncasecmp(u, "sips:", 5) == 0) {
		return eq_nocase(u + 5, n - 5, dom);
	}
	return false;
}

static bool dns_matches(const char *d, size_t n, const char *dom, bool wild)
{
	const char *dot;

	if (memchr(d, '\0', n)) {
		return false; /* embedded NUL: forged name */
	}
	if (eq_nocase(d, n, dom)) {
		return true;
	}
	if (!wild || n < 3 || d[0] != '*' || d[1] != '.') {
		return false;
	}
	/* The rest after "*." must have at least two labels. */
	if (!memchr(d + 2, '.', n - 2)) {
		return false;
	}
	dot = strchr(dom, '.');
	if (!dot || dot == dom) {
		return false;
	}
	return eq_nocase(d + 1, n - 1, dot);
}

/* Append "what" to the detail list, ignoring truncation. */
static void note(char *detail, size_t dlen, size_t *pos, const char *kind,
		 const char *s, size_t n)
{
	int k;

	if (*pos >= dlen) {
		return;
	}
	k = snprintf(detail + *pos, dlen - *pos, "%s%s:%.*s",
		     *pos ? ", " : "", kind, (int)(n > 200 ? 200 : n), s);
	if (k > 0) {
		*pos += (size_t)k;
	}
}

static int check_sans(GENERAL_NAMES *gens, const char *dom, bool wild,
		      bool *has_name, char *detail, size_t dlen, size_t *pos)
{
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const char *s;
		size_t n;

		if (g->type == GEN_URI) {
			s = (const char *)ASN1_STRING_get0_data(g->d.ia5);
			n = (size_t)ASN1_STRING_length(g->d.ia5);
			*has_name = true;
			if (uri_matches(s, n, dom)) {
				return 0;
			}
			note(detail, dlen, pos, "URI", s, n);
		} else if (g->type == GEN_DNS) {
			s = (const char *)ASN1_STRING_get0_data(g->d.ia5);
			n = (size_t)ASN1_STRING_length(g->d.ia5);
			*has_name = true;
			if (dns_matches(s, n, dom, wild)) {
				return 0;
			}
			note(detail, dlen, pos, "DNS", s, n);
		} else if (g->type == GEN_IPADD) {
			note(detail, dlen, pos, "IP", "(never matches)", 15);
		}
	}
	return -EACCES;
}

static int check_cn(X509 *cert, const char *dom, char *detail, size_t dlen,
		    size_t *pos)
{
	X509_NAME *sn = X509_get_subject_name(cert);
	int idx = -1;
	int rc = -EACCES;

	while ((idx = X509_NAME_get_index_by_NID(sn, NID_commonName, idx)) >=
	       0) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(
			X509_NAME_get_entry(sn, idx));
		unsigned char *u = NULL;
		int n = ASN1_STRING_to_UTF8(&u, d);

		if (n < 0) {
			continue;
		}
		if (dns_matches((const char *)u, (size_t)n, dom, false)) {
			rc = 0;
		} else {
			note(detail, dlen, pos, "CN", (const char *)u,
			     (size_t)n);
		}
		OPENSSL_free(u);
		if (rc == 0) {
			break;
		}
	}
	return rc;
}

/*
 * Check cert against SIP domain `domain` (rules in the file header).
 * On a mismatch detail receives "expected SIP domain <domain>, certificate
 * has URI:..., DNS:..., CN:...". Returns 0 (match), -EACCES (no match) or
 * -EINVAL (NULL cert or empty domain). Any thread.
 */
int stls__identity_check(X509 *cert, const char *domain, bool wildcard,
			 char *detail, size_t dlen)
{
	GENERAL_NAMES *gens;
	bool has_name = false;
	char had[384] = "";
	size_t pos = 0;
	int rc;

	if (!cert || !domain || !*domain) {
		return -EINVAL;
	}
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	rc = gens ? check_sans(gens, domain, wildcard, &has_name, had,
			       sizeof(had), &pos)
		  : -EACCES;
	GENERAL_NAMES_free(gens);
	if (rc != 0 && !has_name) {
		rc = check_cn(cert, domain, had, sizeof(had), &pos);
	}
	if (rc != 0 && detail && dlen) {
		snprintf(detail, dlen,
			 "expected SIP domain %s%s, certificate has %s",
			 domain, wildcard ? " (wildcards allowed)" : "",
			 pos ? had : "no usable name");
	}
	return rc;
}
