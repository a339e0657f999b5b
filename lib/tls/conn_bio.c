/*
 * How ciphertext moves between the caller and OpenSSL.
 *
 * One custom source/sink BIO per connection, over buffers we own:
 *   - reads come first from the stash (enc_rd_buf: ciphertext fed earlier
 *     and not processed yet), then from a span the caller lends for the
 *     duration of one call (stls_conn_feed_drain()). Bytes are copied once,
 *     into OpenSSL's record buffer; the stash is only filled with what is
 *     left over when the caller's plaintext buffer is full, or by the
 *     copying stls_conn_feed().
 *   - writes append to a block list (struct stls_wq) that the caller peeks
 *     and consumes; bytes never move once written, so the socket layer can
 *     write straight from it (zero copy).
 * With no input the BIO reports "retry read", which OpenSSL turns into
 * SSL_ERROR_WANT_READ. Writes always succeed (the list grows), so
 * SSL_ERROR_WANT_WRITE never happens. Both buffers are released as soon as
 * they are empty, so an idle connection holds none. Both come from
 * OpenSSL's allocator (OPENSSL_malloc), like every allocation of the
 * engine, so that one allocator hook reaches them all.
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>

static BIO_METHOD *io_method;
static pthread_once_t io_once = PTHREAD_ONCE_INIT;

static void stash_release(struct stls_cio *io)
{
	OPENSSL_free(io->rd);
	io->rd = NULL;
	io->rd_cap = 0;
	io->rd_off = 0;
	io->rd_len = 0;
}

/*
 * Append data to the stash, compacting or growing it. Refuses with -ENOBUFS
 * beyond STLS_IO_RD_MAX unprocessed bytes, -ENOMEM. Thread: owner.
 */
int stls__io_stash(struct stls_cio *io, const void *data, size_t len)
{
	size_t need;

	if (len == 0) {
		return 0;
	}
	if (len > STLS_IO_RD_MAX || io->rd_len > STLS_IO_RD_MAX - len) {
		return -ENOBUFS;
	}
	need = io->rd_len + len;
	if (io->rd && io->rd_off + need > io->rd_cap && need <= io->rd_cap) {
		memmove(io->rd, io->rd + io->rd_off, io->rd_len);
		io->rd_off = 0;
	}
	if (io->rd_off + need > io->rd_cap) {
		size_t cap = io->rd_cap ? io->rd_cap : 2048;
		unsigned char *p;

		while (cap < need) {
			cap *= 2;
		}
		if (io->rd_off) {
			memmove(io->rd, io->rd + io->rd_off, io->rd_len);
			io->rd_off = 0;
		}
		p = OPENSSL_realloc(io->rd, cap);
		if (!p) {
			return -ENOMEM;
		}
		io->rd = p;
		io->rd_cap = cap;
	}
	memcpy(io->rd + io->rd_off + io->rd_len, data, len);
	io->rd_len += len;
	return 0;
}

/* Lend data[0..len) for the current call; stls__io_settle() ends the loan. */
void stls__io_borrow(struct stls_cio *io, const void *data, size_t len)
{
	io->span = data;
	io->span_len = len;
}

/*
 * End of an engine call: keep what OpenSSL did not read from the borrowed
 * span (copied into the stash) and release an empty stash. Returns 0 or the
 * error of stls__io_stash() (the leftover is lost then).
 */
int stls__io_settle(struct stls_cio *io)
{
	int err = 0;

	if (io->span_len) {
		err = stls__io_stash(io, io->span, io->span_len);
	}
	io->span = NULL;
	io->span_len = 0;
	if (io->rd && io->rd_len == 0) {
		stash_release(io);
	}
	return err;
}

/* Ciphertext received and not yet read by OpenSSL. */
size_t stls__io_pending_in(const struct stls_cio *io)
{
	return io->rd_len + io->span_len;
}

/* Copy up to n unprocessed bytes (stash, then span) without consuming. */
size_t stls__io_copy(const struct stls_cio *io, void *dst, size_t n)
{
	unsigned char *d = dst;
	size_t a = n < io->rd_len ? n : io->rd_len, b;

	if (a) {
		memcpy(d, io->rd + io->rd_off, a);
	}
	b = n - a < io->span_len ? n - a : io->span_len;
	if (b) {
		memcpy(d + a, io->span, b);
	}
	return a + b;
}

/*
 * Point *p at the first n unprocessed bytes, contiguous: in the stash, or
 * in place in the span when the stash is empty, else after moving the
 * missing bytes from the span into the stash. The caller checked that n
 * bytes are there. Returns 0 or the error of stls__io_stash().
 */
