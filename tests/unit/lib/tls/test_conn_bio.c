/*
 * Unit tests for lib/tls/conn_bio.c: the stash (enc_rd_buf), borrowed
 * spans and the custom BIO's read/write/retry behaviour.
 */
#include "test.h"

#include <errno.h>

#include "alloc_fail.h"
#include "tls/tls_int.h"

__attribute__((constructor)) static void install_alloc_fail(void)
{
	(void)af_install();
}

TEST(bio_reads_stash_then_span_and_retries_when_empty)
{
	struct stls_cio io = { 0 };
	BIO *b = stls__io_bio_new(&io);
	char buf[16];

	CHECK_NOT_NULL(b);
	CHECK(BIO_read(b, buf, sizeof(buf)) <= 0);
	CHECK(BIO_should_retry(b) && BIO_should_read(b));
	CHECK_OK(stls__io_stash(&io, "abc", 3));
	stls__io_borrow(&io, "defgh", 5);
	CHECK_EQ(stls__io_pending_in(&io), 8);
	CHECK_EQ(BIO_pending(b), 8);
	CHECK_EQ(BIO_read(b, buf, 4), 4);
	CHECK(memcmp(buf, "abcd", 4) == 0);
	CHECK_OK(stls__io_settle(&io)); /* "efgh" moves into the stash */
	CHECK_EQ(stls__io_pending_in(&io), 4);
	CHECK_EQ(BIO_read(b, buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "efgh", 4) == 0);
	CHECK_OK(stls__io_settle(&io));
	CHECK_NULL(io.rd); /* released when empty */
	BIO_free(b);
	stls__io_fini(&io);
}

TEST(bio_writes_append_to_out_queue)
{
	struct stls_cio io = { 0 };
	BIO *b = stls__io_bio_new(&io);
	size_t n;

	CHECK_EQ(BIO_write(b, "hello", 5), 5);
	CHECK_EQ(BIO_puts(b, " world"), 6);
	CHECK_EQ(BIO_wpending(b), 11);
	CHECK_EQ(BIO_flush(b), 1);
	CHECK(memcmp(stls__wq_peek(&io.out, &n), "hello world", 11) == 0);
	BIO_free(b);
	stls__io_fini(&io);
}

TEST(stash_is_bounded_and_compacts)
{
	struct stls_cio io = { 0 };
	static char big[STLS_IO_RD_MAX];
	BIO *b = stls__io_bio_new(&io);
	char buf[8];

	CHECK_OK(stls__io_stash(&io, big, sizeof(big)));
	CHECK_EQ(stls__io_stash(&io, "x", 1), -ENOBUFS);
	CHECK_EQ(BIO_read(b, buf, sizeof(buf)), 8);
	CHECK_OK(stls__io_stash(&io, "12345678", 8)); /* compacts */
	CHECK_EQ(stls__io_pending_in(&io), STLS_IO_RD_MAX);
	BIO_free(b);
	stls__io_fini(&io);
}

/*
 * A write whose block cannot be allocated is lost, so no later write may
 * go out: the peer could not read anything after the gap (a record's
 * sequence number would not match), not even an alert. Before the fix a
 * later write after the failed one was appended.
 */
TEST(no_write_after_a_lost_one)
{
	static char big[STLS_IO_OUT_BLK + 10];
	struct stls_cio io = { 0 };
	BIO *b = stls__io_bio_new(&io);
	size_t n;

	CHECK(af_installed);
	CHECK_NOT_NULL(b);
	CHECK_EQ(BIO_write(b, "first", 5), 5);
	af_arm(1); /* the next block */
	CHECK(BIO_write(b, big, sizeof(big)) <= 0);
	af_disarm();
	CHECK(af_failed());
	CHECK(io.out_failed);
	CHECK(BIO_write(b, "alert", 5) <= 0);
	CHECK_EQ(io.out.total, 5);
	CHECK(memcmp(stls__wq_peek(&io.out, &n), "first", 5) == 0);
	BIO_free(b);
	stls__io_fini(&io);
}
