/*
 * The handshake threads (see hsoff.h): per thread a lock-free queue and a
 * semaphore; <n> threads at a lower priority.
 */
#include "runtime/hsoff.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stls/log.h"

struct slot {
	struct stls_hsoff *h;
	struct stls_mpsc q;
	sem_t sem;            /* posted when q gets its first job */
	atomic_size_t waiting; /* jobs submitted here, not yet taken */
	pthread_t th;
};

struct stls_hsoff {
	atomic_bool stop;
	atomic_uint rr;
	atomic_bool warned;                 /* a priority or slice refusal logged */
	stls_hsoff_done_fn *done;
	void *arg;
	struct stls_hsoff_prio prio;
	unsigned n;                         /* slots made */
	unsigned started;                   /* threads running */
	struct slot *s;
};

#define JOB_OF(m) \
	((struct stls_hsoff_job *)((char *)(m) - \
				   offsetof(struct stls_hsoff_job, qm)))

/* sched_setattr()'s argument, its first version (48 bytes): glibc
 * before 2.41 has no wrapper, and <linux/sched/types.h> clashes with
 * <sched.h>. */
struct sched_attr_v0 {
	uint32_t size;
	uint32_t policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime;
	uint64_t deadline;
	uint64_t period;
};
_Static_assert(sizeof(struct sched_attr_v0) == 48,
	       "SCHED_ATTR_SIZE_VER0 is 48 bytes");

#define ATTR_RESET_ON_FORK 0x01 /* SCHED_FLAG_RESET_ON_FORK */

/* The calling thread's time slice, under the fair scheduler's EEVDF
 * (Linux 6.12 on: a fair-class sched_runtime is the slice; older kernels
 * ignore it). Only for SCHED_OTHER and SCHED_BATCH, whose policy and
 * nice value it keeps; a thread under a real-time policy or SCHED_IDLE
 * (inherited from the process) is left as it is. Returns 0 or an
 * errno. */
static int set_slice(unsigned us)
{
	struct sched_attr_v0 a;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int pol = sched_getscheduler(0);

	if (pol < 0)
		return errno;
	memset(&a, 0, sizeof(a));
	if (pol & SCHED_RESET_ON_FORK)
		a.flags = ATTR_RESET_ON_FORK;
	pol &= ~SCHED_RESET_ON_FORK;
	if (pol != SCHED_OTHER && pol != SCHED_BATCH)
		return 0;
	a.size = sizeof(a);
	a.policy = (uint32_t)pol;
	errno = 0;
	a.nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno)
		return errno;
	a.runtime = (uint64_t)us * 1000;
	return syscall(SYS_sched_setattr, tid, &a, 0) == 0 ? 0 : errno;
}

/* Lowers the calling thread's priority (only lowering: no privilege),
 * and sets its slice. A refusal is logged once, for all threads. */
static void lower_priority(struct stls_hsoff *h)
{
	const struct stls_hsoff_prio *p = &h->prio;
	struct sched_param sp;
	int err = 0;

	if (p->idle) {
		memset(&sp, 0, sizeof(sp));
		err = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	} else if (p->nice > 0 &&
		   setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
			       getpriority(PRIO_PROCESS, 0) + p->nice) != 0) {
		err = errno;
	}
	if (err) {
		if (!atomic_exchange(&h->warned, true))
			STLS_WARN("handshake threads: cannot lower their "
				  "priority (%s): they run at the workers' "
				  "priority", strerror(err));
		return;
	}
	if (p->slice_us && (err = set_slice(p->slice_us)) != 0 &&
	    !atomic_exchange(&h->warned, true))
		STLS_WARN("handshake threads: cannot set their time slice "
			  "(%s): they keep the kernel's", strerror(err));
}

/* Runs a batch taken from the slot's queue, oldest first. */
static void run_batch(struct slot *sl, struct stls_msg *m)
{
	struct stls_hsoff *h = sl->h;
	struct stls_msg *next;

	for (; m; m = next) {
		struct stls_hsoff_job *j = JOB_OF(m);

		next = m->next;
		atomic_fetch_sub_explicit(&sl->waiting, 1,
					  memory_order_relaxed);
		j->run(j);
		h->done(h->arg, j);
	}
}

