/*
 * SIP message parsing: start line, header index, body (RFC 3261 sections 7,
 * 18.3 and 25). See stls/sip/msg.h for the contract.
 *
 * Design: one pass over the header section builds an index of header lines;
 * each line gets its known-header id from a table (long and compact names),
 * so lookups by id cost one array read and lookups by name one compare per
 * line. Values keep their folds (CRLF followed by SP/HT), which every value
 * parser treats as LWS. Bytes are checked on the way: control bytes in the
 * start line, NUL outside a quoted-pair, and bare CR or LF are refused.
 */
#include "stls/sip/msg.h"

#include <errno.h>

#include "stls/sip/uri.h"

struct hdr_name {
	const char *name; /* lowercase: compared by name_is() */
	char compact; /* 0 when none */
	enum stls_sip_hdr id;
	size_t len;
};

/* Most frequent first: stls_sip_hdr_id() stops at the first match. */
static const struct hdr_name hdr_names[] = {
	{ "via", 'v', STLS_SIP_HDR_VIA, 3 },
	{ "from", 'f', STLS_SIP_HDR_FROM, 4 },
	{ "to", 't', STLS_SIP_HDR_TO, 2 },
	{ "call-id", 'i', STLS_SIP_HDR_CALL_ID, 7 },
	{ "cseq", 0, STLS_SIP_HDR_CSEQ, 4 },
	{ "max-forwards", 0, STLS_SIP_HDR_MAX_FORWARDS, 12 },
	{ "content-length", 'l', STLS_SIP_HDR_CONTENT_LENGTH, 14 },
	{ "contact", 'm', STLS_SIP_HDR_CONTACT, 7 },
	{ "content-type", 'c', STLS_SIP_HDR_CONTENT_TYPE, 12 },
	{ "route", 0, STLS_SIP_HDR_ROUTE, 5 },
	{ "record-route", 0, STLS_SIP_HDR_RECORD_ROUTE, 12 },
	{ "path", 0, STLS_SIP_HDR_PATH, 4 },
	{ "supported", 'k', STLS_SIP_HDR_SUPPORTED, 9 },
	{ "require", 0, STLS_SIP_HDR_REQUIRE, 7 },
	{ "proxy-require", 0, STLS_SIP_HDR_PROXY_REQUIRE, 13 },
	{ "content-encoding", 'e', STLS_SIP_HDR_CONTENT_ENCODING, 16 },
	{ "subject", 's', STLS_SIP_HDR_SUBJECT, 7 },
	{ "event", 'o', STLS_SIP_HDR_EVENT, 5 },
	{ "refer-to", 'r', STLS_SIP_HDR_REFER_TO, 8 },
	{ "allow-events", 'u', STLS_SIP_HDR_ALLOW_EVENTS, 12 },
	{ "session-expires", 'x', STLS_SIP_HDR_SESSION_EXPIRES, 15 },
	{ "referred-by", 'b', STLS_SIP_HDR_REFERRED_BY, 11 },
};

static const char *const method_names[] = {
	[STLS_SIP_M_INVITE] = "INVITE",	      [STLS_SIP_M_ACK] = "ACK",
	[STLS_SIP_M_BYE] = "BYE",	      [STLS_SIP_M_CANCEL] = "CANCEL",
	[STLS_SIP_M_OPTIONS] = "OPTIONS",     [STLS_SIP_M_REGISTER] = "REGISTER",
	[STLS_SIP_M_SUBSCRIBE] = "SUBSCRIBE", [STLS_SIP_M_NOTIFY] = "NOTIFY",
	[STLS_SIP_M_REFER] = "REFER",	      [STLS_SIP_M_PRACK] = "PRACK",
	[STLS_SIP_M_UPDATE] = "UPDATE",	      [STLS_SIP_M_MESSAGE] = "MESSAGE",
	[STLS_SIP_M_INFO] = "INFO",	      [STLS_SIP_M_PUBLISH] = "PUBLISH",
};

/*
 * Case-insensitive compare of <name> with a lowercase name of letters and
 * '-' of the same length: OR-ing 0x20 maps only A-Z onto a-z; '-' must
 * match exactly (CR | 0x20 is '-' too).
 */
static bool name_is(struct stls_slice name, const char *lower)
{
	size_t i;

	for (i = 0; i < name.len; i++) {
		char c = name.p[i];

		if ((c | 0x20) != lower[i] || (lower[i] == '-' && c != '-')) {
			return false;
		}
	}
	return true;
}

