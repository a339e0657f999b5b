/*
 * loadgen's SIP: building OPTIONS requests and framing responses on a
 * stream (RFC 3261 section 18.3: the header block ends with an empty line,
 * Content-Length gives the body; compact forms l: and i: are accepted).
 */
#include "lg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t lg_sip_build(char *buf, size_t cap, const char *uri, unsigned lport,
		    uint64_t seq, int slot)
{
	int n;

	n = snprintf(buf, cap,
		     "OPTIONS %s SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS 127.0.0.1:%u;branch=z9hG4bK-lg%" PRIu64
		     ";rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:loadgen@bench.invalid>;tag=lg%d\r\n"
		     "To: <%s>\r\n"
		     "Call-ID: lg%" PRIu64 "@bench.invalid\r\n"
		     "CSeq: 1 OPTIONS\r\n"
		     "Content-Length: 0\r\n\r\n",
		     uri, lport, seq, slot, uri, seq);
	if (n < 0 || (size_t)n >= cap) {
		return 0;
	}
	return (size_t)n;
}

/* Value of header <lng> (or its compact form <shrt>) in h[0..len). */
static const char *find_hdr(const char *h, size_t len, const char *lng,
			    const char *shrt)
{
	const char *p = h, *end = h + len;
	size_t ll = strlen(lng), sl = strlen(shrt);

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if ((size_t)(end - p) > ll && strncasecmp(p, lng, ll) == 0) {
			return p + ll;
		}
		if ((size_t)(end - p) > sl && strncasecmp(p, shrt, sl) == 0) {
			return p + sl;
		}
	}
	return NULL;
}

int lg_sip_parse(const char *buf, size_t len, size_t max, size_t *total,
		 uint64_t *seq, bool *ok)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	const char *v;
	size_t hlen;

	if (!end) {
		return len < max ? 0 : -1;
	}
	hlen = (size_t)(end - buf) + 4;
	v = find_hdr(buf, hlen, "Content-Length:", "l:");
	*total = hlen + (v ? strtoul(v, NULL, 10) : 0);
	if (*total > max) {
		return -1;
	}
	if (len < *total) {
		return 0;
	}
	*ok = strncmp(buf, "SIP/2.0 200 ", 12) == 0;
	*seq = UINT64_MAX;
	v = find_hdr(buf, hlen, "Call-ID:", "i:");
	if (v) {
		while (*v == ' ' || *v == '\t') {
			v++;
		}
		if (sscanf(v, "lg%" SCNu64 "@", seq) != 1) {
			*seq = UINT64_MAX;
		}
	}
	return 1;
}
