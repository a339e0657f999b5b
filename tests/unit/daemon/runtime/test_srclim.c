/*
 * Unit tests for daemon/runtime/srclim.c: open connections and the token
 * bucket per source, IPv6 /64 grouping, idle entries swept, and several
 * threads on one table.
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include <pthread.h>
#include <sys/socket.h>

#include "runtime/srclim.h"

static struct stls_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct stls_addr x = { .family = AF_INET, .port = 5061 };

	x.ip[0] = a;
	x.ip[1] = b;
	x.ip[2] = c;
	x.ip[3] = d;
	return x;
}

static struct stls_addr v6(uint8_t byte8, uint8_t last)
{
	struct stls_addr x = { .family = AF_INET6, .port = 5061 };

	x.ip[0] = 0x20;
	x.ip[1] = 0x01;
	x.ip[2] = 0x0d;
	x.ip[3] = 0xb8;
	x.ip[7] = byte8; /* inside the /64 */
	x.ip[15] = last; /* the host part */
	return x;
}

TEST(srclim_off_is_null)
{
	int err;

	CHECK_NULL(stls_srclim_new(0, 0, &err));
	CHECK_EQ(err, 0);
}

TEST(srclim_open_connections)
{
	int err;
	struct stls_srclim *t = stls_srclim_new(2, 0, &err);
	struct stls_addr a = v4(127, 0, 0, 2), b = v4(127, 0, 0, 3);

	CHECK_NOT_NULL(t);
	CHECK_EQ(stls_srclim_admit(t, &a, 1000), STLS_SRCLIM_OK);
	CHECK_EQ(stls_srclim_admit(t, &a, 1000), STLS_SRCLIM_OK);
	CHECK_EQ(stls_srclim_admit(t, &a, 1000), STLS_SRCLIM_CONNS);
	/* Another source has its own count. */
	CHECK_EQ(stls_srclim_admit(t, &b, 1000), STLS_SRCLIM_OK);
	stls_srclim_release(t, &a);
	CHECK_EQ(stls_srclim_admit(t, &a, 1000), STLS_SRCLIM_OK);
	CHECK_EQ(stls_srclim_sources(t), 2);
	stls_srclim_free(t);
}

TEST(srclim_rate_bucket)
{
	int err, i;
	struct stls_srclim *t = stls_srclim_new(0, 10, &err);
	struct stls_addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);

	CHECK_NOT_NULL(t);
	/* A burst of one second's worth, then refused. */
	for (i = 0; i < 10; i++)
		CHECK_EQ(stls_srclim_admit(t, &a, 5000), STLS_SRCLIM_OK);
	CHECK_EQ(stls_srclim_admit(t, &a, 5000), STLS_SRCLIM_RATE);
	CHECK_EQ(stls_srclim_admit(t, &b, 5000), STLS_SRCLIM_OK);
	/* 100 ms later: one more token (10 a second). */
	CHECK_EQ(stls_srclim_admit(t, &a, 5099), STLS_SRCLIM_RATE);
	CHECK_EQ(stls_srclim_admit(t, &a, 5100), STLS_SRCLIM_OK);
	CHECK_EQ(stls_srclim_admit(t, &a, 5100), STLS_SRCLIM_RATE);
	/* Long after: a full bucket again, not more. */
	for (i = 0; i < 10; i++)
		CHECK_EQ(stls_srclim_admit(t, &a, 60000), STLS_SRCLIM_OK);
	CHECK_EQ(stls_srclim_admit(t, &a, 60000), STLS_SRCLIM_RATE);
	stls_srclim_free(t);
}

TEST(srclim_ipv6_counts_per_64)
{
	int err;
	struct stls_srclim *t = stls_srclim_new(1, 0, &err);
	struct stls_addr a1 = v6(0, 1), a2 = v6(0, 2), other = v6(1, 1);

	CHECK_EQ(stls_srclim_admit(t, &a1, 0), STLS_SRCLIM_OK);
	/* Same /64, another host: the same source. */
	CHECK_EQ(stls_srclim_admit(t, &a2, 0), STLS_SRCLIM_CONNS);
	CHECK_EQ(stls_srclim_admit(t, &other, 0), STLS_SRCLIM_OK);
	stls_srclim_release(t, &a2);
	CHECK_EQ(stls_srclim_admit(t, &a2, 0), STLS_SRCLIM_OK);
	stls_srclim_free(t);
}

TEST(srclim_idle_entries_swept)
{
	int err;
	unsigned i;
	struct stls_srclim *t = stls_srclim_new(4, 100, &err);
	struct stls_addr a;

	/* 20,000 sources come and go: the table does not keep them all. */
	for (i = 0; i < 20000; i++) {
		a = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		CHECK_EQ(stls_srclim_admit(t, &a, 1000 + i * 100),
			 STLS_SRCLIM_OK);
		stls_srclim_release(t, &a);
	}
	CHECK(stls_srclim_sources(t) < 20000 / 4);
	/* A source with a connection open is never swept. */
	a = v4(192, 0, 2, 1);
	CHECK_EQ(stls_srclim_admit(t, &a, 3000000), STLS_SRCLIM_OK);
	for (i = 0; i < 20000; i++) {
		struct stls_addr b = v4(11, (uint8_t)(i >> 16),
					(uint8_t)(i >> 8), (uint8_t)i);

		CHECK_EQ(stls_srclim_admit(t, &b, 4000000 + i * 100),
			 STLS_SRCLIM_OK);
		stls_srclim_release(t, &b);
	}
	CHECK_EQ(stls_srclim_admit(t, &a, 9000000), STLS_SRCLIM_OK);
	CHECK_EQ(stls_srclim_admit(t, &a, 9000000), STLS_SRCLIM_OK);
	CHECK_EQ(stls_srclim_admit(t, &a, 9000000), STLS_SRCLIM_OK);
	CHECK_EQ(stls_srclim_admit(t, &a, 9000000), STLS_SRCLIM_CONNS);
	stls_srclim_free(t);
}

struct thr {
	struct stls_srclim *t;
	unsigned base;
	unsigned ok;
};

static void *hammer(void *arg)
{
	struct thr *h = arg;
	unsigned i;

	for (i = 0; i < 5000; i++) {
		struct stls_addr a = v4(10, 9, (uint8_t)(i % 7), 1);

		if (stls_srclim_admit(h->t, &a, 1000) == STLS_SRCLIM_OK) {
			h->ok++;
			stls_srclim_release(h->t, &a);
		}
	}
	return NULL;
}

TEST(srclim_threads_share_one_table)
{
	int err, i;
	struct stls_srclim *t = stls_srclim_new(0, 50, &err);
	pthread_t th[4];
	struct thr h[4];
	unsigned ok = 0;

	for (i = 0; i < 4; i++) {
		h[i] = (struct thr){ .t = t, .base = (unsigned)i };
		CHECK_EQ(pthread_create(&th[i], NULL, hammer, &h[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok += h[i].ok;
	}
	/* 7 sources, one bucket of 50 each, no time passing: exactly. */
	CHECK_EQ(ok, 7 * 50);
	stls_srclim_free(t);
}

