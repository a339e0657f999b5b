/*
 * SIP URI, name-addr and parameter parsing (RFC 3261 sections 19.1.1 and
 * 25.1). See stls/sip/uri.h for the contract.
 *
 * Design: every parser walks its slice once with an index that is checked
 * against the slice length before each read; nothing is NUL-terminated and
 * nothing is decoded. Character classes come straight from the RFC 3261
 * ABNF (unreserved, user-unreserved, param-unreserved, hnv-unreserved).
 */
#include "stls/sip/uri.h"

#include <arpa/inet.h>
#include <errno.h>

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* Checks that <s> is made of escaped bytes or bytes of class <cls>
 * (unreserved plus the extra bytes of a URI part, stls/sip/slice.h). */
static bool chars_ok(struct stls_slice s, unsigned cls)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (c == '%') {
			if (i + 2 >= s.len || !is_hex(s.p[i + 1]) ||
			    !is_hex(s.p[i + 2])) {
				return false;
			}
			i += 2;
			continue;
		}
		if (!stls_sip_char_in(c, cls)) {
			return false;
		}
	}
	return true;
}

/* Dotted-quad IPv4, as inet_pton() takes it: four numbers 0-255 without
 * leading zeros. Hand-written: this runs for every URI and Via host. */
static bool is_ipv4(struct stls_slice s)
{
	unsigned parts = 0, val = 0, digits = 0;
	size_t i;

	for (i = 0; i <= s.len; i++) {
		if (i == s.len || s.p[i] == '.') {
			if (digits == 0 || ++parts > 4) {
				return false;
			}
			digits = 0;
			val = 0;
			continue;
		}
		if (!stls_sip_is_digit(s.p[i]) || (digits && val == 0)) {
			return false;
		}
		val = val * 10 + (unsigned)(s.p[i] - '0');
		if (++digits > 3 || val > 255) {
			return false;
		}
	}
	return parts == 4;
}

/*
 * RFC 5118 4.10: RFC 3261's IPv6 grammar (from RFC 2373) lets ":::" stand
 * before an embedded IPv4 address, and "an implementation must tolerate
 * both" forms. Only that one position is tolerated: <buf> (NUL-ended,
 * rewritten) with ":::" right before a dotted quad that ends it.
 */
static bool abnf_bug_ok(char *buf, unsigned char *bin)
{
	char *p = strstr(buf, ":::");
	struct stls_slice tail;

	if (!p || strstr(p + 1, ":::") || strchr(p + 3, ':')) {
		return false;
	}
	tail = stls_slice_cstr(p + 3);
	if (!is_ipv4(tail)) {
		return false;
	}
	memmove(p, p + 1, strlen(p + 1) + 1);
	return inet_pton(AF_INET6, buf, bin) == 1;
}

bool stls_sip_host_is_ip(struct stls_slice s)
{
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];

	if (s.len == 0 || s.len >= sizeof(buf)) {
		return false;
	}
	if (!memchr(s.p, ':', s.len)) {
		return is_ipv4(s);
	}
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	return inet_pton(AF_INET6, buf, bin) == 1 || abnf_bug_ok(buf, bin);
}

static bool hostname_ok(struct stls_slice h)
{
	size_t i;

	if (h.len == 0 || h.len > 255 || h.p[0] == '-' || h.p[0] == '.') {
		return false;
	}
	for (i = 0; i < h.len; i++) {
		if (!stls_sip_char_in(h.p[i], STLS_SIP_C_HOST)) {
			return false;
		}
	}
	return true;
}

/* Parses "host[:port]" from <s> (the whole slice). */
static int parse_hostport(struct stls_slice s, struct stls_slice *host,
			  bool *v6, uint16_t *port, bool *has_port)
{
	size_t i = 0;
	unsigned long val = 0;

	*v6 = false;
	*has_port = false;
	*port = 0;
	if (s.len && s.p[0] == '[') {
		const char *end = memchr(s.p, ']', s.len);

		if (!end) {
			return -EBADMSG;
		}
		*host = stls_slice_make(s.p + 1, (size_t)(end - s.p) - 1);
		i = (size_t)(end - s.p) + 1;
		*v6 = true;
		if (!stls_sip_host_is_ip(*host) || !memchr(host->p, ':',
							   host->len)) {
			return -EBADMSG;
		}
	} else {
		while (i < s.len && s.p[i] != ':') {
			i++;
		}
		*host = stls_slice_make(s.p, i);
		if (!hostname_ok(*host)) {
			return -EBADMSG;
		}
	}
	if (i == s.len) {
		return 0;
	}
	if (s.p[i] != ':' || i + 1 == s.len || s.len - i - 1 > 5) {
		return -EBADMSG;
	}
	for (i++; i < s.len; i++) {
		if (!stls_sip_is_digit(s.p[i])) {
			return -EBADMSG;
		}
		val = val * 10 + (unsigned long)(s.p[i] - '0');
	}
	if (val > 65535) {
		return -EBADMSG;
	}
	*port = (uint16_t)val;
	*has_port = true;
	return 0;
}

