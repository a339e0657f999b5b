/*
 * SIP stream framing: see stls/sip/framer.h for the rules (RFC 3261 section 18.3,
 * RFC 5626 section 4.4.1).
 *
 * Design: the framer keeps only offsets (where the blank-line search
 * resumes, the header length and Content-Length once known), so a message
 * fed one byte at a time is scanned once. The start line is checked as soon
 * as its first bytes arrive, so that a peer speaking something else (HTTP,
 * a TLS record inside TLS, binary noise) is closed at once instead of after
 * max_msg bytes.
 */
#include "stls/sip/framer.h"

#include <errno.h>

static const char *const err_names[] = {
	[STLS_SIP_FRAME_OK] = "ok",
	[STLS_SIP_FRAME_GARBAGE] = "not a SIP message",
	[STLS_SIP_FRAME_TOO_BIG] = "message too big",
	[STLS_SIP_FRAME_NO_CLEN] = "missing Content-Length",
	[STLS_SIP_FRAME_BAD_CLEN] = "bad Content-Length",
};

const char *stls_sip_frame_err_str(enum stls_sip_frame_err err)
{
	if ((size_t)err >= STLS_ARRAY_SIZE(err_names)) {
		return "unknown";
	}
	return err_names[err];
}

void stls_sip_framer_init(struct stls_sip_framer *fr, size_t max_msg)
{
	fr->max_msg = max_msg ? max_msg : STLS_SIP_MAX_MSG_DEFAULT;
	fr->scan = 0;
	fr->hdr_len = 0;
	fr->body_len = 0;
}

static void fail(struct stls_sip_framer *fr, struct stls_sip_frame *f,
		 enum stls_sip_frame_err err)
{
	f->kind = STLS_SIP_FRAME_ERROR;
	f->err = err;
	fr->scan = 0;
	fr->hdr_len = 0;
}

/*
 * Checks the bytes of the start line seen so far (up to <n>, the line may be
 * incomplete). A request starts with a token method and a space; a response
 * with "SIP/". Control bytes are never allowed in a start line. Returns
 * false for garbage.
 */
static bool start_line_plausible(const char *p, size_t n, bool complete)
{
	static const char ver[] = " SIP/";
	const char *space = memchr(p, ' ', n);
	size_t i, sp = space ? (size_t)(space - p) : n;

	if (stls_sip_span_not_below(stls_slice_make(p, n), 0x20) < n ||
	    memchr(p, 0x7f, n)) {
		return false;
	}
	if (strncmp(p, "SIP/", n < 4 ? n : 4) == 0) {
		return true; /* a response (or its first bytes) */
	}
	for (i = 0; i < sp; i++) {
		if (!stls_sip_is_token(p[i])) {
			return false;
		}
	}
	if (sp == 0 || (sp == n && n > 32)) {
		return false; /* empty method, or a method too long */
	}
	if (!complete) {
		return true;
	}
	/* A request line ends in " SIP/"; trailing blanks (RFC 4475 "trws")
	 * and another version ("badvers") still make a SIP request, which
	 * the parser refuses with 400 or 505. */
	while (n > sp && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
		n--;
	}
	for (i = n; i > sp && p[i - 1] != ' '; i--) {
	}
	return sp < n && i > sp && n - i >= sizeof(ver) - 1 &&
	       memcmp(p + i - 1, ver, sizeof(ver) - 1) == 0;
}

static const char *find_crlf(const char *p, size_t n)
{
	const char *q = p;

	while ((q = memchr(q, '\r', n - (size_t)(q - p))) != NULL) {
		if ((size_t)(q - p) + 1 < n && q[1] == '\n') {
			return q;
		}
		q++;
	}
	return NULL;
}

/* Parses a Content-Length value: digits with surrounding LWS only. */
static int parse_clen(const char *p, size_t n, size_t max, size_t *out)
{
	struct stls_slice v = stls_slice_trim(stls_slice_make(p, n));
	size_t val = 0, i;

	if (v.len == 0) {
		return -EINVAL;
	}
	for (i = 0; i < v.len; i++) {
		if (!stls_sip_is_digit(v.p[i])) {
			return -EINVAL;
		}
		val = val * 10 + (size_t)(v.p[i] - '0');
		if (val > max) {
			return -E2BIG;
		}
	}
	*out = val;
	return 0;
}

/* True when header line <p, n> is named Content-Length or "l". */
static bool is_clen_name(const char *p, size_t n, size_t *colon)
{
	size_t i = 0, name_end;

	if (n == 0 || ((p[0] | 0x20) != 'l' && (p[0] | 0x20) != 'c')) {
		return false; /* most lines: no need to find the colon */
	}
	while (i < n && stls_sip_is_token(p[i])) {
		i++;
	}
	name_end = i;
	while (i < n && (p[i] == ' ' || p[i] == '\t')) {
		i++;
	}
	if (i >= n || p[i] != ':') {
		return false;
	}
	*colon = i;
	return (name_end == 1 && (p[0] == 'l' || p[0] == 'L')) ||
	       (name_end == 14 && strncasecmp(p, "Content-Length", 14) == 0);
}

/*
 * Finds Content-Length in the header section <h, n> (start line excluded
 * by the caller). Folded values are joined by the LWS rule. Returns 0,
 * -ENOENT, -EINVAL (bad or conflicting), -E2BIG (over max).
 */
