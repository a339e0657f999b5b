/*
 * Fuzz target: the SIP parser on one datagram, then every lazy accessor
 * (validation, CSeq, Max-Forwards, tags, every Via/Route/Contact value
 * through the Via and name-addr parsers).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stls/sip/msg.h"
#include "stls/sip/uri.h"
#include "stls/sip/via.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct stls_sip_msg msg;

static void walk(enum stls_sip_hdr id)
{
	struct stls_sip_values it;
	struct stls_slice v;
	struct stls_sip_addr a;
	struct stls_sip_via via;

	stls_sip_values_init(&it, &msg, stls_sip_msg_find(&msg, id));
	while (stls_sip_values_next(&it, &v) == 1) {
		if (id == STLS_SIP_HDR_VIA) {
			(void)!stls_sip_via_parse(v, &via);
		} else {
			(void)!stls_sip_addr_parse(v, true, &a);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct stls_slice s;
	uint32_t n;
	unsigned mf;

	if (!buf) {
		return 0;
	}
	memcpy(buf, data, size);
	if (stls_sip_msg_parse(buf, size, 0, &msg) == 0) {
		(void)!stls_sip_msg_validate_trusted(&msg);
		(void)!stls_sip_msg_validate(&msg);
		(void)!stls_sip_msg_cseq(&msg, &n, &s);
		(void)!stls_sip_msg_max_forwards(&msg, &mf);
		(void)!stls_sip_msg_tag(&msg, STLS_SIP_HDR_FROM, &s);
		(void)!stls_sip_msg_tag(&msg, STLS_SIP_HDR_TO, &s);
		walk(STLS_SIP_HDR_VIA);
		walk(STLS_SIP_HDR_ROUTE);
		walk(STLS_SIP_HDR_RECORD_ROUTE);
		walk(STLS_SIP_HDR_CONTACT);
		walk(STLS_SIP_HDR_PATH);
	}
	free(buf);
	return 0;
}
