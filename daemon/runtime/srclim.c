/*
 * Per-source limits (see srclim.h): a sharded, chained hash table of
 * sources, each with its open connections and its token bucket.
 */
#include "runtime/srclim.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#define SHARDS 64
#define MILLI 1000 /* tokens are counted in thousandths */

struct src {
	struct src *next;
	uint64_t key;      /* IPv4 address or IPv6 /64 */
	uint8_t family;
	uint32_t conns;    /* open connections */
	uint64_t tokens_m; /* thousandths of a token */
	uint64_t last_ms;  /* tokens_m was right at this time */
};

struct shard {
	pthread_mutex_t mu;
	struct src **b; /* buckets, a power of two */
	size_t nb;
	size_t n;
	size_t sweep_at; /* sweep idle entries when n reaches this */
};

struct stls_srclim {
	uint32_t max_conns;
	uint64_t rate;   /* tokens a second; 0: off */
	uint64_t seed;
	struct shard s[SHARDS];
};

static uint64_t key_of(const struct stls_addr *a)
{
	uint64_t k = 0;

	memcpy(&k, a->ip, a->family == AF_INET6 ? 8 : 4);
	return k;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

struct stls_srclim *stls_srclim_new(int max_conns, int rate, int *err)
{
	struct stls_srclim *t;
	size_t i;

	*err = 0;
	if (max_conns <= 0 && rate <= 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	t->max_conns = max_conns > 0 ? (uint32_t)max_conns : 0;
	t->rate = rate > 0 ? (uint64_t)rate : 0;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < SHARDS; i++) {
		pthread_mutex_init(&t->s[i].mu, NULL);
		t->s[i].nb = 64;
		t->s[i].sweep_at = 128;
		t->s[i].b = calloc(t->s[i].nb, sizeof(*t->s[i].b));
		if (!t->s[i].b) {
			stls_srclim_free(t);
			*err = -ENOMEM;
			return NULL;
		}
	}
	return t;
}

void stls_srclim_free(struct stls_srclim *t)
{
	size_t i, j;
	struct src *e, *next;

	if (!t)
		return;
	for (i = 0; i < SHARDS; i++) {
		for (j = 0; t->s[i].b && j < t->s[i].nb; j++) {
			for (e = t->s[i].b[j]; e; e = next) {
				next = e->next;
				free(e);
			}
		}
		free(t->s[i].b);
		pthread_mutex_destroy(&t->s[i].mu);
	}
	free(t);
}

/* Brings e's bucket up to now. */
static void refill(const struct stls_srclim *t, struct src *e, uint64_t now)
{
	uint64_t full = t->rate * MILLI;

	if (now > e->last_ms) {
		uint64_t add = (now - e->last_ms) * t->rate; /* per ms */

		e->tokens_m = add >= full - e->tokens_m ? full
							 : e->tokens_m + add;
		e->last_ms = now;
	}
}

/* An entry that carries nothing a fresh one would not. */
static bool idle(const struct stls_srclim *t, struct src *e, uint64_t now)
{
	if (e->conns)
		return false;
	if (!t->rate)
		return true;
	refill(t, e, now);
	return e->tokens_m >= t->rate * MILLI;
}

/* Drops idle entries, and doubles the buckets when the shard stays
 * full; the next sweep waits until the shard has doubled again, so
 * sweeping costs O(1) per insertion. Shard locked. */
static void sweep(const struct stls_srclim *t, struct shard *s, uint64_t now)
{
	size_t j, nb2;
	struct src **pp, *e, **b2;

	for (j = 0; j < s->nb; j++) {
		for (pp = &s->b[j]; (e = *pp) != NULL;) {
			if (idle(t, e, now)) {
				*pp = e->next;
				free(e);
				s->n--;
			} else {
				pp = &e->next;
			}
		}
	}
	s->sweep_at = s->n * 2 > 128 ? s->n * 2 : 128;
	if (s->n <= s->nb)
		return;
	nb2 = s->nb * 2;
	b2 = calloc(nb2, sizeof(*b2));
	if (!b2)
		return;
	for (j = 0; j < s->nb; j++) {
		while ((e = s->b[j]) != NULL) {
			size_t h = (size_t)(mix(e->key ^ t->seed) >> 6) &
				   (nb2 - 1);

			s->b[j] = e->next;
			e->next = b2[h];
			b2[h] = e;
		}
	}
	free(s->b);
	s->b = b2;
	s->nb = nb2;
}

static struct src **find(struct stls_srclim *t, const struct stls_addr *a,
			 struct shard **out)
{
	uint64_t key = key_of(a), h = mix(key ^ t->seed);
	struct shard *s = &t->s[h & (SHARDS - 1)];
	struct src **pp;

	*out = s;
	pthread_mutex_lock(&s->mu);
	for (pp = &s->b[(h >> 6) & (s->nb - 1)]; *pp; pp = &(*pp)->next) {
		if ((*pp)->key == key && (*pp)->family == a->family)
			break;
	}
	return pp;
}

enum stls_srclim_verdict stls_srclim_admit(struct stls_srclim *t,
					   const struct stls_addr *a,
					   uint64_t now)
{
	enum stls_srclim_verdict v = STLS_SRCLIM_OK;
	struct shard *s;
	struct src *e = *find(t, a, &s);

	if (!e) {
		if (s->n + 1 >= s->sweep_at)
			sweep(t, s, now); /* the buckets may move */
		e = calloc(1, sizeof(*e));
		if (!e) {
			pthread_mutex_unlock(&s->mu);
			return STLS_SRCLIM_NOMEM;
		}
		e->key = key_of(a);
		e->family = (uint8_t)a->family;
		e->tokens_m = t->rate * MILLI;
		e->last_ms = now;
		{
			uint64_t h = mix(e->key ^ t->seed);
			struct src **head = &s->b[(h >> 6) & (s->nb - 1)];

			e->next = *head;
			*head = e;
		}
		s->n++;
	}
	if (t->max_conns && e->conns >= t->max_conns) {
		v = STLS_SRCLIM_CONNS;
	} else if (t->rate) {
		refill(t, e, now);
		if (e->tokens_m < MILLI)
			v = STLS_SRCLIM_RATE;
		else
			e->tokens_m -= MILLI;
	}
	if (v == STLS_SRCLIM_OK)
		e->conns++;
	pthread_mutex_unlock(&s->mu);
	return v;
}

void stls_srclim_release(struct stls_srclim *t, const struct stls_addr *a)
{
	struct shard *s;
	struct src **pp = find(t, a, &s);

	if (*pp && (*pp)->conns)
		(*pp)->conns--;
	pthread_mutex_unlock(&s->mu);
}

size_t stls_srclim_sources(struct stls_srclim *t)
{
	size_t i, n = 0;

	for (i = 0; i < SHARDS; i++) {
		pthread_mutex_lock(&t->s[i].mu);
		n += t->s[i].n;
		pthread_mutex_unlock(&t->s[i].mu);
	}
	return n;
}
