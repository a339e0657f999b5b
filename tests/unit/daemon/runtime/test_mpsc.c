/*
 * Unit tests for daemon/runtime/mpsc.c: order, and many producers at once (run
 * under TSan too).
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include <pthread.h>
#include <stdlib.h>

#include "runtime/mpsc.h"

struct item {
	struct stls_msg m;
	int producer;
	int seq;
};

TEST(mpsc_fifo_single_producer)
{
	struct stls_mpsc q = { NULL };
	struct item it[5];
	struct stls_msg *m;
	int i;

	CHECK_NULL(stls_mpsc_take(&q));
	for (i = 0; i < 5; i++) {
		it[i].seq = i;
		CHECK_EQ(stls_mpsc_push(&q, &it[i].m), i == 0);
	}
	m = stls_mpsc_take(&q);
	for (i = 0; i < 5; i++, m = m->next)
		CHECK_EQ(((struct item *)m)->seq, i);
	CHECK_NULL(m);
	CHECK_NULL(stls_mpsc_take(&q));
}

enum { PRODUCERS = 4, PER = 20000 };

static struct stls_mpsc shared_q;
static atomic_int done_producers;

static void *produce(void *arg)
{
	int p = (int)(intptr_t)arg, i;

	for (i = 0; i < PER; i++) {
		struct item *it = malloc(sizeof(*it));

		it->producer = p;
		it->seq = i;
		(void)stls_mpsc_push(&shared_q, &it->m);
	}
	atomic_fetch_add(&done_producers, 1);
	return NULL;
}

/* Every message arrives once, and each producer's in order. */
TEST(mpsc_many_producers)
{
	pthread_t t[PRODUCERS];
	int next[PRODUCERS] = { 0 }, got = 0, i;
	bool done = false;

	for (i = 0; i < PRODUCERS; i++)
		CHECK_OK(pthread_create(&t[i], NULL, produce,
					(void *)(intptr_t)i));
	while (!done) {
		struct stls_msg *m, *nx;

		done = atomic_load(&done_producers) == PRODUCERS;
		for (m = stls_mpsc_take(&shared_q); m; m = nx) {
			struct item *it = (struct item *)m;

			nx = m->next;
			CHECK_EQ(it->seq, next[it->producer]);
			next[it->producer]++;
			got++;
			free(it);
		}
	}
	for (i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(got, PRODUCERS * PER);
}