/* uri-parameters: *( ";" pname [ "=" pvalue ] ), no LWS. */
static bool uri_params_ok(struct stls_slice s)
{
	size_t i = 0, start;

	while (i < s.len) {
		if (s.p[i] != ';') {
			return false;
		}
		start = ++i;
		while (i < s.len && s.p[i] != ';') {
			i++;
		}
		if (i == start || s.p[start] == '=' ||
		    !chars_ok(stls_slice_make(s.p + start, i - start),
			      STLS_SIP_C_PARAM)) {
			return false;
		}
	}
	return true;
}

static int parse_sip(struct stls_slice rest, struct stls_sip_uri *u)
{
	const char *at = memchr(rest.p, '@', rest.len);
	struct stls_slice hp;
	size_t i = 0, hp_end;

	if (at) {
		struct stls_slice ui = stls_slice_make(rest.p,
						       (size_t)(at - rest.p));
		const char *colon = memchr(ui.p, ':', ui.len);

		u->has_user = true;
		u->user = colon ? stls_slice_make(ui.p, (size_t)(colon - ui.p))
				: ui;
		if (colon) {
			u->password = stls_slice_make(colon + 1, ui.len -
						      u->user.len - 1);
		}
		if (u->user.len == 0 || !chars_ok(u->user, STLS_SIP_C_USER) ||
		    !chars_ok(u->password, STLS_SIP_C_PASS)) {
			return -EBADMSG;
		}
		i = (size_t)(at - rest.p) + 1;
	}
	hp_end = i;
	while (hp_end < rest.len && rest.p[hp_end] != ';' &&
	       rest.p[hp_end] != '?') {
		hp_end++;
	}
	hp = stls_slice_make(rest.p + i, hp_end - i);
	if (parse_hostport(hp, &u->host, &u->host_ipv6, &u->port,
			   &u->has_port)) {
		return -EBADMSG;
	}
	u->host_is_ip = u->host_ipv6 || stls_sip_host_is_ip(u->host);
	i = hp_end;
	while (hp_end < rest.len && rest.p[hp_end] != '?') {
		hp_end++;
	}
	u->params = stls_slice_make(rest.p + i, hp_end - i);
	if (!uri_params_ok(u->params)) {
		return -EBADMSG;
	}
	if (hp_end < rest.len) {
		u->has_headers = true;
		u->headers = stls_slice_make(rest.p + hp_end + 1,
					     rest.len - hp_end - 1);
		if (!chars_ok(u->headers, STLS_SIP_C_HNV)) {
			return -EBADMSG;
		}
	}
	return 0;
}

int stls_sip_uri_parse(struct stls_slice s, struct stls_sip_uri *u)
{
	size_t i = 0;

	memset(u, 0, sizeof(*u));
	u->raw = s;
	if (s.len == 0 || !((s.p[0] >= 'a' && s.p[0] <= 'z') ||
			    (s.p[0] >= 'A' && s.p[0] <= 'Z'))) {
		return -EBADMSG;
	}
	while (i < s.len && (is_alnum(s.p[i]) || s.p[i] == '+' ||
			     s.p[i] == '-' || s.p[i] == '.')) {
		i++;
	}
	if (i == s.len || s.p[i] != ':') {
		return -EBADMSG;
	}
	u->scheme = stls_slice_make(s.p, i);
	for (size_t j = i + 1; j < s.len; j++) {
		unsigned char c = (unsigned char)s.p[j];

		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' ||
		    c == '"') {
			return -EBADMSG;
		}
	}
	if (stls_slice_eq_cstr_ci(u->scheme, "sip")) {
		u->kind = STLS_SIP_SCHEME_SIP;
	} else if (stls_slice_eq_cstr_ci(u->scheme, "sips")) {
		u->kind = STLS_SIP_SCHEME_SIPS;
	} else {
		return i + 1 < s.len ? 0 : -EBADMSG;
	}
	return parse_sip(stls_slice_make(s.p + i + 1, s.len - i - 1), u);
}

bool stls_sip_uri_param(const struct stls_sip_uri *u, const char *name,
			struct stls_slice *value)
{
	struct stls_slice p = u->params;
	size_t n = strlen(name);

	while (p.len > 1) {
		const char *next = memchr(p.p + 1, ';', p.len - 1);
		size_t plen = next ? (size_t)(next - p.p) : p.len;
		struct stls_slice one = stls_slice_make(p.p + 1, plen - 1);

		if (one.len >= n && strncasecmp(one.p, name, n) == 0 &&
		    (one.len == n || one.p[n] == '=')) {
			if (value) {
				*value = one.len == n ?
					stls_slice_make(NULL, 0) :
					stls_slice_make(one.p + n + 1,
							one.len - n - 1);
			}
			return true;
		}
		p.p += plen;
		p.len -= plen;
	}
	return false;
}

static size_t skip_lws(struct stls_slice s, size_t i)
{
	while (i < s.len && stls_sip_is_lws(s.p[i])) {
		i++;
	}
	return i;
}

