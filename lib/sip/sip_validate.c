/*
 * Proxy-level validation of parsed SIP messages (RFC 3261 sections 8.1.1,
 * 16.3, 16.7, 20). See stls/sip/msg.h for the contract.
 *
 * Two levels. A message from a TLS client is untrusted: every header the
 * relay or the backend may act on is parsed and refused when malformed.
 * A message from the backend (the operator's own SIP server) is checked
 * for what siptlsd itself reads or changes, and the rest is forwarded as
 * bytes. Either way each value is parsed once: the top Via and the CSeq
 * stay in the message for the rewriting that follows (sip_rewrite*.c).
 */
#include "stls/sip/msg.h"

#include <errno.h>

#include "stls/sip/uri.h"

static int bad(struct stls_sip_msg *m, const char *why)
{
	m->error = why;
	return -EBADMSG;
}

static int check_single(struct stls_sip_msg *m, enum stls_sip_hdr id,
			const char *missing, const char *twice)
{
	unsigned n = m->count[id];

	if (n == 0) {
		return bad(m, missing);
	}
	return n > 1 ? bad(m, twice) : 0;
}

/* The rules both levels share: single headers, Call-ID, CSeq, Max-Forwards
 * and a Via. Keeps the CSeq. */
static int check_common(struct stls_sip_msg *m)
{
	unsigned mf;

	if (check_single(m, STLS_SIP_HDR_CALL_ID, "missing Call-ID",
			 "repeated Call-ID") ||
	    check_single(m, STLS_SIP_HDR_CSEQ, "missing CSeq",
			 "repeated CSeq") ||
	    check_single(m, STLS_SIP_HDR_FROM, "missing From",
			 "repeated From") ||
	    check_single(m, STLS_SIP_HDR_TO, "missing To", "repeated To")) {
		return -EBADMSG;
	}
	if (stls_sip_msg_find(m, STLS_SIP_HDR_CALL_ID)->value.len == 0) {
		return bad(m, "empty Call-ID");
	}
	if (stls_sip_msg_cseq(m, &m->cseq_num, &m->cseq_method)) {
		return bad(m, "bad CSeq");
	}
	if (m->is_request && !stls_slice_eq(m->cseq_method, m->method)) {
		return bad(m, "CSeq method differs from the request method");
	}
	if (stls_sip_msg_max_forwards(m, &mf) == -EBADMSG) {
		return bad(m, "bad Max-Forwards");
	}
	if (m->count[STLS_SIP_HDR_VIA] == 0) {
		return bad(m, "missing Via");
	}
	return 0;
}

/* Parses the first Via value into m->top_via and notes where it ends. */
static int parse_top_via(struct stls_sip_msg *m, struct stls_sip_values *it)
{
	struct stls_slice v;

	stls_sip_values_init(it, m, stls_sip_msg_find(m, STLS_SIP_HDR_VIA));
	if (stls_sip_values_next(it, &v) != 1 ||
	    stls_sip_via_parse(v, &m->top_via)) {
		return bad(m, "bad Via");
	}
	m->top_via_line = it->line;
	m->top_via_rest = it->rest;
	return 0;
}

/* Every value of header <id> must parse as a name-addr (or Via); for Via
 * the iterator <it> already stands after the top value. */
static int check_list(struct stls_sip_msg *m, enum stls_sip_hdr id,
		      struct stls_sip_values *it, bool angle_only,
		      const char *why)
{
	struct stls_sip_values own;
	struct stls_slice v;
	struct stls_sip_addr a;
	struct stls_sip_via via;
	int r;

	if (!it) {
		it = &own;
		stls_sip_values_init(it, m, stls_sip_msg_find(m, id));
	}
	while ((r = stls_sip_values_next(it, &v)) == 1) {
		if (id == STLS_SIP_HDR_VIA ? stls_sip_via_parse(v, &via) != 0 :
		    stls_sip_addr_parse(v, id == STLS_SIP_HDR_CONTACT, &a) ||
		    (angle_only && !a.angle)) {
			return bad(m, why);
		}
	}
	return r < 0 ? bad(m, why) : 0;
}

int stls_sip_msg_validate(struct stls_sip_msg *m)
{
	struct stls_sip_values it;
	struct stls_sip_addr a;

	m->validated = 0;
	if (check_common(m)) {
		return -EBADMSG;
	}
	/* A From that parses has a well-formed tag parameter if any. */
	if (stls_sip_addr_parse(stls_sip_msg_find(m, STLS_SIP_HDR_FROM)->value,
				false, &a)) {
		return bad(m, "bad From");
	}
	if (stls_sip_addr_parse(stls_sip_msg_find(m, STLS_SIP_HDR_TO)->value,
				false, &a)) {
		return bad(m, "bad To");
	}
	if (parse_top_via(m, &it) ||
	    check_list(m, STLS_SIP_HDR_VIA, &it, false, "bad Via") ||
	    check_list(m, STLS_SIP_HDR_CONTACT, NULL, false, "bad Contact") ||
	    check_list(m, STLS_SIP_HDR_ROUTE, NULL, true, "bad Route") ||
	    check_list(m, STLS_SIP_HDR_RECORD_ROUTE, NULL, true,
		       "bad Record-Route") ||
	    check_list(m, STLS_SIP_HDR_PATH, NULL, true, "bad Path")) {
		return -EBADMSG;
	}
	m->validated = STLS_SIP_VALID_FULL;
	return 0;
}

int stls_sip_msg_validate_trusted(struct stls_sip_msg *m)
{
	struct stls_sip_values it;

	m->validated = 0;
	if (check_common(m) || parse_top_via(m, &it)) {
		return -EBADMSG;
	}
	m->validated = STLS_SIP_VALID_TRUSTED;
	return 0;
}