int stls__io_front(struct stls_cio *io, size_t n, const unsigned char **p)
{
	size_t k;
	int err;

	if (io->rd_len == 0) {
		*p = io->span;
		return 0;
	}
	if (io->rd_len < n) {
		k = n - io->rd_len;
		err = stls__io_stash(io, io->span, k);
		if (err) {
			return err;
		}
		io->span += k;
		io->span_len -= k;
	}
	*p = io->rd + io->rd_off;
	return 0;
}

/* Drop n processed bytes: from the stash first, then from the span. */
void stls__io_skip(struct stls_cio *io, size_t n)
{
	size_t a = n < io->rd_len ? n : io->rd_len;

	io->rd_off += a;
	io->rd_len -= a;
	if (io->rd_len == 0) {
		io->rd_off = 0;
	}
	n -= a;
	if (n > io->span_len) {
		n = io->span_len;
	}
	io->span += n;
	io->span_len -= n;
}

/* Release both buffers. */
void stls__io_fini(struct stls_cio *io)
{
	stash_release(io);
	stls__wq_fini(&io->out);
	io->span = NULL;
	io->span_len = 0;
}

static int io_read(BIO *b, char *buf, size_t size, size_t *done)
{
	struct stls_cio *io = BIO_get_data(b);
	size_t n = 0;

	BIO_clear_retry_flags(b);
	if (io->rd_len) {
		n = size < io->rd_len ? size : io->rd_len;
		memcpy(buf, io->rd + io->rd_off, n);
		io->rd_off += n;
		io->rd_len -= n;
		if (io->rd_len == 0) {
			io->rd_off = 0;
		}
	}
	if (n < size && io->span_len) {
		size_t k = size - n < io->span_len ? size - n : io->span_len;

		memcpy(buf + n, io->span, k);
		io->span += k;
		io->span_len -= k;
		n += k;
	}
	if (n == 0) {
		/* No input: "would block", which OpenSSL reports as
		 * SSL_ERROR_WANT_READ. */
		BIO_set_retry_read(b);
		*done = 0;
		return 0;
	}
	*done = n;
	return 1;
}

static int io_write(BIO *b, const char *buf, size_t size, size_t *done)
{
	struct stls_cio *io = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (io->out_failed) {
		/* A record was lost: nothing after it could be read by the
		 * peer (its sequence number would not match), not even an
		 * alert, so nothing more goes out. */
		*done = 0;
		return 0;
	}
	if (io->count) {
		stls__rec13_count(io->count, buf, size);
	}
	if (stls__wq_push(&io->out, buf, size, STLS_IO_OUT_BLK) != 0) {
		/* Out of memory: fail hard rather than pretend to block,
		 * since nothing would ever unblock it. */
		io->out_failed = true;
		*done = 0;
		return 0;
	}
	*done = size;
	return 1;
}

static int io_puts(BIO *b, const char *str)
{
	size_t done = 0;

	if (!io_write(b, str, strlen(str), &done)) {
		return -1;
	}
	return (int)done;
}

static long io_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct stls_cio *io = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
	case BIO_CTRL_DUP:
		return 1;
	case BIO_CTRL_PENDING:
		return io ? (long)stls__io_pending_in(io) : 0;
	case BIO_CTRL_WPENDING:
		return io ? (long)io->out.total : 0;
	default:
		return 0;
	}
}

static int io_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void method_init(void)
{
	BIO_METHOD *m;

	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
			 "stls_conn");
	if (!m) {
		return;
	}
	if (!BIO_meth_set_read_ex(m, io_read) ||
	    !BIO_meth_set_write_ex(m, io_write) ||
	    !BIO_meth_set_puts(m, io_puts) || !BIO_meth_set_ctrl(m, io_ctrl) ||
	    !BIO_meth_set_create(m, io_create)) {
		BIO_meth_free(m);
		return;
	}
	/* Lives for the whole process, like OpenSSL's own methods. */
	io_method = m;
}

/*
 * A new BIO reading from and writing to io, which must outlive it. The BIO
 * does not own io. Returns NULL on allocation failure. Any thread.
 */
BIO *stls__io_bio_new(struct stls_cio *io)
{
	BIO *b;

	pthread_once(&io_once, method_init);
	if (!io_method) {
		return NULL;
	}
	b = BIO_new(io_method);
	if (b) {
		BIO_set_data(b, io);
	}
	return b;
}