enum stls_sip_hdr stls_sip_hdr_id(struct stls_slice name)
{
	char c = name.len ? (char)(name.p[0] | 0x20) : 0;
	size_t i;

	/* Hot path (every header line): length and first byte, then the
	 * bytes. A one-byte name is a compact form or nothing. */
	for (i = 0; i < STLS_ARRAY_SIZE(hdr_names); i++) {
		const struct hdr_name *h = &hdr_names[i];

		if (name.len == 1 ? h->compact && c == h->compact :
		    name.len == h->len && c == h->name[0] &&
		    name_is(name, h->name)) {
			return h->id;
		}
	}
	return STLS_SIP_HDR_OTHER;
}

enum stls_sip_method stls_sip_method_id(struct stls_slice name)
{
	size_t i;

	for (i = 1; i < STLS_ARRAY_SIZE(method_names); i++) {
		if (stls_slice_eq(name, stls_slice_cstr(method_names[i]))) {
			return (enum stls_sip_method)i;
		}
	}
	return STLS_SIP_M_OTHER;
}

static int bad(struct stls_sip_msg *m, const char *why)
{
	m->error = why;
	return -EBADMSG;
}

static const char *find_crlf(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && (q = memchr(q, '\r', (size_t)(end - q))) != NULL) {
		if (q + 1 < end && q[1] == '\n') {
			return q;
		}
		q++;
	}
	return NULL;
}

static bool has_ctl(struct stls_slice s)
{
	size_t i;

	/* Most start lines hold no byte below SP and no DEL. */
	if (stls_sip_span_not_below(s, 0x20) == s.len &&
	    !memchr(s.p, 0x7f, s.len)) {
		return false;
	}
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return true;
		}
	}
	return false;
}

static bool version_ok(struct stls_slice v, struct stls_sip_msg *m, int *err)
{
	size_t i;

	if (stls_slice_eq_cstr_ci(v, "SIP/2.0")) {
		return true;
	}
	/* SIP/<digits>.<digits> is a version we do not speak (505). */
	if (stls_slice_has_prefix_ci(v, "SIP/") && v.len > 6) {
		for (i = 4; i < v.len; i++) {
			if (!stls_sip_is_digit(v.p[i]) && v.p[i] != '.') {
				break;
			}
		}
		if (i == v.len) {
			m->error = "unsupported SIP version";
			*err = -EPROTONOSUPPORT;
			return false;
		}
	}
	*err = bad(m, "bad SIP version");
	return false;
}

static int parse_response_line(struct stls_sip_msg *m, struct stls_slice l)
{
	int err = 0;
	size_t i;

	if (l.len < 11 || l.p[7] != ' ') {
		return bad(m, "bad status line");
	}
	if (!version_ok(stls_slice_make(l.p, 7), m, &err)) {
		return err;
	}
	for (i = 8; i < 11; i++) {
		if (!stls_sip_is_digit(l.p[i])) {
			return bad(m, "bad status code");
		}
		m->status = m->status * 10 + (unsigned)(l.p[i] - '0');
	}
	if (m->status < 100 || m->status > 699 ||
	    (l.len > 11 && l.p[11] != ' ')) {
		return bad(m, "bad status code");
	}
	m->reason = l.len > 12 ? stls_slice_make(l.p + 12, l.len - 12) :
				 stls_slice_make(NULL, 0);
	return 0;
}

