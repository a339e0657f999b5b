/*
 * Via value parsing (RFC 3261 section 20.42 and the via-parm ABNF of section
 * 25.1, RFC 3581 rport, RFC 2732 IPv6 references). See stls/sip/via.h.
 *
 * The sent-protocol allows LWS around both slashes (RFC 4475 "wsinv"), the
 * sent-by host may be a name, IPv4 or [IPv6]; parameters use the generic
 * parameter iterator from sip_uri.c and keep their raw spans.
 */
#include "stls/sip/via.h"

#include <errno.h>

#include "stls/sip/uri.h"

static size_t skip_lws(struct stls_slice s, size_t i)
{
	while (i < s.len && stls_sip_is_lws(s.p[i])) {
		i++;
	}
	return i;
}

static size_t take_token(struct stls_slice s, size_t i, struct stls_slice *t)
{
	size_t start = i;

	while (i < s.len && stls_sip_is_token(s.p[i])) {
		i++;
	}
	*t = stls_slice_make(s.p + start, i - start);
	return i;
}

/* sent-protocol: name LWS "/" LWS version LWS "/" LWS transport */
static int parse_protocol(struct stls_slice s, size_t *pos,
			  struct stls_sip_via *v)
{
	struct stls_slice *parts[3] = { &v->proto, &v->version, &v->transport };
	size_t i = skip_lws(s, 0);
	int k;

	for (k = 0; k < 3; k++) {
		if (k > 0) {
			i = skip_lws(s, i);
			if (i == s.len || s.p[i] != '/') {
				return -EBADMSG;
			}
			i = skip_lws(s, i + 1);
		}
		i = take_token(s, i, parts[k]);
		if (parts[k]->len == 0) {
			return -EBADMSG;
		}
	}
	*pos = i;
	return 0;
}

static int parse_sent_by(struct stls_slice s, size_t *pos,
			 struct stls_sip_via *v)
{
	size_t i = skip_lws(s, *pos), start = i;
	unsigned long port = 0;

	if (i == *pos && i < s.len) {
		return -EBADMSG; /* LWS is required after the transport */
	}
	if (i < s.len && s.p[i] == '[') {
		const char *end = memchr(s.p + i, ']', s.len - i);

		if (!end) {
			return -EBADMSG;
		}
		v->host = stls_slice_make(s.p + i + 1,
					  (size_t)(end - s.p) - i - 1);
		v->host_ipv6 = true;
		i = (size_t)(end - s.p) + 1;
		if (!stls_sip_host_is_ip(v->host)) {
			return -EBADMSG;
		}
	} else {
		while (i < s.len && (stls_sip_is_digit(s.p[i]) ||
				     s.p[i] == '-' || s.p[i] == '.' ||
				     ((s.p[i] | 0x20) >= 'a' &&
				      (s.p[i] | 0x20) <= 'z'))) {
			i++;
		}
		v->host = stls_slice_make(s.p + start, i - start);
		if (v->host.len == 0) {
			return -EBADMSG;
		}
	}
	i = skip_lws(s, i);
	if (i < s.len && s.p[i] == ':') {
		size_t d = i = skip_lws(s, i + 1);

		while (i < s.len && stls_sip_is_digit(s.p[i]) && i - d < 6) {
			port = port * 10 + (unsigned long)(s.p[i++] - '0');
		}
		if (i == d || port > 65535) {
			return -EBADMSG;
		}
		v->port = (uint16_t)port;
		v->has_port = true;
	}
	v->sent_by = stls_slice_trim(stls_slice_make(s.p + start, i - start));
	*pos = i;
	return 0;
}

static bool number_ok(struct stls_slice s, unsigned long max)
{
	unsigned long val = 0;
	size_t i;

	if (s.len == 0 || s.len > 10) {
		return false;
	}
	for (i = 0; i < s.len; i++) {
		if (!stls_sip_is_digit(s.p[i])) {
			return false;
		}
		val = val * 10 + (unsigned long)(s.p[i] - '0');
	}
	return val <= max;
}

/* Records the parameters the relay uses; checks their syntax. */
static int note_param(struct stls_sip_via *v, struct stls_slice n,
		      struct stls_slice val)
{
	if (stls_slice_eq_cstr_ci(n, "branch")) {
		v->branch = val;
		v->has_branch = true;
		return val.len ? 0 : -EBADMSG;
	}
	if (stls_slice_eq_cstr_ci(n, "received")) {
		/* RFC 3261's grammar has no brackets here, but they are sent
		 * and RFC 5118 4.5 asks for both forms: kept without them. */
		if (val.len > 2 && val.p[0] == '[' && val.p[val.len - 1] == ']' &&
		    memchr(val.p, ':', val.len)) {
			val = stls_slice_make(val.p + 1, val.len - 2);
		}
		v->received = val;
		v->has_received = true;
		return stls_sip_host_is_ip(val) ? 0 : -EBADMSG;
	}
	if (stls_slice_eq_cstr_ci(n, "rport")) {
		v->rport = val;
		v->has_rport = true;
		return val.len == 0 || number_ok(val, 65535) ? 0 : -EBADMSG;
	}
	if (stls_slice_eq_cstr_ci(n, "maddr")) {
		v->maddr = val;
		v->has_maddr = true;
		return val.len ? 0 : -EBADMSG;
	}
	if (stls_slice_eq_cstr_ci(n, "ttl")) {
		v->ttl = val;
		v->has_ttl = true;
		return number_ok(val, 255) ? 0 : -EBADMSG;
	}
	return 0;
}

int stls_sip_via_parse(struct stls_slice s, struct stls_sip_via *v)
{
	struct stls_slice rest, n, val, span;
	size_t i;
	int r;

	/* params[] beyond n_params is never read: leave it. */
	memset(v, 0, offsetof(struct stls_sip_via, params));
	s = stls_slice_trim(s);
	v->raw = s;
	if (parse_protocol(s, &i, v) || parse_sent_by(s, &i, v)) {
		return -EBADMSG;
	}
	rest = stls_slice_make(s.p + i, s.len - i);
	while ((r = stls_sip_param_next(&rest, &n, &val, &span)) == 1) {
		if (v->n_params == STLS_SIP_VIA_MAX_PARAMS ||
		    note_param(v, n, val)) {
			return -EBADMSG;
		}
		v->params[v->n_params].name = n;
		v->params[v->n_params].value = val;
		v->params[v->n_params].span = span;
		v->n_params++;
	}
	return r < 0 ? -EBADMSG : 0;
}

bool stls_sip_via_is_rfc3261(const struct stls_sip_via *v)
{
	return v->has_branch && v->branch.len >= 7 &&
	       memcmp(v->branch.p, STLS_SIP_MAGIC_COOKIE, 7) == 0;
}
