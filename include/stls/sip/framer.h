/*
 * SIP message framing on stream connections (TLS, TCP).
 *
 * RFC 3261 section 18.3: on a stream every message carries Content-Length
 * (long form or compact "l"), and the body is exactly that many bytes after
 * the blank line that ends the header section. RFC 5626 section 4.4.1: a
 * client may send a double CRLF "ping" between messages; the server answers
 * each ping at once with a single CRLF "pong". Single CRLFs between
 * messages (pongs, stray line ends) are skipped.
 *
 * The framer is zero-copy and incremental: it looks at the connection's
 * linear input buffer and reports, per call, one of
 *   NEED_MORE   not a whole message yet (keep the bytes, read more),
 *   MESSAGE     frame.msg is one whole message (a slice of the input),
 *   PING        a double CRLF keep-alive: send "\r\n" back,
 *   ERROR       frame.err says why; the connection must be closed.
 * In every case the caller consumes frame.consumed bytes from the front of
 * its buffer before the next call (skipped CRLFs count too). A MESSAGE slice
 * stays valid until the caller consumes it.
 *
 * Errors: GARBAGE (not a SIP start line: close, no reply), TOO_BIG (over
 * max_msg), NO_CLEN / BAD_CLEN (missing, non-numeric, negative, too large,
 * duplicated with different values). For NO_CLEN and BAD_CLEN the header
 * section is in frame.msg and frame.is_request tells whether the caller
 * must answer 400 (build it with stls_sip_reply_build()) before closing.
 *
 * One framer per connection; not thread-safe (a connection lives on one
 * worker).
 */
#ifndef STLS_SIP_FRAMER_H
#define STLS_SIP_FRAMER_H

#include "stls/common.h"
#include "stls/sip/slice.h"

/* Default maximum message size, header section plus body. */
#define STLS_SIP_MAX_MSG_DEFAULT 65535u

enum stls_sip_frame_kind {
	STLS_SIP_FRAME_NEED_MORE,
	STLS_SIP_FRAME_MESSAGE,
	STLS_SIP_FRAME_PING,
	STLS_SIP_FRAME_ERROR,
};

enum stls_sip_frame_err {
	STLS_SIP_FRAME_OK,
	STLS_SIP_FRAME_GARBAGE,  /* not SIP: close without reply */
	STLS_SIP_FRAME_TOO_BIG,  /* over the configured maximum */
	STLS_SIP_FRAME_NO_CLEN,  /* stream message without Content-Length */
	STLS_SIP_FRAME_BAD_CLEN, /* unusable Content-Length */
};

struct stls_sip_frame {
	enum stls_sip_frame_kind kind;
	enum stls_sip_frame_err err; /* ERROR only */
	size_t consumed;             /* bytes to drop from the input, always */
	struct stls_slice msg;       /* MESSAGE; header section on *_CLEN */
	size_t hdr_len;              /* header section incl. the blank line */
	size_t body_len;             /* the Content-Length value */
	bool is_request;             /* start line is not "SIP/..." */
};

struct stls_sip_framer {
	size_t max_msg;  /* limit for header section + body */
	size_t scan;     /* where the blank-line search resumes */
	size_t hdr_len;  /* header section found (0 = still searching) */
	size_t body_len; /* its Content-Length */
};

/* Sets up a framer; max_msg 0 means STLS_SIP_MAX_MSG_DEFAULT. */
void stls_sip_framer_init(struct stls_sip_framer *fr, size_t max_msg);

/*
 * Looks at <len> bytes at <data> (the unconsumed input of the connection)
 * and fills *frame as described above. Never reads beyond data + len. After
 * ERROR the framer is spent: close the connection.
 */
void stls_sip_framer_next(struct stls_sip_framer *fr, const char *data,
			  size_t len, struct stls_sip_frame *frame);

/* Short English name of an error ("garbage", "too big", ...). */
const char *stls_sip_frame_err_str(enum stls_sip_frame_err err);

#endif
