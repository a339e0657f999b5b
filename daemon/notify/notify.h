/*
 * systemd notifications (sd_notify(3), Type=notify): READY=1 once the
 * daemon serves, RELOADING=1 with MONOTONIC_USEC when a SIGHUP reload
 * starts and READY=1 when it ends, STOPPING=1 on SIGTERM/SIGINT, and the
 * watchdog (WatchdogSec=).
 *
 * Without a service manager (NOTIFY_SOCKET unset) every call does
 * nothing: libsystemd's sd_notify() returns 0 then.
 *
 * Watchdog: when WATCHDOG_USEC is set (and WATCHDOG_PID, if set, is ours),
 * a timer on the main loop ticks at half that interval. Each tick sends
 * WATCHDOG=1 only if every worker answered the ping of the previous tick
 * through its inbox (stls_daemon_post), then pings every worker again. A
 * worker stuck in a loop turn, or a main loop that no longer runs, stops
 * the pings, and systemd restarts the daemon after WATCHDOG_USEC.
 *
 * Threads: everything on the main thread (the one running <loop>), except
 * the workers' answers.
 */
#ifndef STLSD_NOTIFY_H
#define STLSD_NOTIFY_H

#include <uv.h>

#include "runtime/daemon.h"

struct stls_notify;

/*
 * Creates the notifier for daemon <d> (started; borrowed) and, when the
 * watchdog is enabled, its timer on <loop> (started at once). Returns 0
 * with *out, or -ENOMEM / the -errno of uv_timer_init.
 */
STLS_MUST_USE int stls_notify_new(struct stls_daemon *d, uv_loop_t *loop,
				  struct stls_notify **out);

/* Closes the timer (its handle is released by the loop's next run) and
 * frees. The ping messages still in flight stay valid. NULL: no-op. */
void stls_notify_free(struct stls_notify *n);

/* READY=1 with a STATUS= line (NULL: none). */
void stls_notify_ready(struct stls_notify *n, const char *status);

/* RELOADING=1 and MONOTONIC_USEC=<now> (reload starts). */
void stls_notify_reloading(struct stls_notify *n);

/* STOPPING=1 (shutdown starts); the watchdog stops too. */
void stls_notify_stopping(struct stls_notify *n);

/* The watchdog interval in microseconds, 0 when off (tests). */
uint64_t stls_notify_watchdog_usec(const struct stls_notify *n);

/* WATCHDOG=1 messages sent so far (tests). */
uint64_t stls_notify_watchdog_sent(const struct stls_notify *n);

#endif
