/*
 * The operator's key log, for debugging only (docs/operations.md,
 * "Decrypting a capture").
 *
 * With [tls] keylog_file and keylog_enable = yes, every profile context
 * gets a key-log callback that appends each line OpenSSL hands it to the
 * file, in the SSLKEYLOGFILE format Wireshark reads ("CLIENT_RANDOM ...",
 * "CLIENT_HANDSHAKE_TRAFFIC_SECRET ..."). The two switches are on
 * purpose: a key log lets anyone who reads it decrypt every connection,
 * so a file name alone is refused, and a build that writes one warns each
 * time (at start and at every reload).
 *
 * The file is opened once per process, O_APPEND | O_CREAT | O_NOFOLLOW,
 * mode 0600 (an existing file with wider permissions is narrowed, with a
 * warning); a build that names another file opens that one, and the old
 * one is closed. Each line is one write(2) of at most a few hundred
 * bytes, which O_APPEND keeps whole when several workers log at once.
 * On a context prepared for the record hand-off the callback is chained
 * before the hand-off's own (stls_conn_ctx_set_keylog()).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stls/conn.h"
#include "stls/log.h"
#include "tls/profile_int.h"

static pthread_mutex_t kl_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int kl_fd = -1;
static char *kl_path; /* under kl_lock */

static void keylog_cb(const SSL *ssl, const char *line)
{
	char buf[512];
	size_t n = strlen(line);
	int fd = atomic_load_explicit(&kl_fd, memory_order_acquire);

	(void)ssl;
	if (fd < 0 || n + 1 > sizeof(buf)) {
		return;
	}
	memcpy(buf, line, n);
	buf[n++] = '\n';
	/* Best effort: a failed write loses one line of a debugging aid. */
	if (write(fd, buf, n) != (ssize_t)n) {
		STLS_DBG("keylog: write failed: %s", strerror(errno));
	}
}

/* Opens <path> for the log unless it is open already. Returns 0 or -errno
 * (what failed in *what). */
static int open_log(const char *path, bool *narrowed, const char **what)
{
	struct stat st;
	int fd, old;

	if (kl_path && strcmp(kl_path, path) == 0 &&
	    atomic_load(&kl_fd) >= 0) {
		return 0;
	}
	*what = "cannot open";
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		return -errno;
	}
	*what = "cannot check";
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int err = errno ? -errno : -EINVAL;

		*what = "not a regular file:";
		close(fd);
		return err;
	}
	if (st.st_mode & 077) {
		if (fchmod(fd, 0600) != 0) {
			int err = -errno;

			*what = "cannot restrict to mode 0600";
			close(fd);
			return err;
		}
		*narrowed = true;
	}
	free(kl_path);
	kl_path = strdup(path);
	old = atomic_exchange(&kl_fd, fd);
	/* Lines being written to the old file finish there: its descriptor
	 * is closed only after the swap, and a write in flight keeps the
	 * open file alive. */
	if (old >= 0) {
		close(old);
	}
	return 0;
}

int stls__keylog_prepare(const struct stls_settings *s,
			 struct stls_diag *diag, bool *on)
{
	const char *what = "";
	bool narrowed = false;
	int err;

	*on = false;
	if (!has_str(s->keylog_file)) {
		if (s->keylog_enable) {
			stls_diag_err(diag, NULL, 0, "keylog_enable: yes "
				      "needs keylog_file (the file to write)");
			return -EINVAL;
		}
		return 0;
	}
	if (!s->keylog_enable) {
		stls_diag_err(diag, NULL, 0, "keylog_file: refused: the key "
			      "log lets anyone who reads '%s' decrypt every "
			      "connection; set keylog_enable = yes as well "
			      "to write it (debugging only)", s->keylog_file);
		return -EPERM;
	}
	pthread_mutex_lock(&kl_lock);
	err = open_log(s->keylog_file, &narrowed, &what);
	pthread_mutex_unlock(&kl_lock);
	if (err) {
		stls_diag_err(diag, NULL, 0, "keylog_file: %s '%s': %s", what,
			      s->keylog_file, strerror(-err));
		return err;
	}
	if (narrowed) {
		stls_diag_warn(diag, NULL, 0, "keylog_file: '%s' was readable "
			       "by others: now mode 0600", s->keylog_file);
	}
	stls_diag_warn(diag, NULL, 0, "keylog_file: the TLS secrets of every "
		       "connection are written to '%s' (keylog_enable = yes): "
		       "anyone who reads it can decrypt the traffic; for "
		       "debugging only", s->keylog_file);
	*on = true;
	return 0;
}

void stls__keylog_install(SSL_CTX *ctx)
{
	stls_conn_ctx_set_keylog(ctx, keylog_cb);
}
