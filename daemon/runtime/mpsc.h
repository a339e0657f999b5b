/*
 * Lock-free multi-producer, single-consumer queue of struct stls_msg.
 *
 * Producers push with one compare-and-swap on the head (a Treiber stack);
 * the consumer takes the whole stack with one exchange and reverses it, so
 * messages from one producer come out in the order they were pushed. No
 * lock, no allocation. The worker drains its queue when its wake eventfd
 * fires.
 */
#ifndef STLSD_MPSC_H
#define STLSD_MPSC_H

#include <stdatomic.h>

#include "runtime/daemon.h"

struct stls_mpsc {
	_Atomic(struct stls_msg *) head;
};

/* Any thread. Takes m. Returns true when the queue was empty before (the
 * caller should wake the consumer; waking anyway is harmless). */
bool stls_mpsc_push(struct stls_mpsc *q, struct stls_msg *m);

/* Consumer only: every queued message, oldest first (NULL if none). The
 * caller owns the returned list (linked by ->next). */
struct stls_msg *stls_mpsc_take(struct stls_mpsc *q);

#endif
