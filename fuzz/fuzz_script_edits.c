/*
 * Fuzz target: what a Lua hook hands back to the relay (script_hdr.c's
 * checks, then the rewrite). A script often builds these from what a
 * client sent, so they are untrusted input. The input is split at NUL
 * bytes into: header lines to append (separated by 0x01), header names to
 * remove (separated by ','), a reply reason, and a server_id. Whatever
 * the checks accept must give a request that parses and validates, with
 * exactly the Via, Call-ID and CSeq lines the relay wrote (no header
 * injection), and a reply that parses with the status asked for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/sip_rewrite.h"
#include "script/script_int.h"
#include "stls/sip/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQ                                                               \
	"INVITE sip:bob@example.test SIP/2.0\r\n"                         \
	"Via: SIP/2.0/TLS 10.0.0.7:5061;branch=z9hG4bK-1;rport\r\n"       \
	"Max-Forwards: 70\r\n"                                            \
	"From: <sip:alice@example.test>;tag=a1\r\n"                       \
	"To: <sip:bob@example.test>\r\n"                                  \
	"Call-ID: c1@example.test\r\n"                                    \
	"CSeq: 7 INVITE\r\n"                                              \
	"User-Agent: test UA\r\n"                                         \
	"Subject: s\r\n"                                                  \
	"Content-Length: 0\r\n\r\n"

static const struct stls_relay_conf conf = {
	.inside_host = "192.0.2.1",
	.inside_port = 5060,
	.inside_tp = STLS_SIP_TP_UDP,
	.outside_host = "sip.example.net",
	.outside_port = 5061,
	.xavp_cfg = "tls",
};

static struct stls_sip_msg msg, out_msg;
static char req[sizeof(REQ)], out[16384];

/* The next field of <p, n> up to <sep> (or the end); advances. */
static const char *field(const char **p, size_t *n, char sep, size_t *len)
{
	const char *s = *p, *e = memchr(s, sep, *n);

	*len = e ? (size_t)(e - s) : *n;
	*p += *len + (e ? 1 : 0);
	*n -= *len + (e ? 1 : 0);
	return s;
}

static unsigned count(const struct stls_sip_msg *m, enum stls_sip_hdr id)
{
	const struct stls_sip_hdr_line *h = stls_sip_msg_find(m, id);
	unsigned k = 0;

	for (; h; h = stls_sip_msg_next(m, h))
		k++;
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stls_flow_signer *signer;
	static char token[STLS_FLOW_TOKEN_LEN + 1];
	char hdrs[STLS_SCRIPT_HDRS_MAX], names[STLS_SCRIPT_REMOVE_MAX][65];
	char reason[STLS_SCRIPT_REASON_MAX + 1], sid[STLS_SCRIPT_XAVP_MAX + 1];
	const char *strip[STLS_SCRIPT_REMOVE_MAX];
	const char *p = (const char *)data, *f, *why, *q;
	size_t n = size, len, hlen = 0, k, nstrip = 0, ql;
	struct stls_relay_result res;
	struct stls_relay_ctx ctx;
	struct stls_addr src;
	ssize_t r;

	if (!signer) {
		static const uint8_t key[STLS_FLOW_KEY_LEN] = { 7 };
		struct stls_flow fl = { 1, 2, 3 };

		if (stls_flow_signer_new(key, &signer) ||
		    stls_flow_token_build(signer, &fl, token))
			abort();
	}
	/* Lines to append. */
	f = field(&p, &n, '\0', &len);
	while (len) {
		const char *line = field(&f, &len, '\x01', &k);

		(void)stls__script_hdr_put(line, k, hdrs, &hlen, sizeof(hdrs),
					   &why);
	}
	/* Names to remove. */
	f = field(&p, &n, '\0', &len);
	while (len && nstrip < STLS_SCRIPT_REMOVE_MAX) {
		q = field(&f, &len, ',', &ql);
		if (ql < sizeof(names[0]) &&
		    stls__script_hdr_removable(q, ql)) {
			memcpy(names[nstrip], q, ql);
			names[nstrip][ql] = '\0';
			strip[nstrip] = names[nstrip];
			nstrip++;
		}
	}
	memcpy(req, REQ, sizeof(REQ));
	if (stls_sip_msg_parse(req, sizeof(REQ) - 1, STLS_SIP_PARSE_STREAM,
			       &msg) ||
	    stls_sip_msg_validate(&msg) ||
	    stls_addr_parse("203.0.113.5:40000", true, &src))
		abort();
	/* The reply reason. */
	f = field(&p, &n, '\0', &len);
	if (stls__script_reason_ok(f, len)) {
		memcpy(reason, f, len);
		reason[len] = '\0';
		r = stls_sip_reply_build(&msg, 403, reason, NULL, out,
					 sizeof(out));
		if (r <= 0 ||
		    stls_sip_msg_parse(out, (size_t)r, STLS_SIP_PARSE_STREAM,
				       &out_msg) ||
		    out_msg.is_request || out_msg.status != 403)
			abort();
	}
	/* The server_id, then the request with every edit. */
	f = field(&p, &n, '\0', &len);
	sid[0] = '\0';
	if (stls__script_xavp_ok(f, len)) {
		memcpy(sid, f, len);
		sid[len] = '\0';
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.conf = &conf;
	ctx.signer = signer;
	ctx.flow_token = token;
	ctx.src = &src;
	ctx.extra = stls_slice_make(hdrs, hlen);
	ctx.strip = strip;
	ctx.n_strip = nstrip;
	ctx.server_id = sid;
	if (stls_relay_client_request(&ctx, &msg, out, sizeof(out), &res) ||
	    res.action != STLS_RELAY_FORWARD)
		return 0;
	if (stls_sip_msg_parse(out, res.len, STLS_SIP_PARSE_STREAM,
			       &out_msg) ||
	    stls_sip_msg_validate(&out_msg) ||
	    count(&out_msg, STLS_SIP_HDR_VIA) != 2 ||
	    count(&out_msg, STLS_SIP_HDR_CALL_ID) != 1 ||
	    count(&out_msg, STLS_SIP_HDR_CSEQ) != 1 ||
	    count(&out_msg, STLS_SIP_HDR_CONTENT_LENGTH) != 1)
		abort();
	return 0;
}
