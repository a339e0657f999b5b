/*
 * Raw DNS responses into record sets (see answer.h).
 *
 * Two readers look at each response. The walker below reads what the
 * header and the resource-record headers say (response code, TTLs, the
 * SOA of the authority section), checking every offset against the
 * length; it never decompresses a name, it only steps over it (RFC 1035
 * section 4.1.4: labels end with a zero byte or a two-byte pointer).
 * The record data then comes from c-ares' parsers, as the daemon uses
 * them on every answer; both must accept the message.
 */
#include "dns/answer.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#define HDR_LEN 12
#define RR_FIXED 10 /* type, class, TTL, RDLENGTH */
#define T_SOA 6
#define RCODE_NOERROR 0
#define RCODE_NXDOMAIN 3

const char *stls_dns_type_name(uint16_t type)
{
	switch (type) {
	case STLS_DNS_T_A:
		return "A";
	case STLS_DNS_T_AAAA:
		return "AAAA";
	case STLS_DNS_T_SRV:
		return "SRV";
	case STLS_DNS_T_NAPTR:
		return "NAPTR";
	}
	return "?";
}

struct stls_dns_rrset *stls_dns_rrset_new(uint16_t type, size_t n)
{
	struct stls_dns_rrset *rs;

	if (n > STLS_DNS_RR_MAX)
		return NULL;
	rs = calloc(1, sizeof(*rs) + n * sizeof(rs->rr[0]));
	if (!rs)
		return NULL;
	rs->refs = 1;
	rs->type = type;
	rs->n = n;
	return rs;
}

void stls_dns_rrset_ref(struct stls_dns_rrset *rs)
{
	rs->refs++;
}

void stls_dns_rrset_unref(struct stls_dns_rrset *rs)
{
	if (rs && --rs->refs == 0)
		free(rs);
}

/* What the walker learns from a response. */
struct walk {
	unsigned rcode;
	size_t of_type;   /* answer records of the asked type */
	uint32_t an_ttl;  /* smallest answer TTL (UINT32_MAX: none) */
	uint32_t neg_ttl; /* min(SOA TTL, MINIMUM); UINT32_MAX: no SOA */
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* RFC 2181 section 8: a TTL with the top bit set means zero. */
static uint32_t ttl_of(const uint8_t *p)
{
	uint32_t t = get32(p);

	return t & 0x80000000u ? 0 : t;
}

/* Steps *off over the name at p + *off, not past <end>. */
static int skip_name(const uint8_t *p, size_t end, size_t *off)
{
	size_t o = *off;
	unsigned labels = 0;

	for (;;) {
		if (o >= end)
			return -EBADMSG;
		if ((p[o] & 0xc0) == 0xc0) {
			if (o + 2 > end)
				return -EBADMSG;
			*off = o + 2;
			return 0;
		}
		if (p[o] & 0xc0)
			return -EBADMSG; /* RFC 6891 extended label types */
		if (p[o] == 0) {
			*off = o + 1;
			return 0;
		}
		o += 1u + p[o];
		if (++labels > 127)
			return -EBADMSG;
	}
}

/* The SOA's min(TTL, MINIMUM): its RDATA is two names and five 32-bit
 * numbers, MINIMUM last (RFC 1035 section 3.3.13). */
static int soa_ttl(const uint8_t *p, size_t rd, size_t rdlen, uint32_t ttl,
		   uint32_t *out)
{
	size_t o = rd, end = rd + rdlen;
	uint32_t min;

	if (skip_name(p, end, &o) || skip_name(p, end, &o) || o + 20 > end)
		return -EBADMSG;
	min = ttl_of(p + o + 16);
	*out = ttl < min ? ttl : min;
	return 0;
}

/* One resource record at *off: updates <w> for section <sec> (0
 * answer, 1 authority, 2 additional). */
static int walk_rr(const uint8_t *p, size_t len, size_t *off, int sec,
		   uint16_t type, struct walk *w)
{
	size_t o = *off, rdlen;
	uint16_t rtype;
	uint32_t ttl, neg;

	if (skip_name(p, len, &o) || o + RR_FIXED > len)
		return -EBADMSG;
	rtype = get16(p + o);
	ttl = ttl_of(p + o + 4);
	rdlen = get16(p + o + 8);
	o += RR_FIXED;
	if (o + rdlen > len)
		return -EBADMSG;
	if (sec == 0) {
		if (ttl < w->an_ttl)
			w->an_ttl = ttl;
		if (rtype == type)
			w->of_type++;
	} else if (sec == 1 && rtype == T_SOA) {
		if (soa_ttl(p, o, rdlen, ttl, &neg))
			return -EBADMSG;
		if (neg < w->neg_ttl)
			w->neg_ttl = neg;
	}
	*off = o + rdlen;
	return 0;
}

static int walk_msg(const uint8_t *p, size_t len, uint16_t type,
		    struct walk *w)
{
	size_t off = HDR_LEN, i;
	unsigned counts[3];
	int sec;

