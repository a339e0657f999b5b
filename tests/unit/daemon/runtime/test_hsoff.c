/*
 * Unit tests for daemon/runtime/hsoff.c: the handshake threads run jobs
 * in order, on threads of their own, at the priority asked for, hand every
 * job back, and drain the queue when freed (run under TSan too).
 */
/* ctest-label: tsan (threads: also run under ThreadSanitizer) */
#include "test.h"

#include <errno.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/hsoff.h"

struct job {
	struct stls_hsoff_job j;
	int seq;
	int sleep_us;
	pid_t tid;           /* thread it ran on */
	int nice;            /* that thread's nice value */
	int policy;
	uint64_t slice_ns;   /* that thread's sched_runtime */
	atomic_bool done;
};

struct sink {
	atomic_int n;
	atomic_int order_ok; /* 1 while done() saw seq 0, 1, 2, ... */
	atomic_int next;
};

/* sched_getattr()'s first 48 bytes: its runtime is a fair-class
 * thread's slice (Linux 6.12 on). */
static uint64_t slice_of(pid_t tid)
{
	struct {
		uint32_t size, policy;
		uint64_t flags;
		int32_t nice;
		uint32_t priority;
		uint64_t runtime, deadline, period;
	} a;

	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, tid, &a, sizeof(a), 0) != 0)
		return 0;
	return a.runtime;
}

/* How the pool threads lower themselves. */
static const struct stls_hsoff_prio *prio(int nice, bool idle,
					  unsigned slice_us)
{
	static struct stls_hsoff_prio p;

	p.nice = nice;
	p.idle = idle;
	p.slice_us = slice_us;
	return &p;
}

static void run(struct stls_hsoff_job *jp)
{
	struct job *j = (struct job *)jp;
	struct sched_param sp;

	j->tid = (pid_t)syscall(SYS_gettid);
	j->nice = getpriority(PRIO_PROCESS, (id_t)j->tid);
	pthread_getschedparam(pthread_self(), &j->policy, &sp);
	j->slice_ns = slice_of(j->tid);
	if (j->sleep_us) {
		struct timespec ts = { 0, (long)j->sleep_us * 1000 };

		nanosleep(&ts, NULL);
	}
}

static void done(void *arg, struct stls_hsoff_job *jp)
{
	struct sink *s = arg;
	struct job *j = (struct job *)jp;

	if (atomic_fetch_add(&s->next, 1) != j->seq)
		atomic_store(&s->order_ok, 0);
	atomic_store(&j->done, true);
	atomic_fetch_add(&s->n, 1);
}

static void done_count(void *arg, struct stls_hsoff_job *jp);

static void wait_n(struct sink *s, int n)
{
	int i;

	for (i = 0; i < 5000 && atomic_load(&s->n) < n; i++)
		usleep(1000);
}

/* One thread: jobs run in submission order, on another thread, at the
 * process's nice value plus <nice>. */
TEST(hsoff_one_thread_in_order_at_nice)
{
	struct sink s = { 0, 1, 0 };
	struct stls_hsoff *h;
	struct job j[20];
	int base = getpriority(PRIO_PROCESS, 0), i;

	if (base > 12)
		test_skip("the test already runs at nice 13 or more");
	CHECK_OK(stls_hsoff_new(1, prio(7, false, 0), done, &s, &h));
	CHECK_EQ(stls_hsoff_threads(h), 1);
	memset(j, 0, sizeof(j));
	for (i = 0; i < 20; i++) {
		j[i].j.run = run;
		j[i].seq = i;
		stls_hsoff_submit(h, &j[i].j);
	}
	wait_n(&s, 20);
	CHECK_EQ(atomic_load(&s.n), 20);
	CHECK_EQ(atomic_load(&s.order_ok), 1);
	CHECK_EQ(stls_hsoff_queued(h), 0);
	for (i = 0; i < 20; i++) {
		CHECK_NE(j[i].tid, (pid_t)syscall(SYS_gettid));
		CHECK_EQ(j[i].nice, base + 7);
		CHECK_EQ(j[i].policy, SCHED_OTHER);
	}
	/* Lowering is per thread: the caller keeps its own. */
	CHECK_EQ(getpriority(PRIO_PROCESS, 0), base);
	stls_hsoff_free(h);
}

/* SCHED_IDLE on request; a slice asked for as well leaves it alone. */
TEST(hsoff_sched_idle)
{
	struct sink s = { 0, 1, 0 };
	struct stls_hsoff *h;
	struct job j;

	memset(&j, 0, sizeof(j));
	j.j.run = run;
	CHECK_OK(stls_hsoff_new(1, prio(0, true, 250), done, &s, &h));
	stls_hsoff_submit(h, &j.j);
	wait_n(&s, 1);
	CHECK(atomic_load(&j.done));
	CHECK_EQ(j.policy, SCHED_IDLE);
	stls_hsoff_free(h);
}

/* A slice on request: the thread shortens its own (where the kernel
 * keeps a fair-class slice, 6.12 on), and keeps its nice value. */
TEST(hsoff_slice)
{
	struct sink s = { 0, 1, 0 };
	struct stls_hsoff *h;
	struct job j;
	int base = getpriority(PRIO_PROCESS, 0);
	uint64_t mine = slice_of((pid_t)syscall(SYS_gettid));

	if (base > 16)
		test_skip("the test already runs at nice 17 or more");
	memset(&j, 0, sizeof(j));
	j.j.run = run;
	CHECK_OK(stls_hsoff_new(1, prio(3, false, 250), done, &s, &h));
	stls_hsoff_submit(h, &j.j);
	wait_n(&s, 1);
	CHECK(atomic_load(&j.done));
	CHECK_EQ(j.nice, base + 3);
	CHECK_EQ(j.policy, SCHED_OTHER);
	if (mine != 0) /* the kernel reports slices: it set this one */
		CHECK_EQ(j.slice_ns, (uint64_t)250000);
	/* Per thread: the caller keeps its own. */
	CHECK_EQ(slice_of((pid_t)syscall(SYS_gettid)), mine);
	stls_hsoff_free(h);
}

