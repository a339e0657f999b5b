/*
 * Fuzz target: the SIP stream framer. The input is fed as one stream in
 * chunks whose sizes come from the input itself, and every framed message
 * goes through the parser, so both see arbitrary splits and bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stls/sip/framer.h"
#include "stls/sip/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct stls_sip_msg msg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stls_sip_framer fr;
	struct stls_sip_frame f;
	size_t off = 0, have = 0, step = size ? (size_t)data[0] % 64 + 1 : 1;
	char *buf = malloc(size ? size : 1);

	if (!buf) {
		return 0;
	}
	/* A private copy so that reads past the end are caught by ASan. */
	memcpy(buf, data, size);
	stls_sip_framer_init(&fr, 4096);
	while (off < size) {
		have = have + step > size ? size : have + step;
		stls_sip_framer_next(&fr, buf + off, have - off, &f);
		off += f.consumed;
		if (f.kind == STLS_SIP_FRAME_MESSAGE) {
			(void)!stls_sip_msg_parse(f.msg.p, f.msg.len,
						  STLS_SIP_PARSE_STREAM, &msg);
		} else if (f.kind == STLS_SIP_FRAME_ERROR) {
			break;
		} else if (f.kind == STLS_SIP_FRAME_NEED_MORE &&
			   have == size) {
			break;
		}
	}
	free(buf);
	return 0;
}