/* Scans a quoted string starting at s.p[i] == '"'; returns index after. */
static int scan_quoted(struct stls_slice s, size_t i, size_t *end)
{
	for (i++; i < s.len; i++) {
		if (s.p[i] == '\\') {
			i++;
			continue;
		}
		if (s.p[i] == '"') {
			*end = i + 1;
			return 0;
		}
	}
	return -EBADMSG;
}

int stls_sip_param_next(struct stls_slice *rest, struct stls_slice *name,
			struct stls_slice *value, struct stls_slice *span)
{
	struct stls_slice s = *rest;
	size_t i = skip_lws(s, 0), start, vstart;
	int err;

	if (i == s.len) {
		return 0;
	}
	if (s.p[i] != ';') {
		return -EBADMSG;
	}
	start = i;
	i = skip_lws(s, i + 1);
	vstart = i;
	while (i < s.len && stls_sip_is_token(s.p[i])) {
		i++;
	}
	if (i == vstart) {
		return -EBADMSG;
	}
	*name = stls_slice_make(s.p + vstart, i - vstart);
	*value = stls_slice_make(NULL, 0);
	i = skip_lws(s, i);
	if (i < s.len && s.p[i] == '=') {
		i = skip_lws(s, i + 1);
		vstart = i;
		if (i < s.len && s.p[i] == '"') {
			err = scan_quoted(s, i, &i);
			if (err) {
				return err;
			}
		} else {
			while (i < s.len && (stls_sip_is_token(s.p[i]) ||
					     s.p[i] == ':' || s.p[i] == '[' ||
					     s.p[i] == ']')) {
				i++;
			}
		}
		if (i == vstart) {
			return -EBADMSG;
		}
		*value = stls_slice_make(s.p + vstart, i - vstart);
	}
	*span = stls_slice_make(s.p + start, i - start);
	rest->p = s.p + i;
	rest->len = s.len - i;
	i = skip_lws(*rest, 0);
	if (i < rest->len && rest->p[i] != ';') {
		return -EBADMSG;
	}
	return 1;
}

bool stls_sip_param_find(struct stls_slice params, const char *name,
			 struct stls_slice *value)
{
	struct stls_slice n, v, span;

	while (stls_sip_param_next(&params, &n, &v, &span) == 1) {
		if (stls_slice_eq_cstr_ci(n, name)) {
			if (value) {
				*value = v;
			}
			return true;
		}
	}
	return false;
}

static int check_params(struct stls_slice params)
{
	struct stls_slice n, v, span;
	int r;

	while ((r = stls_sip_param_next(&params, &n, &v, &span)) == 1) {
	}
	return r;
}

/* Display name before '<': a quoted string or LWS-separated tokens. */
static int parse_display(struct stls_slice s, size_t *lt,
			 struct stls_slice *display)
{
	size_t i = 0, end;

	if (s.p[0] == '"') {
		if (scan_quoted(s, 0, &end)) {
			return -EBADMSG;
		}
		*display = stls_slice_make(s.p, end);
		i = skip_lws(s, end);
		if (i == s.len || s.p[i] != '<') {
			return -EBADMSG;
		}
		*lt = i;
		return 0;
	}
	while (i < s.len && (stls_sip_is_token(s.p[i]) ||
			     stls_sip_is_lws(s.p[i]))) {
		i++;
	}
	if (i < s.len && s.p[i] == '<') {
		*display = stls_slice_trim(stls_slice_make(s.p, i));
		*lt = i;
		return 0;
	}
	*lt = s.len; /* no '<': an addr-spec */
	return 0;
}

int stls_sip_addr_parse(struct stls_slice s, bool allow_star,
			struct stls_sip_addr *a)
{
	size_t lt, i;
	const char *gt;

	memset(a, 0, sizeof(*a));
	s = stls_slice_trim(s);
	if (s.len == 0) {
		return -EBADMSG;
	}
	if (s.len == 1 && s.p[0] == '*') {
		a->star = true;
		return allow_star ? 0 : -EBADMSG;
	}
	if (parse_display(s, &lt, &a->display)) {
		return -EBADMSG;
	}
	if (lt < s.len) {
		gt = memchr(s.p + lt, '>', s.len - lt);
		if (!gt) {
			return -EBADMSG;
		}
		a->angle = true;
		a->uri_raw = stls_slice_make(s.p + lt + 1,
					     (size_t)(gt - s.p) - lt - 1);
		i = (size_t)(gt - s.p) + 1;
	} else {
		i = 0;
		while (i < s.len && s.p[i] != ';' && !stls_sip_is_lws(s.p[i])) {
			if (s.p[i] == '?' || s.p[i] == ',' || s.p[i] == '<' ||
			    s.p[i] == '"') {
				return -EBADMSG;
			}
			i++;
		}
		a->uri_raw = stls_slice_make(s.p, i);
	}
	if (stls_sip_uri_parse(a->uri_raw, &a->uri)) {
		return -EBADMSG;
	}
	a->params = stls_slice_make(s.p + i, s.len - i);
	return check_params(a->params) < 0 ? -EBADMSG : 0;
}
