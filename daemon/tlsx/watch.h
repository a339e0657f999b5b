/*
 * watch_files (docs/operations.md, "Certificates that renew"): reload the
 * profiles when a file they use changes. Every certificate, key, CA list,
 * CA directory, CRL and OCSP response file of the current set, and the
 * `config` file or directory, is watched through inotify (libuv's
 * fs_event) on its directory, so that a rename into place (certbot's
 * symlinks, `mv new.pem cert.pem`) is seen. An event on a watched name
 * (re)starts a settle timer of watch_delay ms; when it fires, the reload
 * hook runs. A reload builds and checks the complete new set before it
 * publishes anything, so a half-written file (a certificate without its
 * new key, a truncated PEM) fails the reload and the running set stays;
 * the next event (the rest of the file arriving) tries again.
 *
 * After each good reload (from here, SIGHUP or tls.reload) the list of
 * files is read again from the new set, on the loop's thread.
 *
 * Thread safety: everything on the thread of <loop> (siptlsd: the main
 * thread), except the pstore's reload callback, which only wakes it.
 */
#ifndef STLSD_WATCH_H
#define STLSD_WATCH_H

#include <uv.h>

#include "stls/settings.h"
#include "tlsx/pstore.h"

struct stls_watch;

/*
 * Starts watching the files of the set in <ps> and live->config.
 * <reload>(<arg>) is the reload to run (siptlsd: the SIGHUP hook).
 * Returns 0 and *out, or -errno.
 */
STLS_MUST_USE int stls_watch_new(uv_loop_t *loop, struct stls_pstore *ps,
				 const struct stls_settings *live,
				 int delay_ms, int (*reload)(void *arg),
				 void *arg, struct stls_watch **out);

/* Directories watched now (tests, logs). */
size_t stls_watch_dirs(const struct stls_watch *w);

/* Closes every handle; the loop must run once more to finish the closes
 * (then the memory is freed). NULL is a no-op. */
void stls_watch_free(struct stls_watch *w);

#endif
