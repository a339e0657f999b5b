/*
 * A toy stream transform for tests of the transform slot (stands in for
 * the TLS engine, with the same shape: a handshake, then encoded data).
 *
 * Server role (inbound): waits for "HELLO\n", answers "WELCOME\n", then is
 * established. Client role (outbound): sends "HELLO\n" first, established
 * on "WELCOME\n". Once established, decoding is the identity and encoding
 * swaps letter case (XOR 0x20), so a test sees that output went through
 * it. Writes before the handshake are held back. "BYE\n" in the input
 * reports CLOSED; "FAIL" reports FAILED; shutdown() emits "BYE\n".
 */
#ifndef STLS_TEST_XFORM_H
#define STLS_TEST_XFORM_H

#include <ctype.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/dconn.h"

struct txbuf {
	uint8_t *p;
	size_t n;
};

struct tx {
	bool server;
	bool established;
	struct txbuf hs;    /* handshake bytes seen so far */
	struct txbuf plain; /* decoded, for read() */
	struct txbuf held;  /* written before the handshake */
	struct txbuf wire;  /* for peek() */
};

static inline void txbuf_add(struct txbuf *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->n + n + 1);
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static inline void txbuf_drop(struct txbuf *b, size_t n)
{
	memmove(b->p, b->p + n, b->n - n);
	b->n -= n;
}

/* One allocation per call (a byte at a time made a 40 KB write cost
 * seconds under ASan). */
static inline void tx_encode(struct tx *t, const uint8_t *p, size_t n)
{
	size_t i, at = t->wire.n;

	if (n == 0)
		return;
	txbuf_add(&t->wire, p, n);
	for (i = 0; i < n; i++) {
		if (isalpha(p[i]))
			t->wire.p[at + i] ^= 0x20;
	}
}

static inline enum stls_io tx_feed(void *x, const uint8_t *p, size_t n)
{
	struct tx *t = x;
	const char *want = t->server ? "HELLO\n" : "WELCOME\n";
	char *end;

	if (memmem(p, n, "FAIL", 4))
		return STLS_IO_FAILED;
	if (t->established) {
		txbuf_add(&t->plain, p, n);
	} else {
		txbuf_add(&t->hs, p, n);
		t->hs.p[t->hs.n] = 0;
		end = strstr((char *)t->hs.p, want);
		if (!end)
			return STLS_IO_WANT_INPUT;
		end += strlen(want);
		t->established = true;
		if (t->server)
			txbuf_add(&t->wire, "WELCOME\n", 8);
		txbuf_add(&t->plain, end,
			  t->hs.n - (size_t)((uint8_t *)end - t->hs.p));
		tx_encode(t, t->held.p, t->held.n);
		t->held.n = 0;
	}
	if (t->plain.n >= 4 && memmem(t->plain.p, t->plain.n, "BYE\n", 4))
		return STLS_IO_CLOSED;
	return STLS_IO_DONE;
}

static inline ssize_t tx_read(void *x, uint8_t *buf, size_t cap)
{
	struct tx *t = x;
	size_t n = t->plain.n < cap ? t->plain.n : cap;

	if (n == 0)
		return 0;
	memcpy(buf, t->plain.p, n);
	txbuf_drop(&t->plain, n);
	return (ssize_t)n;
}

/* Calls of tx_write(), for tests of output coalescing. */
static _Atomic unsigned tx_writes;

static inline int tx_write(void *x, const uint8_t *p, size_t n)
{
	struct tx *t = x;

	atomic_fetch_add(&tx_writes, 1);
	if (!t->established)
		txbuf_add(&t->held, p, n);
	else
		tx_encode(t, p, n);
	return 0;
}

static inline size_t tx_peek(void *x, const uint8_t **p)
{
	struct tx *t = x;

	*p = t->wire.p;
	return t->wire.n;
}

static inline void tx_consume(void *x, size_t n)
{
	txbuf_drop(&((struct tx *)x)->wire, n);
}

static inline bool tx_established(void *x)
{
	return ((struct tx *)x)->established;
}

static inline void tx_shutdown(void *x)
{
	txbuf_add(&((struct tx *)x)->wire, "BYE\n", 4);
}

static inline void tx_free(void *x)
{
	struct tx *t = x;

	free(t->hs.p);
	free(t->plain.p);
	free(t->held.p);
	free(t->wire.p);
	free(t);
}

static const struct stls_xform_ops tx_ops = {
	"toy",	  tx_feed,	  tx_read,     tx_write, tx_peek,
	tx_consume, tx_established, tx_shutdown, tx_free,
};

static inline int tx_new(void *arg, struct stls_dconn *c,
			 struct stls_xform *out)
{
	struct tx *t = calloc(1, sizeof(*t));

	(void)arg;
	t->server = c->kind == STLS_DCONN_INBOUND;
	if (!t->server)
		txbuf_add(&t->wire, "HELLO\n", 6);
	out->ops = &tx_ops;
	out->x = t;
	return 0;
}

#endif
