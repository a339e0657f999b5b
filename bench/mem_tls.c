/* See mem_tls.h. */
#include "mem_tls.h"

#include <errno.h>

void bench_bio_move(BIO *from, BIO *to)
{
	char buf[16384];
	int n;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0) {
		BIO_write(to, buf, n);
	}
}

int bench_conn_feed(struct stls_conn *c, BIO *c2s, unsigned char *out,
		    size_t cap, size_t *got)
{
	char buf[16384];
	size_t n1, all = 0;
	int n;

	while ((n = BIO_read(c2s, buf, sizeof(buf))) > 0) {
		if (stls_conn_feed_drain(c, buf, (size_t)n, out, cap, &n1) ==
		    STLS_IO_FAILED) {
			return -EPROTO;
		}
		all += n1;
	}
	if (got) {
		*got = all;
	}
	return 0;
}

void bench_conn_flush(struct stls_conn *c, BIO *s2c)
{
	const void *p;
	size_t len;

	while ((p = stls_conn_peek(c, &len)) != NULL) {
		BIO_write(s2c, p, (int)len);
		stls_conn_consume(c, len);
	}
}