/* A thread that inherits SCHED_BATCH keeps it with its slice. */
TEST(hsoff_slice_keeps_batch)
{
	struct sink s = { 0, 1, 0 };
	struct sched_param sp = { 0 };
	struct stls_hsoff *h;
	struct job j;
	uint64_t mine = slice_of((pid_t)syscall(SYS_gettid));

	CHECK_EQ(pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp), 0);
	memset(&j, 0, sizeof(j));
	j.j.run = run;
	CHECK_OK(stls_hsoff_new(1, prio(0, false, 300), done, &s, &h));
	CHECK_EQ(pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp), 0);
	stls_hsoff_submit(h, &j.j);
	wait_n(&s, 1);
	CHECK(atomic_load(&j.done));
	CHECK_EQ(j.policy, SCHED_BATCH);
	if (mine != 0)
		CHECK_EQ(j.slice_ns, (uint64_t)300000);
	stls_hsoff_free(h);
}

/* Freeing runs what is queued first: every job comes back. The gauge
 * counts jobs not yet taken. */
TEST(hsoff_free_drains_the_queue)
{
	struct sink s = { 0, 1, 0 };
	struct stls_hsoff *h;
	struct job *j = calloc(200, sizeof(*j));
	int i;

	CHECK_NOT_NULL(j);
	CHECK_OK(stls_hsoff_new(1, prio(0, false, 0), done, &s, &h));
	for (i = 0; i < 200; i++) {
		j[i].j.run = run;
		j[i].seq = i;
		j[i].sleep_us = 200;
		stls_hsoff_submit(h, &j[i].j);
	}
	CHECK(stls_hsoff_queued(h) > 0);
	stls_hsoff_free(h);
	CHECK_EQ(atomic_load(&s.n), 200);
	for (i = 0; i < 200; i++)
		CHECK(atomic_load(&j[i].done));
	free(j);
}

/* A job that takes long on one thread does not hold up the next one:
 * it goes to the thread with nothing waiting, and runs while the first
 * is still busy. */
TEST(hsoff_busy_thread_passed_over)
{
	struct sink s = { 0, 1, 0 };
	struct stls_hsoff *h;
	struct job j[2];

	memset(j, 0, sizeof(j));
	j[0].j.run = run;
	j[0].sleep_us = 400 * 1000;
	j[1].j.run = run;
	CHECK_OK(stls_hsoff_new(2, prio(0, false, 0), done_count, &s, &h));
	stls_hsoff_submit(h, &j[0].j);
	usleep(20 * 1000); /* j[0] is taken and sleeping */
	stls_hsoff_submit(h, &j[1].j);
	wait_n(&s, 1);
	CHECK(atomic_load(&j[1].done));
	CHECK(!atomic_load(&j[0].done));
	CHECK_NE(j[0].tid, j[1].tid);
	stls_hsoff_free(h);
	CHECK(atomic_load(&j[0].done));
}

struct producer {
	struct stls_hsoff *h;
	struct job *j;
	int n;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	int i;

	for (i = 0; i < p->n; i++) {
		p->j[i].j.run = run;
		stls_hsoff_submit(p->h, &p->j[i].j);
	}
	return NULL;
}

static void done_count(void *arg, struct stls_hsoff_job *jp)
{
	struct sink *s = arg;

	atomic_store(&((struct job *)jp)->done, true);
	atomic_fetch_add(&s->n, 1);
}

/* Four producers, three threads: every job runs once and comes back. */
TEST(hsoff_many_producers_many_threads)
{
	struct sink s = { 0, 1, 0 };
	struct producer p[4];
	pthread_t th[4];
	struct stls_hsoff *h;
	struct job *j = calloc(4 * 500, sizeof(*j));
	int i;

	CHECK_NOT_NULL(j);
	CHECK_OK(stls_hsoff_new(3, prio(5, false, 0), done_count, &s, &h));
	for (i = 0; i < 4; i++) {
		p[i].h = h;
		p[i].j = j + i * 500;
		p[i].n = 500;
		CHECK_EQ(pthread_create(&th[i], NULL, produce, &p[i]), 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	wait_n(&s, 2000);
	CHECK_EQ(atomic_load(&s.n), 2000);
	for (i = 0; i < 2000; i++)
		CHECK(atomic_load(&j[i].done));
	stls_hsoff_free(h);
	free(j);
}

/* Bad arguments. */
TEST(hsoff_refuses_bad_arguments)
{
	struct stls_hsoff *h = NULL;
	struct sink s;

	CHECK_EQ(stls_hsoff_new(0, prio(0, false, 0), done, &s, &h), -EINVAL);
	CHECK_EQ(stls_hsoff_new(1, prio(20, false, 0), done, &s, &h), -EINVAL);
	CHECK_EQ(stls_hsoff_new(1, prio(0, false, 99), done, &s, &h), -EINVAL);
	CHECK_EQ(stls_hsoff_new(1, prio(0, false, 100001), done, &s, &h),
		 -EINVAL);
	CHECK_EQ(stls_hsoff_new(1, NULL, done, &s, &h), -EINVAL);
	CHECK_EQ(stls_hsoff_new(1, prio(0, false, 0), NULL, &s, &h), -EINVAL);
	CHECK_NULL(h);
	stls_hsoff_free(NULL);
	CHECK_EQ(stls_hsoff_queued(NULL), 0);
}
