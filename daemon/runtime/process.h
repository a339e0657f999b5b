/*
 * Process-level chores of siptlsd's main thread: the open-files limit,
 * the pid file, the privilege drop and the syslog log sink. Called before
 * the worker threads start (the privilege drop must be), main thread only.
 */
#ifndef STLSD_PROCESS_H
#define STLSD_PROCESS_H

#include <sys/types.h>

#include "stls/common.h"

/*
 * Descriptors the daemon needs: one per connection, the listening
 * sockets (one per listener per worker), the backend sockets, the loops'
 * own descriptors, and a margin for files and the control socket.
 */
long stls_process_nofile_needed(int max_connections, size_t n_listen,
				unsigned workers);

/*
 * Raises RLIMIT_NOFILE towards <want> (the soft limit up to the hard one;
 * the hard one too when privileged). Logs what it got, with a warning
 * when it is less than wanted. Returns the soft limit now in force.
 */
long stls_process_raise_nofile(long want);

/*
 * Writes our pid to <path> and keeps it open with an exclusive flock()
 * until stls_pidfile_remove() (or exit): the lock says a siptlsd runs.
 * A file another process holds locked makes it fail with -EEXIST
 * (*holder set to the pid it names); an unlocked one is stale whatever
 * pid it names (a crash's pid may belong to anything now) and is
 * overwritten. -EALREADY when this process holds one already. Returns 0
 * or -errno.
 */
STLS_MUST_USE int stls_pidfile_write(const char *path, pid_t *holder);

/* Removes <path> if it still names this process, and releases the lock.
 * Logs a failure. A no-op without a successful stls_pidfile_write(). */
void stls_pidfile_remove(const char *path);

/*
 * Switches to <user> (name or number; NULL: keep) and <group> (name or
 * number; NULL: the user's primary group), supplementary groups cleared.
 * Returns 0, -ENOENT (unknown user or group) or -EPERM. Must run before
 * any thread starts.
 */
STLS_MUST_USE int stls_process_drop_privileges(const char *user,
					       const char *group);

/* Sends the log to syslog (facility daemon, ident "siptlsd") or back to
 * stderr. */
void stls_process_log_syslog(bool on);

#endif
