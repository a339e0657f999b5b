/*
 * Unit tests for lib/base/secret.c: the first line of a secret file, and
 * every way a secret file can be wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "stls/secret.h"
#include "test.h"

static const char *put(const char *name, const char *data, size_t n,
		       mode_t mode)
{
	static char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", test_tmp_dir(), name);
	f = fopen(path, "wb");
	CHECK_NOT_NULL(f);
	CHECK_EQ(fwrite(data, 1, n, f), n);
	fclose(f);
	CHECK_OK(chmod(path, mode));
	return path;
}

static bool all_zero(const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (b[i]) {
			return false;
		}
	}
	return true;
}

TEST(first_line_without_its_line_end)
{
	char buf[64], why[256];
	unsigned mode = 0;

	CHECK_OK(stls_secret_read(put("a", "s3cret\nsecond\n", 14, 0600),
				  buf, sizeof(buf), &mode, why, sizeof(why)));
	CHECK_STR_EQ(buf, "s3cret");
	CHECK_EQ(mode, 0600u);
	/* What followed the line is not left in the buffer. */
	CHECK(all_zero(buf + 6, sizeof(buf) - 6));
	CHECK_OK(stls_secret_read(put("b", "pw with spaces\r\n", 16, 0640),
				  buf, sizeof(buf), &mode, why, sizeof(why)));
	CHECK_STR_EQ(buf, "pw with spaces");
	CHECK_EQ(mode, 0640u);
	CHECK_OK(stls_secret_read(put("c", "no-newline", 10, 0400), buf,
				  sizeof(buf), NULL, why, sizeof(why)));
	CHECK_STR_EQ(buf, "no-newline");
}

/* A line that exactly fills the buffer fits; one byte more does not and
 * is never cut silently. */
TEST(long_line_is_refused_not_cut)
{
	char buf[8], why[256];

	CHECK_OK(stls_secret_read(put("fit", "1234567\n", 8, 0600), buf,
				  sizeof(buf), NULL, why, sizeof(why)));
	CHECK_STR_EQ(buf, "1234567");
	CHECK_OK(stls_secret_read(put("fit2", "1234567", 7, 0600), buf,
				  sizeof(buf), NULL, why, sizeof(why)));
	CHECK_STR_EQ(buf, "1234567");
	CHECK_EQ(stls_secret_read(put("long", "12345678\n", 9, 0600), buf,
				  sizeof(buf), NULL, why, sizeof(why)),
		 -E2BIG);
	CHECK(all_zero(buf, sizeof(buf)));
	CHECK_STR_HAS(why, "the first line is longer than 7 bytes");
	CHECK(!strstr(why, "1234"));
	/* A NUL byte would cut the secret where C strings end: refused. */
	CHECK_EQ(stls_secret_read(put("nul", "12\0\x34\n", 5, 0600), buf,
				  sizeof(buf), NULL, why, sizeof(why)),
		 -EINVAL);
	CHECK(all_zero(buf, sizeof(buf)));
	CHECK_STR_HAS(why, "NUL byte");
}

TEST(empty_missing_and_not_regular)
{
	char buf[64], why[256];

	CHECK_EQ(stls_secret_read(put("e", "\nsecond\n", 8, 0600), buf,
				  sizeof(buf), NULL, why, sizeof(why)),
		 -ENODATA);
	CHECK_STR_HAS(why, "the first line is empty");
	CHECK(!strstr(why, "second"));
	CHECK_EQ(stls_secret_read(put("z", "", 0, 0600), buf, sizeof(buf),
				  NULL, why, sizeof(why)),
		 -ENODATA);
	CHECK_EQ(stls_secret_read("/nonexistent/pw", buf, sizeof(buf), NULL,
				  why, sizeof(why)),
		 -ENOENT);
	CHECK_STR_EQ(why, "cannot read '/nonexistent/pw': No such file or "
			  "directory");
	CHECK_EQ(stls_secret_read(test_tmp_dir(), buf, sizeof(buf), NULL, why,
				  sizeof(why)),
		 -EINVAL);
	CHECK_STR_HAS(why, "is not a regular file");
	CHECK_EQ(stls_secret_read("/dev/null", buf, sizeof(buf), NULL, why,
				  sizeof(why)),
		 -EINVAL);
	CHECK_EQ(stls_secret_read("/dev/null", buf, 1, NULL, why,
				  sizeof(why)),
		 -EINVAL);
}
