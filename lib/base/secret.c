/*
 * The first line of a secret file (stls/secret.h). At most len bytes of
 * the file are read into the caller's buffer: a first line that fills
 * all of them is too long (the buffer keeps a byte for its NUL).
 */
#include "stls/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads up to n bytes; returns the count or -errno. */
static ssize_t read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			return -errno;
		}
		if (r == 0) {
			break;
		}
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static size_t line_len(const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			break;
		}
	}
	return i;
}

/* Wipes buf and returns rc (the caller has written why). */
static int wipe_fail(int rc, char *buf, size_t len)
{
	explicit_bzero(buf, len);
	return rc;
}

int stls_secret_read(const char *path, char *buf, size_t len,
		     unsigned *mode, char *why, size_t why_len)
{
	struct stat st;
	ssize_t n;
	size_t k;
	int fd, rc;

	if (len < 2) {
		snprintf(why, why_len, "'%s': no room for a secret", path);
		return wipe_fail(-EINVAL, buf, len);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, why_len, "cannot read '%s': %s", path,
			 strerror(-rc));
		return wipe_fail(rc, buf, len);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, why_len, "'%s' is not a regular file", path);
		return wipe_fail(-EINVAL, buf, len);
	}
	n = read_full(fd, buf, len);
	close(fd);
	k = n < 0 ? 0 : line_len(buf, (size_t)n);
	if (k == len) {
		snprintf(why, why_len, "'%s': the first line is longer than "
			 "%zu bytes", path, len - 1);
		return wipe_fail(-E2BIG, buf, len);
	}
	if (n < 0) {
		snprintf(why, why_len, "cannot read '%s': %s", path,
			 strerror((int)-n));
		return wipe_fail((int)n, buf, len);
	}
	if (memchr(buf, '\0', k)) {
		snprintf(why, why_len, "'%s': the first line holds a NUL "
			 "byte", path);
		return wipe_fail(-EINVAL, buf, len);
	}
	explicit_bzero(buf + k, len - k);
	if (k == 0) {
		snprintf(why, why_len, "'%s': the first line is empty", path);
		return wipe_fail(-ENODATA, buf, len);
	}
	if (mode) {
		*mode = (unsigned)(st.st_mode & 07777);
	}
	return 0;
}
