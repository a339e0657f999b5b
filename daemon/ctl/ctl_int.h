/*
 * Internals shared by the control plane's files (ctl*.c). Not for other
 * daemon parts: they use ctl.h.
 */
#ifndef STLSD_CTL_INT_H
#define STLSD_CTL_INT_H

#include <pthread.h>
#include <time.h>

#include "ctl/ctl.h"
#include "runtime/dconn.h"
#include "rpc/rpc.h"
#include "rpc/rpc_server.h"
#include "runtime/tls_info.h"

#define STLS__CTL_HIDDEN __attribute__((visibility("hidden")))

struct stls_ctl {
	struct stls_ctl_conf c;
	struct stls_rpc *rpc;
	struct stls_rpc_server *srv;
	/* Serialises reloads and changes of the `config` string. */
	pthread_mutex_t lock;
};

/* One TLS connection as tls.list shows it, filled on its worker. */
struct stls__ctl_entry {
	uint64_t id;
	enum stls_dconn_kind kind;
	struct stls_addr peer;
	struct stls_addr local;
	time_t created;       /* wall clock */
	int64_t timeout;      /* seconds until the idle timeout, -1 never */
	struct stls_tls_info info;
};

/*
 * Asks every worker for its TLS connections (those whose transform has a
 * describe op) and waits up to wait_ms for all answers. Control thread.
 * Returns 0 with a new array in *out (free()) of *n entries, sorted by id,
 * -ETIMEDOUT when a worker did not answer in time (what it sends later is
 * dropped), -ENOMEM, or the -errno of stls_daemon_post.
 */
int stls__ctl_collect(struct stls_daemon *d, unsigned wait_ms,
		      struct stls__ctl_entry **out,
		      size_t *n) STLS__CTL_HIDDEN;

/*
 * Closes the TLS connection <id> on its worker (reason KILLED) and waits
 * up to wait_ms for the worker to confirm. Returns 0, -ENOENT (no TLS
 * connection has that id), -ETIMEDOUT or -ENOMEM. Control thread.
 */
int stls__ctl_kill(struct stls_daemon *d, uint64_t id,
		   unsigned wait_ms) STLS__CTL_HIDDEN;

/* Method tables (ctl_tls.c, ctl_cfg.c, ctl_script.c); their argument is
 * the ctl. */
extern const struct stls_rpc_method stls__ctl_tls_methods[] STLS__CTL_HIDDEN;
extern const struct stls_rpc_method stls__ctl_cfg_methods[] STLS__CTL_HIDDEN;
extern const struct stls_rpc_method
	stls__ctl_script_methods[] STLS__CTL_HIDDEN;

/*
 * ctl_script.c: sets the script's file, generation and counters
 * (requests, events, errors, budget, memory, replies, drops,
 * conn_dropped, rebuilds, reloads, reload_failures, memory_used) in <o>.
 * 0 or -ENOMEM.
 */
struct stls_script;
int stls__ctl_script_counters(json_t *o,
			      const struct stls_script *s) STLS__CTL_HIDDEN;

/*
 * Fails <call> with 500 and every "FILE:LINE: message" of <diag> as data:
 * "<what> not reloaded (N errors, <unchanged>): <first error>".
 */
int stls__ctl_reload_failed(struct stls_rpc_call *call,
			    const struct stls_diag *diag, const char *what,
			    const char *unchanged) STLS__CTL_HIDDEN;

/* Sets <key> of <obj> to the address's IP and port members. */
int stls__ctl_set_addr(json_t *obj, const char *ip_key,
		       const char *port_key,
		       const struct stls_addr *a) STLS__CTL_HIDDEN;

/* Worker wait of this ctl in ms. */
unsigned stls__ctl_wait_ms(const struct stls_ctl *ctl) STLS__CTL_HIDDEN;

/*
 * tls.info's certificate part (ctl_certs.c): last_good_reload, and per
 * profile certificate its expiry and OCSP stapling state
 * ("certificates"), and the CRLs that crl_refresh keeps ("crls").
 * Returns 0 or -ENOMEM.
 */
int stls__ctl_info_certs(struct stls_ctl *ctl, json_t *o) STLS__CTL_HIDDEN;

#endif
