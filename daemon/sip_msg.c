/*
 * SIP message parsing: start line, header index, body (RFC 3261 sections 7,
 * 18.3 and 25). See sip_msg.h for the contract.
 *
 * Design: one pass over the header section builds an index of header lines;
 * each line gets its known-header id from a table (long and compact names),
 * so lookups by id cost one array read and lookups by name one compare per
 * line. Values keep their folds (CRLF followed by SP/HT), which every value
 * parser treats as LWS. Bytes are checked on the way: control bytes in the
 * start line, NUL outside a quoted-pair, and bare CR or LF are refused.
 */
#include "sip_msg.h"

#include <errno.h>

#include "sip_uri.h"
#include "sip_via.h"

struct hdr_name {
	const char *name;
	char compact; /* 0 when none */
	enum stls_sip_hdr id;
	size_t len;
};

static const struct hdr_name hdr_names[] = {
	{ "Call-ID", 'i', STLS_SIP_HDR_CALL_ID, 7 },
	{ "Contact", 'm', STLS_SIP_HDR_CONTACT, 7 },
	{ "Content-Encoding", 'e', STLS_SIP_HDR_CONTENT_ENCODING, 16 },
	{ "Content-Length", 'l', STLS_SIP_HDR_CONTENT_LENGTH, 14 },
	{ "Content-Type", 'c', STLS_SIP_HDR_CONTENT_TYPE, 12 },
	{ "From", 'f', STLS_SIP_HDR_FROM, 4 },
	{ "Subject", 's', STLS_SIP_HDR_SUBJECT, 7 },
	{ "Supported", 'k', STLS_SIP_HDR_SUPPORTED, 9 },
	{ "To", 't', STLS_SIP_HDR_TO, 2 },
	{ "Via", 'v', STLS_SIP_HDR_VIA, 3 },
	{ "Event", 'o', STLS_SIP_HDR_EVENT, 5 },
	{ "Refer-To", 'r', STLS_SIP_HDR_REFER_TO, 8 },
	{ "Allow-Events", 'u', STLS_SIP_HDR_ALLOW_EVENTS, 12 },
	{ "Session-Expires", 'x', STLS_SIP_HDR_SESSION_EXPIRES, 15 },
	{ "Referred-By", 'b', STLS_SIP_HDR_REFERRED_BY, 11 },
	{ "CSeq", 0, STLS_SIP_HDR_CSEQ, 4 },
	{ "Max-Forwards", 0, STLS_SIP_HDR_MAX_FORWARDS, 12 },
	{ "Route", 0, STLS_SIP_HDR_ROUTE, 5 },
	{ "Record-Route", 0, STLS_SIP_HDR_RECORD_ROUTE, 12 },
	{ "Path", 0, STLS_SIP_HDR_PATH, 4 },
	{ "Require", 0, STLS_SIP_HDR_REQUIRE, 7 },
	{ "Proxy-Require", 0, STLS_SIP_HDR_PROXY_REQUIRE, 13 },
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

enum stls_sip_hdr stls_sip_hdr_id(struct stls_slice name)
{
	size_t i;

	/* Hot path (every header line): length first, then the bytes. */
	for (i = 0; i < STLS_ARRAY_SIZE(hdr_names); i++) {
		const struct hdr_name *h = &hdr_names[i];

		if (name.len == 1) {
			if (h->compact && (name.p[0] | 0x20) == h->compact) {
				return h->id;
			}
			continue;
		}
		if (name.len == h->len &&
		    (name.p[0] | 0x20) == (h->name[0] | 0x20) &&
		    strncasecmp(name.p, h->name, name.len) == 0) {
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
 * Checks the bytes of a header value (folds allowed). memchr() does the
 * scanning (vectorised in libc): most values hold no CR, LF or NUL at all.
 */
static bool value_bytes_ok(struct stls_slice v)
{
	const char *p = v.p, *end = v.p + v.len;

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
	if (h->id != STLS_SIP_HDR_OTHER && m->first[h->id] == 0) {
		m->first[h->id] = (uint16_t)(m->n_hdrs + 1);
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
	unsigned i;

	for (i = (unsigned)(h - m->hdrs) + 1; i < m->n_hdrs; i++) {
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

int stls_sip_values_next(struct stls_sip_values *it, struct stls_slice *value)
{
	struct stls_slice s;
	size_t i;
	int angle = 0;
	bool quoted = false;

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
	*value = stls_slice_trim(stls_slice_make(s.p, i < s.len ? i : s.len));
	if (i < s.len) {
		it->rest = stls_slice_make(s.p + i + 1, s.len - i - 1);
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

/* Every value of header <id> must parse as a name-addr (or Via). */
static int check_list(struct stls_sip_msg *m, enum stls_sip_hdr id,
		      bool angle_only, const char *why)
{
	struct stls_sip_values it;
	struct stls_slice v;
	struct stls_sip_addr a;
	struct stls_sip_via via;
	int r;

	stls_sip_values_init(&it, m, stls_sip_msg_find(m, id));
	while ((r = stls_sip_values_next(&it, &v)) == 1) {
		if (id == STLS_SIP_HDR_VIA ? stls_sip_via_parse(v, &via) != 0 :
		    stls_sip_addr_parse(v, id == STLS_SIP_HDR_CONTACT, &a) ||
		    (angle_only && !a.angle)) {
			return bad(m, why);
		}
	}
	return r < 0 ? bad(m, why) : 0;
}

static int check_single(struct stls_sip_msg *m, enum stls_sip_hdr id,
			const char *missing, const char *twice)
{
	unsigned n = stls_sip_msg_count(m, id);

	if (n == 0) {
		return bad(m, missing);
	}
	return n > 1 ? bad(m, twice) : 0;
}

int stls_sip_msg_validate(struct stls_sip_msg *m)
{
	struct stls_slice cmethod, tag;
	struct stls_sip_addr a;
	uint32_t cnum;
	unsigned mf;

	if (check_single(m, STLS_SIP_HDR_CALL_ID, "missing Call-ID",
			 "repeated Call-ID") ||
	    check_single(m, STLS_SIP_HDR_CSEQ, "missing CSeq",
			 "repeated CSeq") ||
	    check_single(m, STLS_SIP_HDR_FROM, "missing From",
			 "repeated From") ||
	    check_single(m, STLS_SIP_HDR_TO, "missing To", "repeated To")) {
		return -EBADMSG;
	}
	if (stls_sip_msg_find(m, STLS_SIP_HDR_CALL_ID)->value.len == 0) {
		return bad(m, "empty Call-ID");
	}
	if (stls_sip_msg_cseq(m, &cnum, &cmethod)) {
		return bad(m, "bad CSeq");
	}
	if (m->is_request && !stls_slice_eq(cmethod, m->method)) {
		return bad(m, "CSeq method differs from the request method");
	}
	if (stls_sip_msg_max_forwards(m, &mf) == -EBADMSG) {
		return bad(m, "bad Max-Forwards");
	}
	if (!stls_sip_msg_find(m, STLS_SIP_HDR_VIA)) {
		return bad(m, "missing Via");
	}
	if (stls_sip_addr_parse(stls_sip_msg_find(m, STLS_SIP_HDR_FROM)->value,
				false, &a) ||
	    stls_sip_msg_tag(m, STLS_SIP_HDR_FROM, &tag) == -EBADMSG) {
		return bad(m, "bad From");
	}
	if (stls_sip_addr_parse(stls_sip_msg_find(m, STLS_SIP_HDR_TO)->value,
				false, &a)) {
		return bad(m, "bad To");
	}
	if (check_list(m, STLS_SIP_HDR_VIA, false, "bad Via") ||
	    check_list(m, STLS_SIP_HDR_CONTACT, false, "bad Contact") ||
	    check_list(m, STLS_SIP_HDR_ROUTE, true, "bad Route") ||
	    check_list(m, STLS_SIP_HDR_RECORD_ROUTE, true,
		       "bad Record-Route") ||
	    check_list(m, STLS_SIP_HDR_PATH, true, "bad Path")) {
		return -EBADMSG;
	}
	return 0;
}