static int parse_request_line(struct stls_sip_msg *m, struct stls_slice l)
{
	const char *sp1 = memchr(l.p, ' ', l.len), *sp2;
	struct stls_sip_uri uri;
	int err = 0;
	size_t i;

	if (!sp1 || sp1 == l.p) {
		return bad(m, "bad request line");
	}
	m->method = stls_slice_make(l.p, (size_t)(sp1 - l.p));
	for (i = 0; i < m->method.len; i++) {
		if (!stls_sip_is_token(m->method.p[i])) {
			return bad(m, "bad method");
		}
	}
	sp2 = memchr(sp1 + 1, ' ', (size_t)(l.p + l.len - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1) {
		return bad(m, "bad request line");
	}
	m->ruri = stls_slice_make(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	if (!version_ok(stls_slice_make(sp2 + 1, (size_t)(l.p + l.len - sp2 -
							  1)), m, &err)) {
		return err;
	}
	if (stls_sip_uri_parse(m->ruri, &uri) ||
	    (uri.kind != STLS_SIP_SCHEME_OTHER && uri.has_headers)) {
		return bad(m, "bad Request-URI");
	}
	m->method_id = stls_sip_method_id(m->method);
	return 0;
}

/*
 * Checks the bytes of a header value (folds allowed). Most values hold no
 * byte below 0x0e (so no NUL, LF or CR) at all: one pass 8 bytes at a
 * time says so; otherwise memchr() finds each NUL, LF and CR.
 */
static bool value_bytes_ok(struct stls_slice v)
{
	const char *p = v.p, *end = v.p + v.len;

	if (stls_sip_span_not_below(v, 0x0e) == v.len) {
		return true;
	}

	while ((p = memchr(p, '\0', (size_t)(end - p))) != NULL) {
		if (p == v.p || p[-1] != '\\') {
			return false;
		}
		p++;
	}
	for (p = v.p; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
		/* Only a fold may appear inside a value: CRLF then SP/HT. */
		if (p == v.p || p[-1] != '\r' || p + 1 == end ||
		    (p[1] != ' ' && p[1] != '\t')) {
			return false;
		}
	}
	for (p = v.p; (p = memchr(p, '\r', (size_t)(end - p))) != NULL; p++) {
		if (p + 1 == end || p[1] != '\n') {
			return false;
		}
	}
	return true;
}

static int add_header(struct stls_sip_msg *m, const char *ls, const char *le,
		      const char *end)
{
	struct stls_sip_hdr_line *h;
	const char *p = ls, *colon;

	if (m->n_hdrs == STLS_SIP_MAX_HEADERS) {
		m->error = "too many header lines";
		return -E2BIG;
	}
	while (p < le && stls_sip_is_token(*p)) {
		p++;
	}
	colon = p;
	while (colon < le && (*colon == ' ' || *colon == '\t')) {
		colon++;
	}
	if (p == ls || colon == le || *colon != ':') {
		return bad(m, "bad header line");
	}
	h = &m->hdrs[m->n_hdrs];
	h->name = stls_slice_make(ls, (size_t)(p - ls));
	h->value = stls_slice_trim(stls_slice_make(colon + 1,
						   (size_t)(le - colon - 1)));
	h->line = stls_slice_make(ls, (size_t)(end - ls));
	h->id = stls_sip_hdr_id(h->name);
	if (!value_bytes_ok(h->value)) {
		return bad(m, "bad byte in header value");
	}
	if (h->id != STLS_SIP_HDR_OTHER) {
		if (m->first[h->id] == 0) {
			m->first[h->id] = (uint16_t)(m->n_hdrs + 1);
		}
		m->last[h->id] = (uint16_t)(m->n_hdrs + 1);
		m->count[h->id]++;
	}
	m->n_hdrs++;
	return 0;
}

/* Indexes header lines from <p> to the empty line; sets m->hdr_end. */
static int parse_headers(struct stls_sip_msg *m, const char *p,
			 const char *end)
{
	const char *base = m->raw.p, *le, *next;
	int err;

	for (;;) {
		le = find_crlf(p, end);
		if (!le) {
			return bad(m, "header section not terminated");
		}
		if (le == p) {
			m->hdr_end = (size_t)(p - base);
			return 0;
		}
		if (*p == ' ' || *p == '\t') {
			return bad(m, "continuation line without header");
		}
		next = le + 2;
		while (next < end && (*next == ' ' || *next == '\t')) {
			le = find_crlf(next, end);
			if (!le) {
				return bad(m, "header section not terminated");
			}
			next = le + 2;
		}
		err = add_header(m, p, le, next);
		if (err) {
			return err;
		}
		p = next;
	}
}

static int parse_clen(struct stls_sip_msg *m)
{
	const struct stls_sip_hdr_line *h;
	size_t val, i;

	for (h = stls_sip_msg_find(m, STLS_SIP_HDR_CONTENT_LENGTH); h;
	     h = stls_sip_msg_next(m, h)) {
		if (h->value.len == 0 || h->value.len > 9) {
			return bad(m, "bad Content-Length");
		}
		for (val = 0, i = 0; i < h->value.len; i++) {
			if (!stls_sip_is_digit(h->value.p[i])) {
				return bad(m, "bad Content-Length");
			}
			val = val * 10 + (size_t)(h->value.p[i] - '0');
		}
		if (m->has_clen && val != m->clen) {
			return bad(m, "conflicting Content-Length");
		}
		m->has_clen = true;
		m->clen = val;
	}
	return 0;
}

int stls_sip_msg_parse(const char *data, size_t len, unsigned flags,
		       struct stls_sip_msg *m)
{
	const char *end = data + len, *sl;
	size_t body_off, avail;
	int err;

	memset(m, 0, offsetof(struct stls_sip_msg, hdrs));
	m->raw = stls_slice_make(data, len);
	sl = find_crlf(data, end);
	if (!sl || sl == data) {
		return bad(m, "no start line");
	}
	m->start = stls_slice_make(data, (size_t)(sl - data));
	if (has_ctl(m->start)) {
		return bad(m, "control byte in start line");
	}
	m->is_request = !stls_slice_has_prefix_ci(m->start, "SIP/");
	err = m->is_request ? parse_request_line(m, m->start) :
			      parse_response_line(m, m->start);
	if (!err) {
		err = parse_headers(m, sl + 2, end);
	}
	if (!err) {
		err = parse_clen(m);
	}
	if (err) {
		return err;
	}
	body_off = m->hdr_end + 2;
	avail = len - body_off;
	if ((flags & STLS_SIP_PARSE_STREAM) && !m->has_clen) {
		return bad(m, "missing Content-Length");
	}
	if (m->has_clen && m->clen > avail) {
		return bad(m, "Content-Length larger than the body");
	}
	m->body = stls_slice_make(data + body_off,
				  m->has_clen ? m->clen : avail);
	m->raw.len = body_off + m->body.len;
	return 0;
}

const struct stls_sip_hdr_line *stls_sip_msg_find(const struct stls_sip_msg *m,
						  enum stls_sip_hdr id)
{
	if (id <= STLS_SIP_HDR_OTHER || id >= STLS_SIP_HDR__COUNT ||
	    m->first[id] == 0) {
		return NULL;
	}
	return &m->hdrs[m->first[id] - 1];
}

const struct stls_sip_hdr_line *
stls_sip_msg_find_name(const struct stls_sip_msg *m, struct stls_slice name)
{
	enum stls_sip_hdr id = stls_sip_hdr_id(name);
	unsigned i;

	if (id != STLS_SIP_HDR_OTHER) {
		return stls_sip_msg_find(m, id);
	}
	for (i = 0; i < m->n_hdrs; i++) {
		if (m->hdrs[i].id == STLS_SIP_HDR_OTHER &&
		    stls_slice_eq_ci(m->hdrs[i].name, name)) {
			return &m->hdrs[i];
		}
	}
	return NULL;
}

const struct stls_sip_hdr_line *
stls_sip_msg_next(const struct stls_sip_msg *m,
		  const struct stls_sip_hdr_line *h)
{
	unsigned i = (unsigned)(h - m->hdrs) + 1;

	if (h->id != STLS_SIP_HDR_OTHER && i >= m->last[h->id]) {
		return NULL; /* h is the last line of its id */
	}
	for (; i < m->n_hdrs; i++) {
		if (m->hdrs[i].id != h->id) {
			continue;
		}
		if (h->id != STLS_SIP_HDR_OTHER ||
		    stls_slice_eq_ci(m->hdrs[i].name, h->name)) {
			return &m->hdrs[i];
		}
	}
	return NULL;
}

unsigned stls_sip_msg_count(const struct stls_sip_msg *m, enum stls_sip_hdr id)
{
	const struct stls_sip_hdr_line *h;
	unsigned n = 0;

	if (id > STLS_SIP_HDR_OTHER && id < STLS_SIP_HDR__COUNT) {
		return m->count[id];
	}
	for (h = stls_sip_msg_find(m, id); h; h = stls_sip_msg_next(m, h)) {
		n++;
	}
	return n;
}

void stls_sip_values_init(struct stls_sip_values *it,
			  const struct stls_sip_msg *m,
			  const struct stls_sip_hdr_line *first)
{
	it->msg = m;
	it->line = first;
	it->rest = first ? first->value : stls_slice_make(NULL, 0);
	if (first && it->rest.p == NULL) {
		it->rest = stls_slice_make(first->line.p, 0);
	}
}

/*
 * Length of the value at the start of <s>: up to the first comma outside
 * quotes and angle brackets, or all of <s>. -EBADMSG for an unterminated
 * quote or bracket.
 */
static ssize_t value_len(struct stls_slice s)
{
	const char *comma = memchr(s.p, ',', s.len);
	size_t n = comma ? (size_t)(comma - s.p) : s.len, i;
	int angle = 0;
	bool quoted = false;

	/* Most values (Via, plain URIs) hold no quote and no '<' before the
	 * comma: three vectorised scans instead of a byte loop. */
	if (!memchr(s.p, '"', n) && !memchr(s.p, '<', n)) {
		return (ssize_t)n;
	}
	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (quoted) {
			if (c == '\\') {
				i++;
			} else if (c == '"') {
				quoted = false;
			}
			continue;
		}
		if (c == '"') {
			quoted = true;
		} else if (c == '<') {
			angle++;
		} else if (c == '>' && angle) {
			angle--;
		} else if (c == ',' && !angle) {
			break;
		}
	}
	if (quoted || angle) {
		return -EBADMSG;
	}
	return (ssize_t)(i < s.len ? i : s.len);
}

int stls_sip_values_next(struct stls_sip_values *it, struct stls_slice *value)
{
	struct stls_slice s;
	ssize_t n;

	/* A line is finished when rest is NULL: move to the next line. */
	while (it->line && it->rest.p == NULL) {
		it->line = stls_sip_msg_next(it->msg, it->line);
		it->rest = it->line ? it->line->value : stls_slice_make(NULL, 0);
		if (it->line && it->rest.p == NULL) {
			it->rest = stls_slice_make(it->line->line.p, 0);
		}
	}
	if (!it->line) {
		return 0;
	}
	s = it->rest;
	n = value_len(s);
	if (n < 0) {
		return -EBADMSG;
	}
	*value = stls_slice_trim(stls_slice_make(s.p, (size_t)n));
	if ((size_t)n < s.len) {
		it->rest = stls_slice_make(s.p + n + 1, s.len - (size_t)n - 1);
	} else {
		it->rest = stls_slice_make(NULL, 0);
	}
	return 1;
}

static int parse_u32(struct stls_slice s, uint32_t *out)
{
	uint64_t val = 0;
	size_t i;

	if (s.len == 0 || s.len > 10) {
		return -EBADMSG;
	}
	for (i = 0; i < s.len; i++) {
		if (!stls_sip_is_digit(s.p[i])) {
			return -EBADMSG;
		}
		val = val * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (val > UINT32_MAX) {
		return -EBADMSG;
	}
	*out = (uint32_t)val;
	return 0;
}

int stls_sip_msg_cseq(const struct stls_sip_msg *m, uint32_t *num,
		      struct stls_slice *method)
{
	const struct stls_sip_hdr_line *h = stls_sip_msg_find(m,
							      STLS_SIP_HDR_CSEQ);
	struct stls_slice v;
	size_t i = 0, j;

	if (!h) {
		return -ENOENT;
	}
	if (stls_sip_msg_next(m, h)) {
		return -EBADMSG;
	}
	v = h->value;
	while (i < v.len && stls_sip_is_digit(v.p[i])) {
		i++;
	}
	if (parse_u32(stls_slice_make(v.p, i), num)) {
		return -EBADMSG;
	}
	j = i;
	while (j < v.len && stls_sip_is_lws(v.p[j])) {
		j++;
	}
	if (j == i || j == v.len) {
		return -EBADMSG;
	}
	*method = stls_slice_make(v.p + j, v.len - j);
	for (i = 0; i < method->len; i++) {
		if (!stls_sip_is_token(method->p[i])) {
			return -EBADMSG;
		}
	}
	return 0;
}

int stls_sip_msg_max_forwards(const struct stls_sip_msg *m, unsigned *out)
{
	const struct stls_sip_hdr_line *h =
		stls_sip_msg_find(m, STLS_SIP_HDR_MAX_FORWARDS);
	uint32_t v;

	if (!h) {
		return -ENOENT;
	}
	if (stls_sip_msg_next(m, h) || parse_u32(h->value, &v) || v > 255) {
		return -EBADMSG;
	}
	*out = v;
	return 0;
}

int stls_sip_msg_tag(const struct stls_sip_msg *m, enum stls_sip_hdr id,
		     struct stls_slice *tag)
{
	const struct stls_sip_hdr_line *h = stls_sip_msg_find(m, id);
	struct stls_sip_addr a;

	if (!h) {
		return -ENOENT;
	}
	if (stls_sip_addr_parse(h->value, false, &a)) {
		return -EBADMSG;
	}
	if (!stls_sip_param_find(a.params, "tag", tag) || tag->len == 0) {
		return -ENOENT;
	}
	return 0;
}
