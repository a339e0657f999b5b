/*
 * Cost of the SIP hot path for one typical INVITE: frame + parse +
 * client-request rewrite, and the matching 200 back (parse + backend
 * response rewrite, flow token verified). Not part of the build; run:
 *
 *   gcc -O2 -D_GNU_SOURCE -Iinclude -Idaemon -Itests/unit \
 *       bench/sip_relay_cost.c daemon/sip_*.c daemon/flow_token.c \
 *       lib/base/addr.c -lcrypto -o /tmp/sip_relay_cost
 *   /tmp/sip_relay_cost 200000          # timed loop, ns per message
 *   valgrind --tool=callgrind /tmp/sip_relay_cost 1000   # instructions
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sip_framer.h"
#include "sip_rewrite.h"
#include "sip_samples.h"

static const struct stls_relay_conf conf = {
	.inside_host = "192.0.2.1",
	.inside_port = 5060,
	.inside_tp = STLS_SIP_TP_UDP,
	.outside_host = "sip.example.net",
	.outside_port = 5061,
};

static struct stls_sip_msg msg;
static char out[8192], resp[8192];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const char inv[] = SAMPLE_INVITE;
	static const uint8_t key[STLS_FLOW_KEY_LEN] = { 1 };
	static const struct stls_relay_fact facts[] = {
		{ "Verified", "yes" }, { "Peer-Subject", "CN=alice" } };
	long n = argc > 1 ? atol(argv[1]) : 100000, i;
	struct stls_flow_signer *signer;
	struct stls_flow flow = { 0, 42, 1 };
	char token[STLS_FLOW_TOKEN_LEN + 1];
	struct stls_sip_framer fr;
	struct stls_sip_frame f;
	struct stls_relay_result res;
	struct stls_relay_ctx ctx = { 0 };
	struct stls_addr src;
	double t0, t1, t2;
	size_t rlen = 0;
	const char *v2;

	if (stls_flow_signer_new(key, &signer) ||
	    stls_flow_token_build(signer, &flow, token) ||
	    stls_addr_parse("203.0.113.5:40000", true, &src)) {
		return 1;
	}
	ctx.conf = &conf;
	ctx.signer = signer;
	ctx.flow_token = token;
	ctx.src = &src;
	ctx.facts = facts;
	ctx.n_facts = 2;
	/* Build the backend's 200 from our forwarded INVITE's Via lines. */
	stls_sip_framer_init(&fr, 0);
	stls_sip_framer_next(&fr, inv, sizeof(inv) - 1, &f);
	if (stls_sip_msg_parse(f.msg.p, f.msg.len, STLS_SIP_PARSE_STREAM, &msg) ||
	    stls_relay_client_request(&ctx, &msg, out, sizeof(out), &res)) {
		return 1;
	}
	out[res.len] = '\0';
	v2 = strstr(strstr(strstr(out, "\r\n") + 2, "\r\n") + 2, "\r\n");
	rlen = (size_t)snprintf(resp, sizeof(resp), "SIP/2.0 200 OK%.*s%s",
				(int)(v2 - strstr(out, "\r\n")),
				strstr(out, "\r\n"),
				strstr(SAMPLE_200, "\r\nTo:"));
	t0 = now();
	for (i = 0; i < n; i++) {
		stls_sip_framer_init(&fr, 0);
		stls_sip_framer_next(&fr, inv, sizeof(inv) - 1, &f);
		if (stls_sip_msg_parse(f.msg.p, f.msg.len,
				       STLS_SIP_PARSE_STREAM, &msg) ||
		    stls_relay_client_request(&ctx, &msg, out, sizeof(out),
					      &res)) {
			return 1;
		}
	}
	t1 = now();
	for (i = 0; i < n; i++) {
		if (stls_sip_msg_parse(resp, rlen, 0, &msg) ||
		    stls_relay_backend_response(&ctx, &msg, out, sizeof(out),
						&res) || !res.has_flow) {
			return 2;
		}
	}
	t2 = now();
	printf("INVITE frame+parse+rewrite: %.0f ns\n", (t1 - t0) / n);
	printf("200 parse+rewrite+token verify: %.0f ns\n", (t2 - t1) / n);
	stls_flow_signer_free(signer);
	return 0;
}
