/*
 * Lua hooks of siptlsd (docs/scripting.md): the seed's event_callback
 * (`ksr_tls_event("tls:connection-out")`) and a KEMI-style request hook
 * (`ksr_request_route()`), run in one Lua 5.4 state per worker.
 *
 * Design:
 * - The script is read, compiled and run once off the workers (start,
 *   --check, every reload) in a state of its own, with the same sandbox
 *   and limits; only a script that loads and defines every configured
 *   callback is published, as one immutable source generation. A script
 *   that does not load is refused with "FILE:LINE: message" and the
 *   running generation stays.
 * - Each worker owns one lua_State built from the published source. A
 *   hook call first compares the worker's generation with the published
 *   one (one relaxed atomic load) and rebuilds the state from the new
 *   source when it changed; a reload also posts a nudge to every worker
 *   so that states are rebuilt at once, not at the next request.
 * - A script can never hurt the daemon: an instruction budget per call
 *   (a count hook; pattern matching and sorting are charged too), a
 *   memory cap per state (its lua_Alloc), no io, os.execute or native
 *   modules unless [core] script_allow names them, errors caught,
 *   logged with the script line and counted.
 *
 * The relay calls this room through the small structs below: it passes
 * what a hook may read (the parsed request, addresses, TLS facts) and
 * applies what the hook decided (a verdict). Nothing here knows the
 * relay.
 *
 * Threads: stls_script_new/free/attach on the main thread;
 * stls_script_reload on the main or control thread; worker_start/stop,
 * request and conn_out on the worker named by their index; stats on any
 * thread.
 */
#ifndef STLSD_SCRIPT_H
#define STLSD_SCRIPT_H

#include "config/core_conf.h"
#include "runtime/daemon.h"
#include "stls/addr.h"
#include "stls/diag.h"
#include "stls/facts.h"
#include "stls/sip/msg.h"

struct stls_script;

/* What stls_script_new() needs. Strings are copied. */
struct stls_script_conf {
	const char *path;             /* the script file */
	const char *request_callback; /* function name, or NULL */
	const char *event_callback;   /* [tls] event_callback, or NULL */
	const char *xavp_cfg;         /* [tls] xavp_cfg, or NULL */
	long instructions;            /* budget per call */
	size_t memory;                /* bytes per state */
	bool pass_on_error;           /* [core] script_on_error = pass */
	unsigned allow;               /* STLS_SCRIPT_ALLOW_* */
};

/*
 * Fills <out> from an applied [core] section and [tls] settings; the
 * script path is resolved against <base_dir> (the main config's folder)
 * into <path_buf> (PATH_MAX bytes). Returns 0, or -ENAMETOOLONG.
 */
STLS_MUST_USE int stls_script_conf_from(const struct stls_core_conf *core,
					const char *event_callback,
					const char *xavp_cfg,
					const char *base_dir, char *path_buf,
					struct stls_script_conf *out);

/*
 * Reads, compiles and runs the script once, checks that every configured
 * callback is a function, and publishes it as generation 1. Every
 * problem goes to <diag> as "FILE:LINE: message". Returns 0 with *out,
 * -EINVAL (the script does not load: see diag), -ENOENT, -ENOMEM.
 * Main thread.
 */
STLS_MUST_USE int stls_script_new(const struct stls_script_conf *conf,
				  unsigned workers, struct stls_diag *diag,
				  struct stls_script **out);

/* Frees the script and every worker state left. NULL is fine. */
void stls_script_free(struct stls_script *s);

/* Lets reloads nudge the workers of <d> (NULL: no nudges). */
void stls_script_attach(struct stls_script *s, struct stls_daemon *d);

/*
 * Reads the file again and, when it loads, publishes it as the next
 * generation (workers rebuild their state). Returns 0 with the new
 * generation in *gen (may be NULL), or -EINVAL/-ENOENT/-ENOMEM with the
 * reasons in <diag>; the running generation stays. One reload at a
 * time (serialised inside). Never on a worker: it reads a file.
 */
STLS_MUST_USE int stls_script_reload(struct stls_script *s,
				     struct stls_diag *diag, uint64_t *gen);

/* The published generation (1 after new). Any thread. */
uint64_t stls_script_generation(const struct stls_script *s);

/* The script file (resolved path). */
const char *stls_script_path(const struct stls_script *s);

