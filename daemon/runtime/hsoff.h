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
 * privilege. With <slice_us>, it also sets its own time slice
 * (sched_setattr()'s sched_runtime, Linux 6.12 on; older kernels ignore
 * it). Under EEVDF a task's slice sets its virtual deadline (a longer
 * slice, a later one), and a task that wakes with a shorter slice than
 * the running one may preempt it at once: a long slice (the default,
 * 100 ms) lets a waking worker, backend or any other task with the
 * kernel's slice (0.7 to 3 ms) take the CPU from a handshake thread
 * without waiting out the thread's own; two handshake threads on one
 * CPU then take turns of up to the slice. A short one does the
 * opposite. Only a SCHED_OTHER or SCHED_BATCH thread sets it, keeping
 * its policy. A refusal is logged once and the thread runs at the
 * process's priority (or with the kernel's slice).
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

/* How the threads lower themselves. */
struct stls_hsoff_prio {
	int nice;          /* 0..19, above the process's */
	bool idle;         /* SCHED_IDLE instead of nice and slice */
	unsigned slice_us; /* µs, 0: the kernel's; else SLICE_MIN..SLICE_MAX */
};

/* The kernel's bounds for a fair-class slice (100 µs to 100 ms). */
#define STLS_HSOFF_SLICE_MIN 100
#define STLS_HSOFF_SLICE_MAX 100000

/*
 * Starts <threads> (>= 1) threads that lower themselves as <prio> says.
 * Returns 0 with *out, or -errno (-EINVAL: a value out of range;
 * -EAGAIN: a thread could not be created; the others are stopped
 * again).
 */
STLS_MUST_USE int stls_hsoff_new(unsigned threads,
				 const struct stls_hsoff_prio *prio,
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
