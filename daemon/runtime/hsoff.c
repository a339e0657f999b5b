/*
 * The handshake threads (see hsoff.h): one mutex-protected FIFO, a
 * condition variable, <n> threads at a lower priority.
 */
#include "runtime/hsoff.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stls/log.h"

struct stls_hsoff {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct stls_hsoff_job *head, *tail; /* under lock */
	bool stop;                          /* under lock */
	atomic_size_t queued;
	atomic_bool warned;                 /* priority refusal logged */
	stls_hsoff_done_fn *done;
	void *arg;
	int nice;
	bool idle;
	unsigned n;                         /* threads started */
	pthread_t *th;
};

/* Lowers the calling thread's priority (only lowering: no privilege). */
static void lower_priority(struct stls_hsoff *h)
{
	struct sched_param sp;
	int err = 0;

	if (h->idle) {
		memset(&sp, 0, sizeof(sp));
		err = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	} else if (h->nice > 0 &&
		   setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
			       getpriority(PRIO_PROCESS, 0) + h->nice) != 0) {
		err = errno;
	}
	if (err && !atomic_exchange(&h->warned, true))
		STLS_WARN("handshake threads: cannot lower their priority "
			  "(%s): they run at the workers' priority",
			  strerror(err));
}

static struct stls_hsoff_job *take(struct stls_hsoff *h)
{
	struct stls_hsoff_job *j;

	pthread_mutex_lock(&h->lock);
	while (!h->head && !h->stop)
		pthread_cond_wait(&h->cond, &h->lock);
	j = h->head;
	if (j) {
		h->head = j->qnext;
		if (!h->head)
			h->tail = NULL;
		atomic_fetch_sub_explicit(&h->queued, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&h->lock);
	return j;
}

static void *thread_main(void *arg)
{
	struct stls_hsoff *h = arg;
	struct stls_hsoff_job *j;

	lower_priority(h);
	/* Stopping drains the queue first: every job comes back. */
	while ((j = take(h)) != NULL) {
		j->run(j);
		h->done(h->arg, j);
	}
	return NULL;
}

static void stop_join(struct stls_hsoff *h)
{
	unsigned i;

	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	for (i = 0; i < h->n; i++)
		pthread_join(h->th[i], NULL);
	h->n = 0;
}

int stls_hsoff_new(unsigned threads, int nice, bool idle,
		   stls_hsoff_done_fn *done, void *arg,
		   struct stls_hsoff **out)
{
	struct stls_hsoff *h;
	unsigned i;

	if (threads < 1 || !done || nice < 0 || nice > 19)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->th = calloc(threads, sizeof(*h->th));
	if (!h->th || pthread_mutex_init(&h->lock, NULL) != 0) {
		free(h->th);
		free(h);
		return -ENOMEM;
	}
	pthread_cond_init(&h->cond, NULL);
	h->done = done;
	h->arg = arg;
	h->nice = nice;
	h->idle = idle;
	for (i = 0; i < threads; i++) {
		if (pthread_create(&h->th[i], NULL, thread_main, h) != 0) {
			stls_hsoff_free(h);
			return -EAGAIN;
		}
		h->n++;
	}
	*out = h;
	return 0;
}

void stls_hsoff_submit(struct stls_hsoff *h, struct stls_hsoff_job *j)
{
	j->qnext = NULL;
	pthread_mutex_lock(&h->lock);
	if (h->tail)
		h->tail->qnext = j;
	else
		h->head = j;
	h->tail = j;
	atomic_fetch_add_explicit(&h->queued, 1, memory_order_relaxed);
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

size_t stls_hsoff_queued(const struct stls_hsoff *h)
{
	return h ? atomic_load_explicit(&h->queued, memory_order_relaxed) : 0;
}

unsigned stls_hsoff_threads(const struct stls_hsoff *h)
{
	return h ? h->n : 0;
}

void stls_hsoff_free(struct stls_hsoff *h)
{
	if (!h)
		return;
	stop_join(h);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h->th);
	free(h);
}
