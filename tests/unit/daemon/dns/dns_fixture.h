/*
 * Test helpers for daemon/dns: a DNS message builder (responses with A,
 * AAAA, SRV, NAPTR and SOA records, written by hand from RFC 1035,
 * 3596, 2782 and 3403) and a fake DNS server on a uv loop (a uv_udp_t
 * on 127.0.0.1 that answers from a callback, or stays silent), so that
 * the resolver's tests run in one thread. Header-only: each test file is
 * its own binary.
 */
#ifndef STLS_TEST_DNS_FIXTURE_H
#define STLS_TEST_DNS_FIXTURE_H

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "dns/answer.h"
#include "stls/addr.h"
#include "test.h"

struct dnsb {
	uint8_t b[4096];
	size_t len;
};

static inline void dnsb_u16(struct dnsb *m, unsigned v)
{
	m->b[m->len++] = (uint8_t)(v >> 8);
	m->b[m->len++] = (uint8_t)v;
}

static inline void dnsb_u32(struct dnsb *m, uint32_t v)
{
	dnsb_u16(m, v >> 16);
	dnsb_u16(m, v & 0xffff);
}

/* A response header: id, QR|RD|RA and <rcode>, section counts. */
static inline void dnsb_header(struct dnsb *m, uint16_t id, unsigned rcode,
			       unsigned qd, unsigned an, unsigned ns)
{
	m->len = 0;
	dnsb_u16(m, id);
	dnsb_u16(m, 0x8180 | rcode);
	dnsb_u16(m, qd);
	dnsb_u16(m, an);
	dnsb_u16(m, ns);
	dnsb_u16(m, 0);
}

/* A name, uncompressed ("" or "." is the root). */
static inline void dnsb_name(struct dnsb *m, const char *name)
{
	const char *p = name, *dot;
	size_t n;

	while (*p && strcmp(p, ".") != 0) {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		m->b[m->len++] = (uint8_t)n;
		memcpy(m->b + m->len, p, n);
		m->len += n;
		p += n + (dot ? 1 : 0);
	}
	m->b[m->len++] = 0;
}

static inline void dnsb_question(struct dnsb *m, const char *name,
				 unsigned type)
{
	dnsb_name(m, name);
	dnsb_u16(m, type);
	dnsb_u16(m, 1);
}

/* An RR header; returns where RDLENGTH goes (dnsb_end() fills it). */
static inline size_t dnsb_rr(struct dnsb *m, const char *name, unsigned type,
			     uint32_t ttl)
{
	size_t at;

	dnsb_name(m, name);
	dnsb_u16(m, type);
	dnsb_u16(m, 1);
	dnsb_u32(m, ttl);
	at = m->len;
	dnsb_u16(m, 0);
	return at;
}

static inline void dnsb_end(struct dnsb *m, size_t at)
{
	size_t n = m->len - at - 2;

	m->b[at] = (uint8_t)(n >> 8);
	m->b[at + 1] = (uint8_t)n;
}

static inline void dnsb_a(struct dnsb *m, const char *name, uint32_t ttl,
			  const char *ip)
{
	size_t at = dnsb_rr(m, name, STLS_DNS_T_A, ttl);

	CHECK_EQ(inet_pton(AF_INET, ip, m->b + m->len), 1);
	m->len += 4;
	dnsb_end(m, at);
}

static inline void dnsb_aaaa(struct dnsb *m, const char *name, uint32_t ttl,
			     const char *ip)
{
	size_t at = dnsb_rr(m, name, STLS_DNS_T_AAAA, ttl);

	CHECK_EQ(inet_pton(AF_INET6, ip, m->b + m->len), 1);
	m->len += 16;
	dnsb_end(m, at);
}

static inline void dnsb_srv(struct dnsb *m, const char *name, uint32_t ttl,
			    unsigned prio, unsigned weight, unsigned port,
			    const char *target)
{
	size_t at = dnsb_rr(m, name, STLS_DNS_T_SRV, ttl);

	dnsb_u16(m, prio);
	dnsb_u16(m, weight);
	dnsb_u16(m, port);
	dnsb_name(m, target);
	dnsb_end(m, at);
}

static inline void dnsb_str(struct dnsb *m, const char *s)
{
	size_t n = strlen(s);

	m->b[m->len++] = (uint8_t)n;
	memcpy(m->b + m->len, s, n);
	m->len += n;
}

