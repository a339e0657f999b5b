/*
 * The handshake threads ([core] handshake_threads): a small pool that runs
 * jobs handed over by the workers at a lower CPU priority than theirs, and
 * hands each job back when it is done.
 *
 * The workers keep every socket and all established traffic; what they
 * hand over is CPU work (a TLS handshake step: the engine over a
 * ClientHello on memory BIOs, see hsstep.c) and the write of its output. Each pool thread lowers its
 * own priority when it starts: nice <nice> (setpriority() on its thread
 * id), or SCHED_IDLE with <idle>; only lowering, which needs no
 * privilege. A refusal is logged once and the thread runs at the
 * process's priority.
 *
 * Each thread has its own lock-free queue (runtime/mpsc.h) and a
 * semaphore to sleep on: a submission goes to the thread with the fewest
 * jobs waiting (round robin among equals), in one compare-and-swap, and
 * posts the semaphore when that queue was empty. No lock is shared with
 * the workers: with one (the first version had a mutex), a handshake
 * thread preempted while holding it, at its low priority, held up the
 * worker that submitted next. A thread runs its jobs in the order they
 * were submitted; jobs on different threads have no order. After run(),
 * the pool calls done() (given at creation) on the same pool thread;
 * done() is where the job goes back to its worker (stls_daemon_post()).
 * The pool never frees a job.
 *
 * Threads: stls_hsoff_submit() and stls_hsoff_queued() from any thread;
 * new/free from the thread that owns the daemon.
 */
#ifndef STLSD_HSOFF_H
#define STLSD_HSOFF_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/mpsc.h"
#include "stls/common.h"

struct stls_hsoff;

struct stls_hsoff_job {
	/* Runs on a pool thread: the job's work. */
	void (*run)(struct stls_hsoff_job *j);
	struct stls_msg qm; /* owned by the pool while queued */
};

/* Called on the pool thread right after run(). */
typedef void stls_hsoff_done_fn(void *arg, struct stls_hsoff_job *j);

/*
 * Starts <threads> (>= 1) threads at nice <nice> (0..19), or SCHED_IDLE
 * when <idle>. Returns 0 with *out, or -errno (-EAGAIN: a thread could
 * not be created; the others are stopped again).
 */
STLS_MUST_USE int stls_hsoff_new(unsigned threads, int nice, bool idle,
				 stls_hsoff_done_fn *done, void *arg,
				 struct stls_hsoff **out);

/* Queues j (any thread). Takes nothing: j stays the submitter's, and is
 * handed back through done(). */
void stls_hsoff_submit(struct stls_hsoff *h, struct stls_hsoff_job *j);

/* Jobs submitted and not yet taken by a thread (a gauge; any thread). */
size_t stls_hsoff_queued(const struct stls_hsoff *h);

/* Threads running. */
unsigned stls_hsoff_threads(const struct stls_hsoff *h);

/*
 * Runs what is queued, then stops and joins the threads and frees the
 * pool. Submitting after this starts is a bug. NULL is fine.
 */
void stls_hsoff_free(struct stls_hsoff *h);

#endif