	memset(w, 0, sizeof(*w));
	w->an_ttl = w->neg_ttl = UINT32_MAX;
	if (len < HDR_LEN || !(p[2] & 0x80))
		return -EBADMSG; /* short, or not a response */
	w->rcode = p[3] & 0x0f;
	for (i = get16(p + 4); i > 0; i--) {
		if (skip_name(p, len, &off) || off + 4 > len)
			return -EBADMSG;
		off += 4;
	}
	counts[0] = get16(p + 6);
	counts[1] = get16(p + 8);
	counts[2] = 0; /* the additional section is not read */
	for (sec = 0; sec < 3; sec++) {
		for (i = 0; i < counts[sec]; i++) {
			if (walk_rr(p, len, &off, sec, type, w))
				return -EBADMSG;
		}
	}
	return 0;
}

static void copy_lower(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* A name from c-ares into rr->name: lower case, no trailing dot. */
static int set_name(struct stls_dns_rr *rr, const char *name)
{
	size_t n = strlen(name);

	if (n && name[n - 1] == '.')
		n--;
	if (n > STLS_DNS_NAME_MAX)
		return -EBADMSG;
	copy_lower(rr->name, n + 1, name);
	return 0;
}

static int parse_a(const uint8_t *p, int len, struct stls_dns_rrset *rs)
{
	struct ares_addrttl at[STLS_DNS_RR_MAX];
	int n = (int)rs->n, i, st;

	st = ares_parse_a_reply(p, len, NULL, at, &n);
	if (st != ARES_SUCCESS && st != ARES_ENODATA)
		return -EBADMSG;
	if (st == ARES_ENODATA)
		n = 0;
	for (i = 0; i < n; i++)
		memcpy(rs->rr[i].ip, &at[i].ipaddr, 4);
	rs->n = (size_t)n;
	return 0;
}

static int parse_aaaa(const uint8_t *p, int len, struct stls_dns_rrset *rs)
{
	struct ares_addr6ttl at[STLS_DNS_RR_MAX];
	int n = (int)rs->n, i, st;

	st = ares_parse_aaaa_reply(p, len, NULL, at, &n);
	if (st != ARES_SUCCESS && st != ARES_ENODATA)
		return -EBADMSG;
	if (st == ARES_ENODATA)
		n = 0;
	for (i = 0; i < n; i++)
		memcpy(rs->rr[i].ip, &at[i].ip6addr, 16);
	rs->n = (size_t)n;
	return 0;
}

static int parse_srv(const uint8_t *p, int len, struct stls_dns_rrset *rs)
{
	struct ares_srv_reply *head = NULL, *s;
	size_t n = 0;
	int st, err = 0;

	st = ares_parse_srv_reply(p, len, &head);
	if (st != ARES_SUCCESS && st != ARES_ENODATA)
		return -EBADMSG;
	for (s = head; s && n < rs->n && !err; s = s->next, n++) {
		rs->rr[n].prio = s->priority;
		rs->rr[n].weight = s->weight;
		rs->rr[n].port = s->port;
		err = set_name(&rs->rr[n], s->host ? s->host : "");
	}
	ares_free_data(head);
	rs->n = err ? 0 : n;
	return err;
}

static int parse_naptr(const uint8_t *p, int len, struct stls_dns_rrset *rs)
{
	struct ares_naptr_reply *head = NULL, *r;
	struct stls_dns_rr *rr;
	size_t n = 0, i;
	int st, err = 0;

	st = ares_parse_naptr_reply(p, len, &head);
	if (st != ARES_SUCCESS && st != ARES_ENODATA)
		return -EBADMSG;
	for (r = head; r && n < rs->n && !err; r = r->next, n++) {
		rr = &rs->rr[n];
		rr->prio = r->order;
		rr->weight = r->preference;
		copy_lower(rr->flags, sizeof(rr->flags),
			   r->flags ? (const char *)r->flags : "");
		/* A service too long to be one of ours matches nothing. */
		if (r->service && strlen((const char *)r->service) <
					  sizeof(rr->service)) {
			for (i = 0; r->service[i]; i++)
				rr->service[i] =
					(char)toupper(r->service[i]);
		}
		err = set_name(rr, r->replacement ? r->replacement : "");
	}
	ares_free_data(head);
	rs->n = err ? 0 : n;
	return err;
}

static struct stls_dns_rrset *negative(uint16_t type,
				       enum stls_dns_status st,
				       const struct walk *w)
{
	struct stls_dns_rrset *rs = stls_dns_rrset_new(type, 0);

	if (!rs)
		return NULL;
	rs->status = st;
	rs->ttl = w->neg_ttl == UINT32_MAX ? 0 :
		  w->neg_ttl > STLS_DNS_NEG_TTL_MAX ? STLS_DNS_NEG_TTL_MAX :
						      w->neg_ttl;
	return rs;
}

int stls_dns_answer_parse(uint16_t type, const uint8_t *abuf, size_t alen,
			  struct stls_dns_rrset **out)
{
	struct stls_dns_rrset *rs;
	struct walk w;
	int err;

	if (type != STLS_DNS_T_A && type != STLS_DNS_T_AAAA &&
	    type != STLS_DNS_T_SRV && type != STLS_DNS_T_NAPTR)
		return -EINVAL;
	if (alen > 65535 || walk_msg(abuf, alen, type, &w))
		return -EBADMSG;
	if (w.rcode != RCODE_NOERROR && w.rcode != RCODE_NXDOMAIN)
		return -EIO;
	if (w.rcode == RCODE_NXDOMAIN || w.of_type == 0) {
		rs = negative(type, w.rcode == RCODE_NXDOMAIN
					    ? STLS_DNS_NXDOMAIN
					    : STLS_DNS_NODATA, &w);
		if (!rs)
			return -ENOMEM;
		*out = rs;
		return 0;
	}
	rs = stls_dns_rrset_new(type, w.of_type < STLS_DNS_RR_MAX
					      ? w.of_type
					      : STLS_DNS_RR_MAX);
	if (!rs)
		return -ENOMEM;
	switch (type) {
	case STLS_DNS_T_A:
		err = parse_a(abuf, (int)alen, rs);
		break;
	case STLS_DNS_T_AAAA:
		err = parse_aaaa(abuf, (int)alen, rs);
		break;
	case STLS_DNS_T_SRV:
		err = parse_srv(abuf, (int)alen, rs);
		break;
	default:
		err = parse_naptr(abuf, (int)alen, rs);
		break;
	}
	if (err) {
		stls_dns_rrset_unref(rs);
		return err;
	}
	if (rs->n == 0) {
		/* Records of the type c-ares did not take (another owner
		 * name): nothing usable, not cached. */
		rs->status = STLS_DNS_NODATA;
		rs->ttl = 0;
	} else {
		rs->ttl = w.an_ttl > STLS_DNS_TTL_MAX ? STLS_DNS_TTL_MAX
						      : w.an_ttl;
	}
	*out = rs;
	return 0;
}
