/*
 * DNS answers as the resolver keeps them: one record set (RRset) per
 * name and type, parsed from a raw response.
 *
 * The record data comes from c-ares' own parsers (ares_parse_a_reply,
 * ares_parse_aaaa_reply, ares_parse_srv_reply, ares_parse_naptr_reply);
 * what those do not give (the TTL of SRV and NAPTR records, the response
 * code, the SOA of a negative answer in the authority section) is read
 * by a small bounds-checked walker of the message here. A response is
 * untrusted input: every length is checked, and a response that does not
 * parse is a failure (-EBADMSG), never a crash (fuzz/fuzz_dns_answer.c).
 *
 * TTLs: a positive set lives for the smallest TTL of the answer section
 * (RFC 2181 section 5.2 wants them equal), capped at one day; a negative
 * one (NXDOMAIN, or NOERROR without records of the type: NODATA) for
 * min(SOA TTL, SOA MINIMUM) of the authority section (RFC 2308 section
 * 5), capped at three hours. A negative answer without an SOA gets TTL 0:
 * it is not cached (RFC 2308 section 5).
 *
 * Sets are immutable and reference-counted; one worker uses them (no
 * atomics).
 */
#ifndef STLSD_DNS_ANSWER_H
#define STLSD_DNS_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "stls/common.h"

#define STLS_DNS_NAME_MAX 253 /* text form, without the trailing dot */
#define STLS_DNS_RR_MAX 32    /* records kept per set; more are ignored */
#define STLS_DNS_TTL_MAX 86400u
#define STLS_DNS_NEG_TTL_MAX 10800u

/* Record types the resolver asks for (RFC 1035, 3596, 2782, 3403). */
enum stls_dns_type {
	STLS_DNS_T_A = 1,
	STLS_DNS_T_AAAA = 28,
	STLS_DNS_T_SRV = 33,
	STLS_DNS_T_NAPTR = 35,
};

enum stls_dns_status {
	STLS_DNS_OK,       /* n >= 1 records */
	STLS_DNS_NXDOMAIN, /* the name does not exist */
	STLS_DNS_NODATA,   /* the name exists, no record of the type */
};

/* One record; which fields mean something depends on the set's type. */
struct stls_dns_rr {
	uint16_t prio;    /* SRV priority, NAPTR order */
	uint16_t weight;  /* SRV weight, NAPTR preference */
	uint16_t port;    /* SRV port */
	uint8_t ip[16];   /* A (first 4 bytes), AAAA */
	char flags[8];    /* NAPTR flags, lower case */
	char service[32]; /* NAPTR service, upper case ("SIPS+D2T") */
	/* SRV target, NAPTR replacement: lower case, no trailing dot; ""
	 * for the root ("." : RFC 2782 "no service here") */
	char name[STLS_DNS_NAME_MAX + 1];
};

struct stls_dns_rrset {
	unsigned refs;
	uint16_t type;               /* enum stls_dns_type */
	enum stls_dns_status status;
	uint32_t ttl;                /* seconds it may be kept; 0: not */
	size_t n;
	struct stls_dns_rr rr[];
};

/* "A", "AAAA", "SRV", "NAPTR", or "?" */
const char *stls_dns_type_name(uint16_t type);

/*
 * Parses the response <abuf, alen> to a query of <type> into a new set
 * (*out, one reference). Any response code is accepted here: NXDOMAIN
 * and NODATA become negative sets. Returns 0, -EIO (SERVFAIL, REFUSED
 * or another error code from the server: not an answer), -EBADMSG
 * (malformed: truncated, bad lengths, a record c-ares refuses),
 * -EINVAL (type not one of the four) or -ENOMEM.
 */
STLS_MUST_USE int stls_dns_answer_parse(uint16_t type, const uint8_t *abuf,
					size_t alen,
					struct stls_dns_rrset **out);

/*
 * A new set of <type> with <n> zeroed records (n <= STLS_DNS_RR_MAX),
 * status OK (NXDOMAIN/NODATA when n is 0 and the caller says so), one
 * reference. Returns NULL when out of memory.
 */
struct stls_dns_rrset *stls_dns_rrset_new(uint16_t type, size_t n);

void stls_dns_rrset_ref(struct stls_dns_rrset *rs);
/* Drops one reference; frees at zero. NULL is fine. */
void stls_dns_rrset_unref(struct stls_dns_rrset *rs);

#endif
