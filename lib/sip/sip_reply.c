/*
 * Stateless local replies. See stls/sip/reply.h.
 *
 * Design: headers are copied from the request's raw lines (zero parsing
 * beyond what the index already holds), so the reply is a few memcpy calls.
 */
#include "stls/sip/reply.h"

#include <errno.h>

#include "stls/sip/out.h"
#include "stls/sip/uri.h"
#include "stls/sip/via.h"

struct reason {
	unsigned status;
	const char *text;
};

static const struct reason reasons[] = {
	{ 100, "Trying" },
	{ 200, "OK" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 408, "Request Timeout" },
	{ 416, "Unsupported URI Scheme" },
	{ 420, "Bad Extension" },
	{ 430, "Flow Failed" },
	{ 482, "Loop Detected" },
	{ 483, "Too Many Hops" },
	{ 500, "Server Internal Error" },
	{ 501, "Not Implemented" },
	{ 503, "Service Unavailable" },
	{ 505, "Version Not Supported" },
	{ 513, "Message Too Large" },
};

const char *stls_sip_reason(unsigned status)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(reasons); i++) {
		if (reasons[i].status == status) {
			return reasons[i].text;
		}
	}
	return "Unknown";
}

/* Copies every line of header <id> as it is. */
static void copy_lines(struct stls_sip_out *o, const struct stls_sip_msg *m,
		       enum stls_sip_hdr id)
{
	const struct stls_sip_hdr_line *h;

	for (h = stls_sip_msg_find(m, id); h; h = stls_sip_msg_next(m, h)) {
		stls_sip_out_slice(o, h->line);
	}
}

static uint64_t derive_tag(const struct stls_sip_msg *m)
{
	const struct stls_sip_hdr_line *h;
	struct stls_slice ft = { NULL, 0 };
	uint64_t x = STLS_SIP_FNV_INIT;

	h = stls_sip_msg_find(m, STLS_SIP_HDR_CALL_ID);
	x = stls_sip_fnv(x, h ? h->value : ft);
	if (stls_sip_msg_tag(m, STLS_SIP_HDR_FROM, &ft)) {
		ft = stls_slice_make(NULL, 0);
	}
	x = stls_sip_fnv(x, ft);
	h = stls_sip_msg_find(m, STLS_SIP_HDR_CSEQ);
	x = stls_sip_fnv(x, h ? h->value : ft);
	h = stls_sip_msg_find(m, STLS_SIP_HDR_VIA);
	return stls_sip_fnv(x, h ? h->value : ft);
}

static void write_to(struct stls_sip_out *o, const struct stls_sip_msg *m)
{
	const struct stls_sip_hdr_line *h = stls_sip_msg_find(m,
							      STLS_SIP_HDR_TO);
	struct stls_slice tag;

	if (!h) {
		return;
	}
	if (stls_sip_msg_tag(m, STLS_SIP_HDR_TO, &tag) != -ENOENT) {
		stls_sip_out_slice(o, h->line);
		return;
	}
	stls_sip_out_str(o, "To: ");
	stls_sip_out_slice(o, h->value);
	stls_sip_out_str(o, ";tag=");
	stls_sip_out_hex64(o, derive_tag(m));
	stls_sip_out_str(o, "\r\n");
}

ssize_t stls_sip_reply_build(const struct stls_sip_msg *req, unsigned status,
			     const char *reason, const char *server, char *out,
			     size_t cap)
{
	struct stls_sip_out o;

	if (!req->is_request || req->method_id == STLS_SIP_M_ACK ||
	    status < 100 || status > 699) {
		return -EINVAL;
	}
	stls_sip_out_init(&o, out, cap);
	stls_sip_out_str(&o, "SIP/2.0 ");
	stls_sip_out_uint(&o, status);
	stls_sip_out_str(&o, " ");
	stls_sip_out_str(&o, reason ? reason : stls_sip_reason(status));
	stls_sip_out_str(&o, "\r\n");
	copy_lines(&o, req, STLS_SIP_HDR_VIA);
	copy_lines(&o, req, STLS_SIP_HDR_FROM);
	write_to(&o, req);
	copy_lines(&o, req, STLS_SIP_HDR_CALL_ID);
	copy_lines(&o, req, STLS_SIP_HDR_CSEQ);
	if (server) {
		stls_sip_out_str(&o, "Server: ");
		stls_sip_out_str(&o, server);
		stls_sip_out_str(&o, "\r\n");
	}
	stls_sip_out_str(&o, "Content-Length: 0\r\n\r\n");
	return o.overflow ? -ENOBUFS : (ssize_t)o.len;
}

bool stls_sip_reply_is_local(const struct stls_sip_msg *req,
			     const struct stls_sip_local *locals, size_t n)
{
	struct stls_sip_uri u;
	uint16_t port;
	size_t i;

	if (!req->is_request || stls_sip_uri_parse(req->ruri, &u) ||
	    u.kind == STLS_SIP_SCHEME_OTHER || u.has_user) {
		return false;
	}
	port = u.has_port ? u.port :
	       u.kind == STLS_SIP_SCHEME_SIPS ? 5061 : 5060;
	for (i = 0; i < n; i++) {
		if (stls_slice_eq_cstr_ci(u.host, locals[i].host) &&
		    (locals[i].port == 0 || locals[i].port == port)) {
			return true;
		}
	}
	return false;
}