static int header_clen(const char *h, size_t n, size_t max, size_t *out)
{
	size_t pos = 0, colon, found = 0, val;
	bool have = false;
	int err;

	while (pos < n) {
		const char *eol = find_crlf(h + pos, n - pos);
		size_t end = eol ? (size_t)(eol - h) : n;
		size_t vend = end;

		/* Extend over folded continuation lines. */
		while (vend + 2 < n && (h[vend + 2] == ' ' ||
					h[vend + 2] == '\t')) {
			eol = find_crlf(h + vend + 2, n - vend - 2);
			vend = eol ? (size_t)(eol - h) : n;
		}
		if (is_clen_name(h + pos, end - pos, &colon)) {
			err = parse_clen(h + pos + colon + 1,
					 vend - pos - colon - 1, max, &val);
			if (err) {
				return err;
			}
			if (have && val != found) {
				return -EINVAL;
			}
			have = true;
			found = val;
		}
		pos = vend + 2;
	}
	if (!have) {
		return -ENOENT;
	}
	*out = found;
	return 0;
}

/* Skips single CRLFs; reports a double CRLF as a ping. */
static size_t skip_crlfs(const char *d, size_t len, bool *ping, bool *partial)
{
	size_t off = 0;

	*ping = false;
	*partial = false;
	while (off < len && d[off] == '\r') {
		if (off + 4 <= len && memcmp(d + off, "\r\n\r\n", 4) == 0) {
			*ping = true;
			return off;
		}
		if (off + 2 > len || d[off + 1] != '\n') {
			*partial = off + 2 > len;
			return off;
		}
		if (off + 2 == len || (off + 3 == len && d[off + 2] == '\r')) {
			/* Could still become a ping: wait. */
			*partial = true;
			return off;
		}
		off += 2;
	}
	return off;
}

static void find_header_end(struct stls_sip_framer *fr, const char *d,
			    size_t len, struct stls_sip_frame *f)
{
	const char *p = d + (fr->scan > 3 ? fr->scan - 3 : 0);
	const char *hit = NULL;

	while ((p = memchr(p, '\r', len - (size_t)(p - d))) != NULL) {
		if ((size_t)(p - d) + 4 <= len && memcmp(p, "\r\n\r\n", 4) == 0) {
			hit = p;
			break;
		}
		p++;
	}
	if (!hit) {
		fr->scan = len;
		if (len > fr->max_msg) {
			fail(fr, f, STLS_SIP_FRAME_TOO_BIG);
		}
		return;
	}
	fr->hdr_len = (size_t)(hit - d) + 4;
	if (fr->hdr_len > fr->max_msg) {
		fail(fr, f, STLS_SIP_FRAME_TOO_BIG);
	}
}

static void check_clen(struct stls_sip_framer *fr, const char *d,
		       struct stls_sip_frame *f)
{
	const char *first = find_crlf(d, fr->hdr_len);
	size_t sl = (size_t)(first - d);
	int err;

	f->hdr_len = fr->hdr_len;
	err = header_clen(d + sl + 2, fr->hdr_len - 4 - sl, fr->max_msg,
			  &fr->body_len);
	if (err || fr->hdr_len + fr->body_len > fr->max_msg) {
		f->msg = stls_slice_make(d, fr->hdr_len);
		fail(fr, f, err == -ENOENT ? STLS_SIP_FRAME_NO_CLEN :
		     err == -E2BIG || !err ? STLS_SIP_FRAME_TOO_BIG :
					     STLS_SIP_FRAME_BAD_CLEN);
	}
}

void stls_sip_framer_next(struct stls_sip_framer *fr, const char *data,
			  size_t len, struct stls_sip_frame *f)
{
	const char *d, *eol;
	size_t skip = 0, n, line;
	bool ping, partial;

	memset(f, 0, sizeof(*f));
	f->kind = STLS_SIP_FRAME_NEED_MORE;
	if (fr->hdr_len == 0 && fr->scan == 0) {
		skip = skip_crlfs(data, len, &ping, &partial);
		f->consumed = skip;
		if (ping) {
			f->kind = STLS_SIP_FRAME_PING;
			f->consumed = skip + 4;
			return;
		}
		if (partial || skip == len) {
			return;
		}
	}
	d = data + skip;
	n = len - skip;
	f->is_request = !(n >= 4 && memcmp(d, "SIP/", 4) == 0);
	eol = find_crlf(d, n);
	line = eol ? (size_t)(eol - d) : n;
	if (!eol && line && d[line - 1] == '\r') {
		line--; /* the CR of a CRLF still on its way */
	}
	if (!start_line_plausible(d, line, eol != NULL)) {
		fail(fr, f, STLS_SIP_FRAME_GARBAGE);
		return;
	}
	if (fr->hdr_len == 0) {
		find_header_end(fr, d, n, f);
		if (f->kind == STLS_SIP_FRAME_ERROR || fr->hdr_len == 0) {
			return;
		}
		check_clen(fr, d, f);
		if (f->kind == STLS_SIP_FRAME_ERROR) {
			return;
		}
	}
	if (n < fr->hdr_len + fr->body_len) {
		return;
	}
	f->kind = STLS_SIP_FRAME_MESSAGE;
	f->msg = stls_slice_make(d, fr->hdr_len + fr->body_len);
	f->hdr_len = fr->hdr_len;
	f->body_len = fr->body_len;
	f->consumed = skip + f->msg.len;
	fr->scan = 0;
	fr->hdr_len = 0;
	fr->body_len = 0;
}