static void *thread_main(void *arg)
{
	struct slot *sl = arg;
	struct stls_msg *m;
	char name[16];

	/* top -H and perf tell the threads apart by these names. */
	snprintf(name, sizeof(name), "stls-hs%u", (unsigned)(sl - sl->h->s));
	pthread_setname_np(pthread_self(), name);
	lower_priority(sl->h);
	for (;;) {
		m = stls_mpsc_take(&sl->q);
		if (m) {
			run_batch(sl, m);
			continue;
		}
		/* Stopping drains the queue first: every job comes back. */
		if (atomic_load(&sl->h->stop))
			return NULL;
		while (sem_wait(&sl->sem) != 0 && errno == EINTR)
			;
	}
}

static void stop_join(struct stls_hsoff *h)
{
	unsigned i;

	atomic_store(&h->stop, true);
	for (i = 0; i < h->started; i++)
		sem_post(&h->s[i].sem);
	for (i = 0; i < h->started; i++)
		pthread_join(h->s[i].th, NULL);
	h->started = 0;
}

int stls_hsoff_new(unsigned threads, const struct stls_hsoff_prio *prio,
		   stls_hsoff_done_fn *done, void *arg,
		   struct stls_hsoff **out)
{
	struct stls_hsoff *h;
	unsigned i;

	if (threads < 1 || !done || !prio || prio->nice < 0 ||
	    prio->nice > 19 ||
	    (prio->slice_us && (prio->slice_us < STLS_HSOFF_SLICE_MIN ||
				prio->slice_us > STLS_HSOFF_SLICE_MAX)))
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->s = calloc(threads, sizeof(*h->s));
	if (!h->s) {
		free(h);
		return -ENOMEM;
	}
	h->done = done;
	h->arg = arg;
	h->prio = *prio;
	for (i = 0; i < threads; i++) {
		h->s[i].h = h;
		if (sem_init(&h->s[i].sem, 0, 0) != 0) {
			stls_hsoff_free(h);
			return -ENOMEM;
		}
		h->n++;
	}
	for (i = 0; i < threads; i++) {
		if (pthread_create(&h->s[i].th, NULL, thread_main,
				   &h->s[i]) != 0) {
			stls_hsoff_free(h);
			return -EAGAIN;
		}
		h->started++;
	}
	*out = h;
	return 0;
}

/* The slot with the fewest jobs waiting; among equals, the next in turn. */
static struct slot *pick(struct stls_hsoff *h)
{
	unsigned first = atomic_fetch_add_explicit(&h->rr, 1,
						   memory_order_relaxed);
	struct slot *best = &h->s[first % h->n];
	size_t least = atomic_load_explicit(&best->waiting,
					    memory_order_relaxed);
	unsigned i;

	for (i = 1; i < h->n && least; i++) {
		struct slot *sl = &h->s[(first + i) % h->n];
		size_t w = atomic_load_explicit(&sl->waiting,
						memory_order_relaxed);

		if (w < least) {
			best = sl;
			least = w;
		}
	}
	return best;
}

void stls_hsoff_submit(struct stls_hsoff *h, struct stls_hsoff_job *j)
{
	struct slot *sl = pick(h);

	atomic_fetch_add_explicit(&sl->waiting, 1, memory_order_relaxed);
	if (stls_mpsc_push(&sl->q, &j->qm))
		sem_post(&sl->sem);
}

size_t stls_hsoff_queued(const struct stls_hsoff *h)
{
	size_t n = 0;
	unsigned i;

	/* Summed per thread (a gauge: the sum need not be a snapshot). */
	for (i = 0; h && i < h->n; i++)
		n += atomic_load_explicit(&h->s[i].waiting,
					  memory_order_relaxed);
	return n;
}

unsigned stls_hsoff_threads(const struct stls_hsoff *h)
{
	return h ? h->started : 0;
}

void stls_hsoff_free(struct stls_hsoff *h)
{
	unsigned i;

	if (!h)
		return;
	stop_join(h);
	for (i = 0; i < h->n; i++)
		sem_destroy(&h->s[i].sem);
	free(h->s);
	free(h);
}
