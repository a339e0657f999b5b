/*
 * Stateless local replies (RFC 3261 section 8.2.6, 16.3, RFC 5626 430).
 *
 * siptlsd answers a few requests itself, without a transaction: 400 for a
 * malformed request, 403 for a policy refusal, 430 Flow Failed when a flow
 * token names a connection that is gone, 483 when Max-Forwards reached 0,
 * 503 when the backend is unreachable, and 200 to an OPTIONS addressed to
 * siptlsd itself (a keep-alive ping from a trunk). The reply copies every
 * Via line, From, To (adding a To tag when the request has none, derived
 * from Call-ID, From tag, CSeq and top Via branch so that a retransmission
 * gets the same tag), Call-ID and CSeq, and ends with Content-Length: 0.
 * No reply is ever built for an ACK (the caller must check).
 */
#ifndef STLS_SIP_REPLY_H
#define STLS_SIP_REPLY_H

#include "stls/common.h"
#include "stls/sip/msg.h"

/* Standard reason phrase of <status>, or "Unknown". */
const char *stls_sip_reason(unsigned status);

/*
 * Builds the response <status> to request <req> (parsed; Via, From, To,
 * Call-ID and CSeq are copied as they are; missing ones are skipped) into
 * <out, cap>. <reason> NULL means stls_sip_reason(status); <server> NULL
 * means no Server header. Returns the length written, -EINVAL (req is a
 * response or an ACK, status outside 100-699) or -ENOBUFS (cap too small).
 */
STLS_MUST_USE ssize_t stls_sip_reply_build(const struct stls_sip_msg *req,
					   unsigned status, const char *reason,
					   const char *server, char *out,
					   size_t cap);

/* One of siptlsd's own addresses; port 0 matches any port. */
struct stls_sip_local {
	const char *host; /* IP literal (IPv6 without brackets) or name */
	uint16_t port;
};

/*
 * True when request <req> targets siptlsd itself: its Request-URI is a SIP
 * or SIPS URI without user part whose host (case-insensitive) and port
 * (5060 for sip, 5061 for sips when absent) match one of <locals>.
 */
bool stls_sip_reply_is_local(const struct stls_sip_msg *req,
			     const struct stls_sip_local *locals, size_t n);

#endif
