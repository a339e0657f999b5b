/*
 * The refresh thread (refresh.h): one thread, a condition variable with
 * CLOCK_MONOTONIC timeouts, rounds of stls_revoc_refresh() (wall clock
 * times, as revocation data has).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "stls/log.h"
#include "tlsx/refresh.h"

struct stls_refresher {
	struct stls_revoc_opts opts;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, kicked;
	uint64_t rounds;
};

static void *run(void *arg)
{
	struct stls_refresher *r = arg;
	struct timespec ts;
	time_t next = 0, now;

	pthread_setname_np(pthread_self(), "stls-refresh");
	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		now = time(NULL);
		if (!r->kicked && next > now) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += next - now;
			(void)pthread_cond_timedwait(&r->cond, &r->lock, &ts);
			continue;
		}
		r->kicked = false;
		pthread_mutex_unlock(&r->lock);
		next = stls_revoc_refresh(&r->opts, time(NULL));
		pthread_mutex_lock(&r->lock);
		r->rounds++;
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int stls_refresher_start(const struct stls_revoc_opts *o,
			 struct stls_refresher **out)
{
	struct stls_refresher *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;
	int err;

	if (!r)
		return -ENOMEM;
	r->opts = *o;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	r->kicked = true;
	err = pthread_create(&r->thread, NULL, run, r);
	if (err) {
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return -err;
	}
	*out = r;
	return 0;
}

void stls_refresher_kick(struct stls_refresher *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->kicked = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

uint64_t stls_refresher_rounds(struct stls_refresher *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->lock);
	n = r->rounds;
	pthread_mutex_unlock(&r->lock);
	return n;
}

void stls_refresher_stop(struct stls_refresher *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