/* True when a request_callback / event_callback is configured. */
bool stls_script_has_request(const struct stls_script *s);
bool stls_script_has_event(const struct stls_script *s);

/*
 * Builds worker <widx>'s state from the published source. On the worker's
 * thread, before any hook of it. Returns 0, -ENOMEM, or -EINVAL when the
 * script fails in that state (logged).
 */
STLS_MUST_USE int stls_script_worker_start(struct stls_script *s,
					   unsigned widx);

/* Closes worker <widx>'s state. On its thread (or after it ended). */
void stls_script_worker_stop(struct stls_script *s, unsigned widx);

/* What the request hook may read. Borrowed for the call. */
struct stls_script_req {
	const struct stls_sip_msg *msg;  /* a validated request */
	const struct stls_addr *src;     /* where it came from */
	const struct stls_addr *local;   /* where it arrived, or NULL */
	const char *proto;               /* "tls", "tcp", "udp" */
	const struct stls_facts *facts;  /* TLS facts, or NULL */
};

enum stls_script_action {
	STLS_SCRIPT_PASS,  /* relay it (with the edits below) */
	STLS_SCRIPT_REPLY, /* answer with code and reason, do not relay */
	STLS_SCRIPT_DROP,  /* discard silently */
};

/* Caps on what one request hook may add. */
#define STLS_SCRIPT_HDRS_MAX 4096   /* bytes of appended header lines */
#define STLS_SCRIPT_REMOVE_MAX 16   /* header names removed */
#define STLS_SCRIPT_REASON_MAX 128  /* reply reason bytes */
#define STLS_SCRIPT_XAVP_MAX 255    /* server_name / server_id bytes */

/*
 * What the request hook decided. Points into the worker's state: valid
 * until the worker's next hook call.
 */
struct stls_script_verdict {
	enum stls_script_action action;
	bool failed;        /* the hook failed (counted, logged) */
	unsigned code;      /* REPLY */
	const char *reason; /* REPLY: NULL for the standard phrase */
	/* PASS: header lines to append ("Name: value\r\n" each, checked),
	 * and names of headers to remove (compact forms match too). */
	const char *hdrs;
	size_t hdrs_len;
	const char *const *remove;
	size_t n_remove;
	/* PASS: the seed's xavp_cfg attributes, "" when not set. */
	const char *server_name;
	const char *server_id;
};

/*
 * Runs the request callback on worker <widx> for <req>. Always fills
 * *out: a failed hook gives REPLY 500 (failed set) or, with
 * script_on_error = pass, PASS without edits. Never blocks beyond the
 * instruction budget.
 */
void stls_script_request(struct stls_script *s, unsigned widx,
			 const struct stls_script_req *req,
			 struct stls_script_verdict *out);

/* What the connection-out event may read. Borrowed for the call. */
struct stls_script_out_ev {
	const struct stls_addr *dst;
	const char *server_name; /* SNI to send, or NULL */
	const char *server_id;   /* client profile id, or NULL */
};

/*
 * Runs the event callback for "tls:connection-out" on worker <widx>.
 * Returns 0 (go on) or -EPERM (KSR.drop(), or a failed hook with
 * script_on_error = reply).
 */
STLS_MUST_USE int stls_script_conn_out(struct stls_script *s, unsigned widx,
				       const struct stls_script_out_ev *ev);

/* Counters, summed over the workers. */
struct stls_script_stats {
	uint64_t requests;        /* request hook calls */
	uint64_t events;          /* connection-out calls */
	uint64_t errors;          /* failed calls, all causes */
	uint64_t budget;          /* of which: instruction budget */
	uint64_t memory;          /* of which: memory cap */
	uint64_t replies;         /* requests answered by the script */
	uint64_t drops;           /* requests dropped by the script */
	uint64_t conn_dropped;    /* connections refused by the script */
	uint64_t rebuilds;        /* worker states rebuilt */
	uint64_t reloads;         /* generations published after the first */
	uint64_t reload_failures; /* reloads refused */
	uint64_t memory_used;     /* bytes held by the worker states now */
};

void stls_script_stats(const struct stls_script *s,
		       struct stls_script_stats *out);

/* Logs the counters as one "stats: script: ..." line. NULL: no-op. */
void stls_script_stats_log(const struct stls_script *s);

#endif
