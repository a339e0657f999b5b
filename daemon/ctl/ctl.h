/*
 * siptlsd's control plane: the JSON-RPC methods an operator uses (tls.*,
 * cfg.*, core.stats), the control socket that serves them, and the one
 * reload path that tls.reload and SIGHUP share.
 *
 * Design:
 * - The methods run on the control thread (rpc_server.h). They never touch
 *   a worker's connections: tls.list and tls.kill post a message to each
 *   worker concerned (stls_daemon_post), the worker answers on its own
 *   thread into a reference-counted request, and the control thread waits
 *   for the answers with a bounded timeout (ctl_collect.c).
 * - Runtime settings (cfg.set) are written into the live settings the
 *   engine reads atomically; `config` (a string) and every reload are
 *   serialised by one lock of the control plane, so a reload never reads a
 *   string being replaced.
 * - A reload builds a complete new profile set off the workers and swaps
 *   it (pstore.h); a failure changes nothing and reports every
 *   "FILE:LINE: message".
 *
 * Threads: stls_ctl_new/start/free on the main thread; stls_ctl_reload on
 * the main thread (SIGHUP) or the control thread (tls.reload).
 */
#ifndef STLSD_CTL_H
#define STLSD_CTL_H

#include "config/core_conf.h"
#include "dbsrc/dbsrc.h"
#include "runtime/daemon.h"
#include "tlsx/pstore.h"
#include "stls/diag.h"

struct stls_ctl;
struct stls_tlsx;
struct stls_script;

/* Default bound on how long a method waits for the workers' answers. */
#define STLS_CTL_WORKER_WAIT_MS 2000

struct stls_ctl_conf {
	struct stls_daemon *d;            /* started; borrowed */
	struct stls_pstore *ps;           /* borrowed */
	struct stls_settings *live;       /* the settings the engine reads */
	const struct stls_core_conf *core; /* borrowed: rpc_*, limits */
	const char *base_dir;             /* resolves a relative `config` */
	struct stls_tlsx *tlsx;           /* NULL: no TLS counters */
	struct stls_dbsrc *dbsrc;         /* NULL: profiles from files */
	struct stls_script *script;       /* [core] script, or NULL */
	unsigned worker_wait_ms;          /* 0: STLS_CTL_WORKER_WAIT_MS */
};

/*
 * Creates the control plane (no thread yet). Every pointer of <conf> is
 * borrowed and must outlive the ctl. Returns 0 with *out, -ENOMEM, or
 * -EINVAL when a method table is malformed (a bug: logged).
 */
STLS_MUST_USE int stls_ctl_new(const struct stls_ctl_conf *conf,
			       struct stls_ctl **out);

/*
 * Starts the control socket when [core] rpc_socket is set: creates its
 * directory if missing (mode 0750), opens the socket with rpc_socket_mode,
 * and the loopback TCP port when rpc_tcp is set, on a thread of its own.
 * Call after stls_daemon_start(). Returns 0 (also when no socket is
 * configured) or the -errno of the server (logged).
 */
STLS_MUST_USE int stls_ctl_start(struct stls_ctl *ctl);

/*
 * Stops the control thread (a method in progress finishes first) and
 * frees everything. Call before the daemon is stopped. NULL is a no-op.
 */
void stls_ctl_free(struct stls_ctl *ctl);

/*
 * Reloads the TLS profiles (tls.reload, SIGHUP): one reload at a time,
 * never while `config` is being changed. Returns 0 with the new generation
 * and profile count (either pointer may be NULL), -EINVAL with the
 * reasons in <diag> (the running set is unchanged), or -ENOMEM. Blocks
 * while building: never call it on a worker.
 */
STLS_MUST_USE int stls_ctl_reload(struct stls_ctl *ctl,
				  struct stls_diag *diag,
				  uint64_t *generation, size_t *profiles);

/*
 * Reloads [core] script (script.reload, and after the profiles on
 * tls.reload and SIGHUP): see stls_script_reload(). Returns 0 with the
 * new generation, -ENOENT when no script is configured, or -EINVAL /
 * -ENOMEM with the reasons in <diag> (the running script stays).
 */
STLS_MUST_USE int stls_ctl_reload_script(struct stls_ctl *ctl,
					 struct stls_diag *diag,
					 uint64_t *generation);

/* SIGHUP: stls_ctl_reload, then stls_ctl_reload_script when a script is
 * configured, with every problem logged. <arg> is the ctl. */
int stls_ctl_reload_hook(void *arg);

/* The bound TCP port of the control socket, or 0 (tests). */
uint16_t stls_ctl_tcp_port(const struct stls_ctl *ctl);

#endif
