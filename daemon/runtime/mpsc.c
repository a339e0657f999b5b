/*
 * Lock-free MPSC queue (see mpsc.h).
 */
#include "runtime/mpsc.h"

bool stls_mpsc_push(struct stls_mpsc *q, struct stls_msg *m)
{
	struct stls_msg *old = atomic_load_explicit(&q->head,
						    memory_order_relaxed);

	do {
		m->next = old;
	} while (!atomic_compare_exchange_weak_explicit(
		&q->head, &old, m, memory_order_release, memory_order_relaxed));
	return old == NULL;
}

struct stls_msg *stls_mpsc_take(struct stls_mpsc *q)
{
	struct stls_msg *m, *next, *fifo = NULL;

	m = atomic_exchange_explicit(&q->head, NULL, memory_order_acquire);
	/* The stack is newest first: reverse it. */
	for (; m; m = next) {
		next = m->next;
		m->next = fifo;
		fifo = m;
	}
	return fifo;
}
