/*
 * Lazy, zero-copy SIP message parser (RFC 3261 sections 7, 20, 25).
 *
 * stls_sip_msg_parse() makes one pass over a whole message (as framed by
 * stls/sip/framer.h, or one datagram): it splits and checks the start line,
 * indexes every header line (name, value, raw line extent, known-header id
 * with compact forms and folding resolved) and finds the body. Header
 * values are not interpreted until asked for: the typed getters (CSeq,
 * Max-Forwards, tags, Content-Length), the comma-list iterator and the URI,
 * name-addr and Via parsers (stls/sip/uri.h, stls/sip/via.h) work on demand.
 * stls_sip_msg_validate() runs the checks a proxy needs before it forwards
 * a client's message (single-valued headers present once, CSeq method,
 * ranges, every Via, From, To, Contact, Route, Record-Route and Path value
 * well formed); stls_sip_msg_validate_trusted() the smaller set for the
 * backend's. Both keep what they parsed (top Via, CSeq) in the struct.
 *
 * All slices point into the caller's buffer, which must outlive the
 * struct. The struct is large (STLS_SIP_MAX_HEADERS lines): keep one per
 * worker, not per connection. Nothing is allocated. Thread: any, one
 * message per struct.
 *
 * Limits: at most STLS_SIP_MAX_HEADERS header lines (a header bomb is
 * refused with -E2BIG). NUL bytes are refused except escaped inside a
 * header value (quoted-pair, RFC 4475 "intmeth"); bare CR or LF is refused.
 */
#ifndef STLS_SIP_MSG_H
#define STLS_SIP_MSG_H

#include "stls/common.h"
#include "stls/sip/slice.h"
#include "stls/sip/via.h"

#define STLS_SIP_MAX_HEADERS 256

/* Headers the daemon knows by name; compact forms map to the same id. */
enum stls_sip_hdr {
	STLS_SIP_HDR_OTHER = 0,
	STLS_SIP_HDR_CALL_ID,          /* i */
	STLS_SIP_HDR_CONTACT,          /* m */
	STLS_SIP_HDR_CONTENT_ENCODING, /* e */
	STLS_SIP_HDR_CONTENT_LENGTH,   /* l */
	STLS_SIP_HDR_CONTENT_TYPE,     /* c */
	STLS_SIP_HDR_FROM,             /* f */
	STLS_SIP_HDR_SUBJECT,          /* s */
	STLS_SIP_HDR_SUPPORTED,        /* k */
	STLS_SIP_HDR_TO,               /* t */
	STLS_SIP_HDR_VIA,              /* v */
	STLS_SIP_HDR_EVENT,            /* o */
	STLS_SIP_HDR_REFER_TO,         /* r */
	STLS_SIP_HDR_ALLOW_EVENTS,     /* u */
	STLS_SIP_HDR_SESSION_EXPIRES,  /* x */
	STLS_SIP_HDR_REFERRED_BY,      /* b */
	STLS_SIP_HDR_CSEQ,
	STLS_SIP_HDR_MAX_FORWARDS,
	STLS_SIP_HDR_ROUTE,
	STLS_SIP_HDR_RECORD_ROUTE,
	STLS_SIP_HDR_PATH,
	STLS_SIP_HDR_REQUIRE,
	STLS_SIP_HDR_PROXY_REQUIRE,
	STLS_SIP_HDR__COUNT /* not a header: sizes tables */
};

/* Methods the relay treats specially; anything else is OTHER. */
enum stls_sip_method {
	STLS_SIP_M_OTHER = 0,
	STLS_SIP_M_INVITE,
	STLS_SIP_M_ACK,
	STLS_SIP_M_BYE,
	STLS_SIP_M_CANCEL,
	STLS_SIP_M_OPTIONS,
	STLS_SIP_M_REGISTER,
	STLS_SIP_M_SUBSCRIBE,
	STLS_SIP_M_NOTIFY,
	STLS_SIP_M_REFER,
	STLS_SIP_M_PRACK,
	STLS_SIP_M_UPDATE,
	STLS_SIP_M_MESSAGE,
	STLS_SIP_M_INFO,
	STLS_SIP_M_PUBLISH,
};

/* One header line (with its continuation lines). */
struct stls_sip_hdr_line {
	struct stls_slice name;  /* as written, e.g. "v" or "ViA" */
	struct stls_slice value; /* LWS-trimmed, may contain folds */
	struct stls_slice line;  /* the raw line(s) including the CRLF */
	enum stls_sip_hdr id;
};

/* Validation levels (struct stls_sip_msg.validated). */
#define STLS_SIP_VALID_TRUSTED 1u /* stls_sip_msg_validate_trusted() */
#define STLS_SIP_VALID_FULL 2u    /* stls_sip_msg_validate() */

/* Parse modes. */
#define STLS_SIP_PARSE_STREAM 0x1u /* Content-Length required and exact */

