/*
 * Fuzz target: parse arbitrary input, then run every relay path on it
 * (client request, client response, backend request, backend response)
 * with a real flow-token signer, and re-parse whatever they write. The
 * route_*.dat seeds carry tokens signed with this key (flows 1/2/3 and
 * 2/5/9): route sets naming two flows, forged tokens, outbound REGISTER
 * and its 2xx, the answer to a flow-to-flow request. The backend path runs
 * a second time as a request from a peer on the inside network, which
 * must never be sent to a next hop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/sip_rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct stls_relay_conf conf = {
	.inside_host = "192.0.2.1",
	.inside_port = 5060,
	.inside_tp = STLS_SIP_TP_UDP,
	.outside_host = "sip.example.net",
	.outside_port = 5061,
	.xavp_cfg = "tls",
};

static struct stls_sip_msg msg, out_msg;
static char out[70000];

typedef int relay_fn(const struct stls_relay_ctx *, struct stls_sip_msg *,
		     char *, size_t, struct stls_relay_result *);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stls_flow_signer *signer;
	static char token[STLS_FLOW_TOKEN_LEN + 1];
	static relay_fn *const paths[] = {
		stls_relay_client_request, stls_relay_client_response,
		stls_relay_backend_request, stls_relay_backend_response,
	};
	static const struct stls_relay_fact facts[] = { { "Verified", "no" } };
	struct stls_relay_result res;
	struct stls_relay_ctx ctx;
	struct stls_addr src;
	char *buf;
	size_t i;

	if (!signer) {
		static const uint8_t key[STLS_FLOW_KEY_LEN] = { 7 };
		struct stls_flow f = { 1, 2, 3 };

		if (stls_flow_signer_new(key, &signer) ||
		    stls_flow_token_build(signer, &f, token)) {
			abort();
		}
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		return 0;
	}
	memcpy(buf, data, size);
	if (stls_addr_parse("203.0.113.5:40000", true, &src)) {
		abort();
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.conf = &conf;
	ctx.signer = signer;
	ctx.flow_token = token;
	ctx.src = &src;
	ctx.facts = facts;
	ctx.n_facts = 1;
	ctx.flow_timer = 120; /* Flow-Timer on outbound REGISTER 2xx */
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (stls_sip_msg_parse(buf, size, 0, &msg) != 0) {
			break;
		}
		if (paths[i](&ctx, &msg, out, sizeof(out), &res) == 0 &&
		    stls_sip_msg_parse(out, res.len, STLS_SIP_PARSE_STREAM,
				       &out_msg) != 0) {
			abort(); /* we must never emit an unparsable message */
		}
	}
	/* A request from a peer on the inside network (not the backend). */
	ctx.inside_peer = true;
	if (stls_sip_msg_parse(buf, size, 0, &msg) == 0 &&
	    stls_relay_backend_request(&ctx, &msg, out, sizeof(out), &res) ==
		    0 &&
	    (res.has_next || stls_sip_msg_parse(out, res.len,
						STLS_SIP_PARSE_STREAM,
						&out_msg) != 0)) {
		abort(); /* a peer never reaches a next hop */
	}
	free(buf);
	return 0;
}
