/*
 * Fuzz target: DNS responses as the resolver takes them at the c-ares
 * callback boundary (dns/resolver.c on_raw): the raw response is parsed
 * for each of the four types the daemon asks (A, AAAA, SRV, NAPTR: the
 * header walker and c-ares' own parsers, dns/answer.c), and a set that
 * parses goes where an answer goes next: the cache (put, get), and the
 * SRV (RFC 2782) or NAPTR order used by the RFC 3263 steps. Bad data must
 * fail cleanly: no crash, no read past the end (the input is copied to a
 * buffer of its own size), no loop that does not end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/answer.h"
#include "dns/cache.h"
#include "dns/srv_order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rnd(void *arg)
{
	uint32_t *x = arg;

	*x = *x * 1103515245u + 12345u;
	return *x;
}

static void use(struct stls_dns_cache *c, struct stls_dns_rrset *rs)
{
	const struct stls_dns_rrset *got;
	uint8_t idx[STLS_DNS_RR_MAX];
	uint32_t seed = 1;
	size_t n = 0, i;

	if (rs->type == STLS_DNS_T_SRV)
		n = stls_dns_srv_order(rs, rnd, &seed, idx);
	else if (rs->type == STLS_DNS_T_NAPTR)
		n = stls_dns_naptr_order(rs, idx);
	for (i = 0; i < n; i++) {
		if (idx[i] >= rs->n)
			abort();
	}
	if (stls_dns_cache_put(c, "fuzz.example.test", rs, 0) == 0) {
		got = stls_dns_cache_get(c, "fuzz.example.test", rs->type, 1);
		if (rs->ttl && got != rs)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { STLS_DNS_T_A, STLS_DNS_T_AAAA,
					  STLS_DNS_T_SRV, STLS_DNS_T_NAPTR };
	struct stls_dns_cache *c = NULL;
	struct stls_dns_rrset *rs;
	uint8_t *buf = malloc(size ? size : 1);
	size_t i;

	if (!buf || stls_dns_cache_new(4, &c) != 0) {
		free(buf);
		return 0;
	}
	memcpy(buf, data, size);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		rs = NULL;
		if (stls_dns_answer_parse(types[i], buf, size, &rs) == 0) {
			if (rs->n > STLS_DNS_RR_MAX ||
			    (rs->status != STLS_DNS_OK && rs->n))
				abort();
			use(c, rs);
			stls_dns_rrset_unref(rs);
		} else if (rs) {
			abort(); /* a failure never hands out a set */
		}
	}
	stls_dns_cache_free(c);
	free(buf);
	return 0;
}
