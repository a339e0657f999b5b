/*
 * The [core] section of the main config: the daemon's own settings.
 *
 * One keyword table (core_conf.c) gives every key its name, kind, default,
 * range and documentation. stls_core_conf_apply() reads a parsed [core]
 * section (struct stls_section from lib/conf) through that table; the same
 * table writes docs/core-config.md (stls_core_conf_write_doc()), and a unit
 * test keeps the two in sync.
 *
 * Errors go to a struct stls_diag as "FILE:LINE: key: reason"; apply goes on
 * after an error so that `siptlsd --check` reports every problem at once.
 */
#ifndef STLSD_CORE_CONF_H
#define STLSD_CORE_CONF_H

#include <stdio.h>

#include "config/metrics_conf.h"
#include "config/nets.h"
#include "stls/addr.h"
#include "stls/conf.h"
#include "stls/diag.h"
#include "stls/settings.h"

/* Transport of a listener or of the backend. */
enum stls_proto {
	STLS_PROTO_UDP,
	STLS_PROTO_TCP,
	STLS_PROTO_TLS,
	STLS_PROTO__COUNT
};

/* "udp", "tcp", "tls". */
extern const char *const stls_proto_names[STLS_PROTO__COUNT];

enum stls_log_target {
	STLS_LOG_STDERR,
	STLS_LOG_SYSLOG,
};

/* What the daemon does with the bytes a connection delivers. */
enum stls_handler_kind {
	STLS_HANDLER_RELAY,   /* the SIP relay (default) */
	STLS_HANDLER_ECHO,    /* test and diagnostics: send bytes back */
	STLS_HANDLER_DISCARD, /* read and drop */
};

/* What a hook that fails does ([core] script_on_error). */
enum stls_script_on_error {
	STLS_SCRIPT_ERR_REPLY, /* request: 500; connection-out: refused */
	STLS_SCRIPT_ERR_PASS,  /* as if the hook had not run */
};

/* Libraries a script gets only when asked ([core] script_allow). */
#define STLS_SCRIPT_ALLOW_IO 0x1u     /* io, dofile, loadfile */
#define STLS_SCRIPT_ALLOW_OS 0x2u     /* os.execute, getenv, remove, ... */
#define STLS_SCRIPT_ALLOW_NATIVE 0x4u /* require of C modules, loadlib */

/* One `listen = PROTO:ADDR:PORT [advertise=HOST[:PORT]]
 * [proxy_protocol]` line. */
struct stls_listen_conf {
	enum stls_proto proto;
	struct stls_addr addr;
	char *advertise_host;    /* NULL: advertise addr itself */
	uint16_t advertise_port; /* 0: the listening port */
	bool proxy;              /* PROXY v2 header first (tls:, tcp:) */
	const struct stls_net *trusted; /* [core] proxy_trusted (borrowed) */
	size_t n_trusted;
	struct stls_loc loc;
};

/*
 * The applied [core] section. Owns its strings and the listen array (free
 * with stls_core_conf_fini()). Times are in seconds as written.
 */
struct stls_core_conf {
	struct stls_listen_conf *listen;
	size_t n_listen;
	struct stls_net *proxy_trusted;  /* who may send PROXY headers */
	size_t n_proxy_trusted;
	enum stls_proto backend_proto;   /* UDP or TCP */
	struct stls_addr backend;        /* family AF_UNSPEC: none */
	struct stls_addr backend_source; /* local address towards the backend */
	char *rpc_socket;
	int rpc_socket_mode;
	char *rpc_tcp;          /* loopback HOST:PORT or NULL */
	int rpc_tcp_write;
	int workers;            /* resolved: >= 1 */
	int max_connections;
	int handshake_timeout;  /* s */
	int send_timeout;       /* s */
	int connection_timeout; /* s, -1 never; resolved from [tls] if unset */
	int max_message_size;   /* bytes */
	int send_high_water;    /* bytes */
	int send_low_water;     /* bytes */
	int shutdown_timeout;   /* s */
	int accept_backoff;     /* ms */
	int max_handshakes_in_flight; /* per worker, 0: no limit */
	int handshake_shed_age; /* ms, 0: never shed */
	int handshake_threads;  /* resolved: 0 = steps on the workers */
	int handshake_nice;     /* 0..19 */
	int handshake_offload_at; /* handshakes in flight; 0: always */
	int handshake_idle;     /* 1: SCHED_IDLE */
	int handshake_slice;    /* µs, 0: the kernel's */
	int source_max_connections; /* per source address or /64, 0: off */
	int source_handshake_rate;  /* new connections/s per source, 0: off */
	int source_filter;          /* 1: refused sources in a BPF filter */
	int source_filter_max;      /* sources in it at most */
	int source_filter_hold;     /* ms a source stays in it */
	int udp_buffer;         /* bytes, 0 = kernel default */
	char *user;
	char *group;
	int refuse_root;
	char *pid_file;
	int log_target;         /* enum stls_log_target */
	int debug;              /* enum stls_log_level */
	int handler;            /* enum stls_handler_kind */
	int tls_record_handoff; /* 1: TLS 1.3 servers free the SSL */
	/* Lua hooks (docs/scripting.md). */
	char *script;           /* path as written, or NULL: no script */
	char *request_callback; /* function name, or NULL */
	int script_instructions; /* budget per hook call */
	int script_memory;      /* bytes per lua_State */
	int script_on_error;    /* enum stls_script_on_error */
	int script_allow;       /* STLS_SCRIPT_ALLOW_* */
	/* /metrics (config/metrics_conf.h): the two keys as written, and
	 * what they mean together. */
	char *metrics;
	char *metrics_allow;
	struct stls_metrics_conf metrics_ep;
	struct stls_addr *dns_servers; /* none: /etc/resolv.conf */
	size_t n_dns_servers;
	int dns_timeout;        /* ms, first try */
	int dns_tries;
	int dns_cache_size;     /* entries per worker */
	char *state_dir;        /* NULL: no snapshot of database profiles */
	int db_poll_interval;   /* ms, SQLite change checks */
	int ticket_key_lifetime; /* s, shared keys (PostgreSQL); 0 off */
};

/*
 * Applies a [core] section. <core> may be NULL (no section: only defaults,
 * which then fails on the required keys). <tls> may be NULL; when given,
 * its connection_timeout is the default of [core] connection_timeout.
 * Every problem is added to <diag> as "FILE:LINE: key: reason"; apply goes
 * on after one. On return *out is always initialised (defaults where a key
 * was bad) and must be released with stls_core_conf_fini().
 * Returns 0, or -EINVAL when at least one error was added.
 * Any thread; touches no global state.
 */
STLS_MUST_USE int stls_core_conf_apply(const struct stls_section *core,
				       const struct stls_settings *tls,
				       struct stls_core_conf *out,
				       struct stls_diag *diag);

/* Releases what *c owns and zeroes it. NULL or a zeroed conf is fine. */
void stls_core_conf_fini(struct stls_core_conf *c);

/*
 * Writes the Markdown reference of every [core] key (docs/core-config.md)
 * to <f>. Returns 0 or -EIO.
 */
STLS_MUST_USE int stls_core_conf_write_doc(FILE *f);

/*
 * Parses one listen value "PROTO:ADDR:PORT [advertise=HOST[:PORT]]
 * [proxy_protocol]" into
 * *out (which then owns advertise_host). Returns 0 or -EINVAL with a
 * reason in *why (static text).
 */
STLS_MUST_USE int stls_core_parse_listen(const char *s,
					 struct stls_listen_conf *out,
					 const char **why);

#endif
