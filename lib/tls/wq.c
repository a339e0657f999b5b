/*
 * Write queues (see tls/tls_int.h): the chunk list that holds ciphertext
 * waiting for the socket, and the clear-text write queue that holds
 * plaintext written while TLS cannot encrypt it yet (handshake not done,
 * TLS <= 1.2 renegotiation, or earlier data still queued).
 *
 * The clear-text queue follows the seed's con_ct_wq_max (per connection),
 * ct_wq_max (whole process) and ct_wq_blk_size (minimum block size). The
 * process-wide total is one atomic counter, reserved before copying so that
 * two threads can never both pass the limit.
 *
 * Blocks come from OpenSSL's allocator (OPENSSL_malloc), as every
 * allocation of the engine does, so that one allocator hook reaches them
 * all (the tests inject allocation failures through it).
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static size_t ct_total; /* atomic: bytes in every clear-text queue */

static struct stls_wq_blk *blk_new(size_t cap)
{
	struct stls_wq_blk *b = OPENSSL_malloc(sizeof(*b) + cap);

	if (!b) {
		return NULL;
	}
	b->next = NULL;
	b->cap = cap;
	b->rpos = 0;
	b->wpos = 0;
	return b;
}

/*
 * Append a copy of data[0..len) to q. Accepts len 0 (no-op). The tail block
 * is filled first; at most one new block is allocated, so a failure leaves
 * the queue exactly as it was. Returns 0 or -ENOMEM. Thread: owner only.
 */
int stls__wq_push(struct stls_wq *q, const void *data, size_t len,
		  size_t blk_size)
{
	const unsigned char *p = data;
	struct stls_wq_blk *t = q->tail;
	size_t room = t ? t->cap - t->wpos : 0;
	size_t first = len < room ? len : room;
	struct stls_wq_blk *nb = NULL;

	if (len == 0) {
		return 0;
	}
	if (len > first) {
		size_t rest = len - first;

		nb = blk_new(rest > blk_size ? rest : blk_size);
		if (!nb) {
			return -ENOMEM;
		}
	}
	if (first) {
		memcpy(t->data + t->wpos, p, first);
		t->wpos += first;
	}
	if (nb) {
		memcpy(nb->data, p + first, len - first);
		nb->wpos = len - first;
		if (t) {
			t->next = nb;
		} else {
			q->head = nb;
		}
		q->tail = nb;
	}
	q->total += len;
	return 0;
}

/*
 * Room for need contiguous bytes at the tail of q; a new block of
 * max(need, blk_size) bytes is linked when the tail has less. Nothing is
 * visible until stls__wq_commit(); a block left empty is reused by the
 * next append. Returns NULL on allocation failure. Thread: owner.
 */
unsigned char *stls__wq_wspan(struct stls_wq *q, size_t need,
			      size_t blk_size)
{
	struct stls_wq_blk *t = q->tail, *nb;

	if (t && t->cap - t->wpos >= need) {
		return t->data + t->wpos;
	}
	nb = blk_new(need > blk_size ? need : blk_size);
	if (!nb) {
		return NULL;
	}
	if (t) {
		t->next = nb;
	} else {
		q->head = nb;
	}
	q->tail = nb;
	return nb->data;
}

/* Make n bytes written at the last stls__wq_wspan() visible. */
void stls__wq_commit(struct stls_wq *q, size_t n)
{
	q->tail->wpos += n;
	q->total += n;
}

/* First contiguous span of q, or NULL with *len = 0. Thread: owner. */
const void *stls__wq_peek(const struct stls_wq *q, size_t *len)
{
	/* total == 0: at most an empty tail block left by stls__wq_wspan(). */
	if (!q->head || q->total == 0) {
		*len = 0;
		return NULL;
	}
	*len = q->head->wpos - q->head->rpos;
	return q->head->data + q->head->rpos;
}

/* Drop n bytes (clamped to the total) from the front, freeing emptied
 * blocks. Thread: owner. */
void stls__wq_consume(struct stls_wq *q, size_t n)
{
	if (n > q->total) {
		n = q->total;
	}
	q->total -= n;
	while (n && q->head) {
		struct stls_wq_blk *b = q->head;
		size_t avail = b->wpos - b->rpos;
		size_t k = n < avail ? n : avail;

		b->rpos += k;
		n -= k;
		if (b->rpos == b->wpos) {
			q->head = b->next;
			if (!q->head) {
				q->tail = NULL;
			}
			OPENSSL_free(b);
		}
	}
}

/* Free every block (q stays usable). Thread: owner. */
void stls__wq_fini(struct stls_wq *q)
{
	struct stls_wq_blk *b = q->head;

	while (b) {
		struct stls_wq_blk *next = b->next;

		OPENSSL_free(b);
		b = next;
	}
	q->head = NULL;
	q->tail = NULL;
	q->total = 0;
}

/*
 * Queue clear text under both limits. The global counter is reserved first
 * (compare-and-swap) and given back if the copy fails. Returns 0, -ENOBUFS
 * or -ENOMEM; on error nothing was appended and earlier bytes stay queued.
 * Thread: owner of q; the counter is shared by all threads.
 */
int stls__ctq_push(struct stls_wq *q, const void *data, size_t len,
		   size_t con_max, size_t glob_max, size_t blk_size)
{
	size_t cur;
	int err;

	if (len > con_max || q->total > con_max - len) {
		return -ENOBUFS;
	}
	cur = __atomic_load_n(&ct_total, __ATOMIC_RELAXED);
	do {
		if (len > glob_max || cur > glob_max - len) {
			return -ENOBUFS;
		}
	} while (!__atomic_compare_exchange_n(&ct_total, &cur, cur + len, true,
					      __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	err = stls__wq_push(q, data, len, blk_size);
	if (err) {
		__atomic_sub_fetch(&ct_total, len, __ATOMIC_RELAXED);
	}
	return err;
}

/* Consume n flushed bytes and give them back to the global total. */
void stls__ctq_consume(struct stls_wq *q, size_t n)
{
	if (n > q->total) {
		n = q->total;
	}
	stls__wq_consume(q, n);
	__atomic_sub_fetch(&ct_total, n, __ATOMIC_RELAXED);
}

/* Drop the whole queue (connection freed) and its share of the total. */
void stls__ctq_fini(struct stls_wq *q)
{
	__atomic_sub_fetch(&ct_total, q->total, __ATOMIC_RELAXED);
	stls__wq_fini(q);
}

/* Bytes queued in every clear-text queue of the process. Any thread. */
size_t stls__ctq_total(void)
{
	return __atomic_load_n(&ct_total, __ATOMIC_RELAXED);
}