static inline void dnsb_naptr(struct dnsb *m, const char *name, uint32_t ttl,
			      unsigned order, unsigned pref,
			      const char *flags, const char *service,
			      const char *replacement)
{
	size_t at = dnsb_rr(m, name, STLS_DNS_T_NAPTR, ttl);

	dnsb_u16(m, order);
	dnsb_u16(m, pref);
	dnsb_str(m, flags);
	dnsb_str(m, service);
	dnsb_str(m, "");
	dnsb_name(m, replacement);
	dnsb_end(m, at);
}

/* An SOA (authority section) with MINIMUM <minimum>. */
static inline void dnsb_soa(struct dnsb *m, const char *zone, uint32_t ttl,
			    uint32_t minimum)
{
	size_t at = dnsb_rr(m, zone, 6, ttl);

	dnsb_name(m, "ns.test");
	dnsb_name(m, "admin.test");
	dnsb_u32(m, 1);
	dnsb_u32(m, 60);
	dnsb_u32(m, 60);
	dnsb_u32(m, 600);
	dnsb_u32(m, minimum);
	dnsb_end(m, at);
}

/*
 * The fake server. answer(fd, qname, qtype, out, arg) fills <out> (its
 * id is set afterwards) and returns true to send it, false to stay
 * silent. <qname> is in dotted form, lower case.
 */
typedef bool fake_answer_fn(const char *qname, unsigned qtype,
			    struct dnsb *out, void *arg);

struct fake_dns {
	uv_udp_t udp;
	struct stls_addr addr;
	fake_answer_fn *fn;
	void *arg;
	unsigned queries;
	unsigned by_type[64];
	char last[256];
};

static inline void fake_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char mem[4096];

	(void)h;
	(void)hint;
	buf->base = mem;
	buf->len = sizeof(mem);
}

/* The question's name and type out of a query. */
static inline bool fake_parse(const uint8_t *p, size_t n, char *name,
			      unsigned *type)
{
	size_t o = 12, k = 0;

	while (o < n && p[o]) {
		size_t l = p[o++];

		if (o + l > n || k + l + 2 > 255)
			return false;
		if (k)
			name[k++] = '.';
		for (; l > 0; l--)
			name[k++] = (char)tolower(p[o++]);
	}
	name[k] = '\0';
	if (o + 5 > n)
		return false;
	*type = (unsigned)(p[o + 1] << 8 | p[o + 2]);
	return true;
}

static inline void fake_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
			     const struct sockaddr *from, unsigned flags)
{
	struct fake_dns *f = h->data;
	struct dnsb *out;
	uv_buf_t b;
	unsigned type;

	(void)flags;
	if (nread < 12 || !from)
		return;
	if (!fake_parse((const uint8_t *)buf->base, (size_t)nread, f->last,
			&type))
		return;
	f->queries++;
	f->by_type[type & 63]++;
	out = calloc(1, sizeof(*out));
	if (f->fn(f->last, type, out, f->arg)) {
		memcpy(out->b, buf->base, 2); /* the query's id */
		b = uv_buf_init((char *)out->b, (unsigned)out->len);
		(void)uv_udp_try_send(h, &b, 1, from);
	}
	free(out);
}

static inline void fake_start(struct fake_dns *f, uv_loop_t *loop,
			      fake_answer_fn *fn, void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	memset(f, 0, sizeof(*f));
	f->fn = fn;
	f->arg = arg;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_OK(uv_udp_init(loop, &f->udp));
	f->udp.data = f;
	CHECK_OK(uv_udp_bind(&f->udp, (struct sockaddr *)&sa, 0));
	CHECK_OK(uv_udp_getsockname(&f->udp, (struct sockaddr *)&ss, &len));
	stls_addr_from_sockaddr((struct sockaddr *)&ss, &f->addr);
	CHECK_OK(uv_udp_recv_start(&f->udp, fake_alloc, fake_recv));
}

static inline void fake_stop(struct fake_dns *f)
{
	uv_close((uv_handle_t *)&f->udp, NULL);
}

/* Runs <loop> until *done or <ms> milliseconds passed. */
static inline void run_until(uv_loop_t *loop, const bool *done, unsigned ms)
{
	uint64_t end = uv_hrtime() / 1000000u + ms;

	while (!*done && uv_hrtime() / 1000000u < end) {
		if (uv_run(loop, UV_RUN_NOWAIT) == 0)
			break;
		if (!*done)
			uv_sleep(1);
	}
}

/* Runs <loop> until it has no handle left (bounded): checks clean-up. */
static inline void run_dry(uv_loop_t *loop)
{
	int i;

	for (i = 0; i < 1000 && uv_run(loop, UV_RUN_NOWAIT); i++)
		;
	CHECK_OK(uv_loop_close(loop));
}

#endif