struct stls_sip_msg {
	struct stls_slice raw;     /* the parsed message (headers + body) */
	struct stls_slice start;   /* start line without CRLF */
	bool is_request;
	struct stls_slice method;  /* request */
	enum stls_sip_method method_id;
	struct stls_slice ruri;    /* request */
	unsigned status;           /* response */
	struct stls_slice reason;  /* response, may be empty */
	struct stls_slice body;
	bool has_clen;
	size_t clen;
	size_t hdr_end;            /* offset of the empty line ending headers */
	const char *error;         /* why parse/validate failed (static) */
	unsigned n_hdrs;
	uint16_t first[STLS_SIP_HDR__COUNT]; /* index + 1, 0 = absent */
	uint16_t last[STLS_SIP_HDR__COUNT];  /* index + 1, 0 = absent */
	uint16_t count[STLS_SIP_HDR__COUNT]; /* lines of each known id */
	/*
	 * Parse-once results of a successful validation (sip_validate.c),
	 * read by the relay instead of parsing again. Valid while
	 * <validated> is not 0; stls_sip_msg_parse() clears it.
	 */
	unsigned validated;        /* 0 or STLS_SIP_VALID_TRUSTED or _FULL */
	uint32_t cseq_num;
	struct stls_slice cseq_method;
	const struct stls_sip_hdr_line *top_via_line; /* line of top_via */
	struct stls_slice top_via_rest; /* that line after it; p NULL: none */
	struct stls_sip_hdr_line hdrs[STLS_SIP_MAX_HEADERS];
	struct stls_sip_via top_via;    /* the first Via value, parsed */
};

/*
 * Parses the message at <data, len>. Without STLS_SIP_PARSE_STREAM the
 * input is a datagram: Content-Length is optional and bytes after the body
 * it announces are ignored (RFC 3261 section 18.3). Returns 0, -EBADMSG
 * (malformed: msg->error says what), -EPROTONOSUPPORT (SIP version other
 * than 2.0: answer 505), -E2BIG (more than STLS_SIP_MAX_HEADERS lines).
 */
STLS_MUST_USE int stls_sip_msg_parse(const char *data, size_t len,
				     unsigned flags, struct stls_sip_msg *msg);

/*
 * Full proxy-level checks for a message from an untrusted peer (a TLS
 * client): Call-ID, CSeq, From and To present once; Call-ID not empty;
 * CSeq number and method (a request's equal to its method); Max-Forwards
 * 0-255 when present; at least one Via; every Via, From, To, Contact,
 * Route, Record-Route and Path value well formed. Fills the parse-once
 * fields. Returns 0 or -EBADMSG with msg->error set. A request failing
 * here gets a 400. Thread: any, one message per struct.
 */
STLS_MUST_USE int stls_sip_msg_validate(struct stls_sip_msg *msg);

/*
 * Proportionate checks for a message from the trusted backend (RFC 3261
 * sections 16.3 and 16.7: check what this element reads or changes): the
 * same single-header, Call-ID, CSeq and Max-Forwards rules, and the top
 * Via well formed; other Via, From, To, Contact, Route, Record-Route and
 * Path values are forwarded as bytes. The relay still parses the Route
 * values and Request-URI it acts on. Fills the parse-once fields.
 * Returns 0 or -EBADMSG with msg->error set. Thread: any.
 */
STLS_MUST_USE int stls_sip_msg_validate_trusted(struct stls_sip_msg *msg);

/* Known-header id of a header name (compact forms included). */
enum stls_sip_hdr stls_sip_hdr_id(struct stls_slice name);

/* Method id of a method name (case-sensitive, as RFC 3261 says). */
enum stls_sip_method stls_sip_method_id(struct stls_slice name);

/* First line of header <id>, or NULL. */
const struct stls_sip_hdr_line *stls_sip_msg_find(const struct stls_sip_msg *m,
						  enum stls_sip_hdr id);

/*
 * First line whose name equals <name> (case-insensitive; a known name also
 * finds its compact form and the other way round), or NULL.
 */
const struct stls_sip_hdr_line *
stls_sip_msg_find_name(const struct stls_sip_msg *m, struct stls_slice name);

/* Next line after <h> with the same name (same id, or same text). */
const struct stls_sip_hdr_line *
stls_sip_msg_next(const struct stls_sip_msg *m,
		  const struct stls_sip_hdr_line *h);

/* Number of lines of header <id>. */
unsigned stls_sip_msg_count(const struct stls_sip_msg *m, enum stls_sip_hdr id);

/*
 * Iterator over the comma-separated values of one header across all its
 * lines (Via, Route, Record-Route, Path, Contact). Commas inside quoted
 * strings and angle brackets do not split.
 */
struct stls_sip_values {
	const struct stls_sip_msg *msg;
	const struct stls_sip_hdr_line *line; /* line of the current value */
	struct stls_slice rest;               /* unread part of that line */
};

void stls_sip_values_init(struct stls_sip_values *it,
			  const struct stls_sip_msg *m,
			  const struct stls_sip_hdr_line *first);

/*
 * Next value, LWS-trimmed (may be empty for ",,"). Returns 1 with *value
 * and it->line set, 0 at the end, -EBADMSG for an unterminated quote or
 * angle bracket.
 */
STLS_MUST_USE int stls_sip_values_next(struct stls_sip_values *it,
				       struct stls_slice *value);

/* CSeq number and method. Returns 0, -ENOENT, or -EBADMSG. */
STLS_MUST_USE int stls_sip_msg_cseq(const struct stls_sip_msg *m,
				    uint32_t *num, struct stls_slice *method);

/*
 * Max-Forwards value. Returns 0, -ENOENT (absent), or -EBADMSG (not
 * digits, over 255, or repeated).
 */
STLS_MUST_USE int stls_sip_msg_max_forwards(const struct stls_sip_msg *m,
					    unsigned *out);

/*
 * The tag parameter of From (id FROM) or To (id TO). Returns 0, -ENOENT
 * (header present without tag, or header absent), -EBADMSG.
 */
STLS_MUST_USE int stls_sip_msg_tag(const struct stls_sip_msg *m,
				   enum stls_sip_hdr id, struct stls_slice *tag);

#endif
