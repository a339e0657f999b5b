/*
 * The [core] keyword table and its application (see core_conf.h).
 *
 * Every key is one row: name, kind, offsetof binding (type-checked with
 * _Generic), range, default as text, flags and a doc string. Defaults go
 * through the same parser as written values, so a default can never hold a
 * value the parser would refuse. The doc generator walks the same rows.
 */
#include "config/core_conf.h"
#include "config/kwtab.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "stls/log.h"

const char *const stls_proto_names[STLS_PROTO__COUNT] = {
	[STLS_PROTO_UDP] = "udp",
	[STLS_PROTO_TCP] = "tcp",
	[STLS_PROTO_TLS] = "tls",
};

enum kw_kind {
	KW_INT,     /* decimal integer in [min, max] */
	KW_TIMEOUT, /* like KW_INT, and -1 = never */
	KW_MODE,    /* octal file mode */
	KW_STR,     /* any non-empty text */
	KW_ENUM,    /* one of names[] */
	KW_LISTEN,  /* repeatable listener */
	KW_BACKEND, /* udp:|tcp: ADDR:PORT */
	KW_SOURCE,  /* IP[:PORT] or [IPv6][:PORT] */
	KW_FLAGS,   /* comma list of names[] (bit i), or "none" */
	KW_DNS,     /* repeatable IP[:PORT] */
	KW_NETS,    /* repeatable list of IP[/BITS] */
};

#define KW_REQUIRED STLS_KW_REQUIRED
#define KW_REPEAT STLS_KW_REPEAT
#define KW_AUTO STLS_KW_AUTO /* default "auto"/"tls": resolved later */
#define KW_OR_ZERO 0x100 /* KW_INT: 0 (off) as well as min..max */

#define CF struct stls_core_conf
#define KW_FIELD(f, ctype) \
	(offsetof(CF, f) + 0 * sizeof(_Generic(((CF *)0)->f, ctype: 1)))

static const char *const log_targets[] = { "stderr", "syslog", NULL };
static const char *const handlers[] = { "relay", "echo", "discard", NULL };
static const char *const yes_no[] = { "no", "yes", NULL };
static const char *const on_error[] = { "reply", "pass", NULL };
/* In the order of the STLS_SCRIPT_ALLOW_* bits. */
static const char *const allow_names[] = { "io", "os", "native", NULL };

static const struct stls_kw kws[] = {
	{ "listen", KW_LISTEN, 0, 0, 0, NULL, NULL, KW_REQUIRED | KW_REPEAT,
	  "Where clients connect: `PROTO:ADDR:PORT` with PROTO `tls`, `tcp` "
	  "or `udp`, an IPv4 address or an IPv6 address in brackets, e.g. "
	  "`tls:[2001:db8::1]:5061`. Repeat the key for more listeners. An "
	  "optional ` advertise=HOST[:PORT]` suffix names the host (and port) "
	  "to put in Via and Record-Route instead of the bound address, for "
	  "a daemon behind NAT: `tls:10.0.0.5:5061 advertise=sip.example.com`. "
	  "An optional `;proxy_protocol` suffix (tls: and tcp: only; "
	  "options are separated by `;` or, in a quoted value, blanks) makes "
	  "every connection start with a PROXY protocol v2 header from an L4 "
	  "balancer listed in `proxy_trusted`: its source address replaces "
	  "the balancer's (Via received, flow tokens, tls.list); "
	  "docs/daemon.md."
	},
	{ "proxy_trusted", KW_NETS, 0, 0, 0, NULL, NULL, KW_REPEAT,
	  "Networks (`IP` or `IP/BITS`, separated by commas, repeatable) of "
	  "the "
	  "balancers allowed to connect to `proxy_protocol` listeners. Any "
	  "other source is refused at accept, and so is a connection whose "
	  "first bytes are not a PROXY v2 header. Required when a listener "
	  "has `proxy_protocol`." },
	{ "backend", KW_BACKEND, 0, 0, 0, NULL, NULL, KW_REQUIRED,
	  "The SIP server requests are relayed to: `udp:ADDR:PORT` or "
	  "`tcp:ADDR:PORT`. With `udp`, each worker has its own socket; with "
	  "`tcp`, each worker keeps one persistent connection and reconnects "
	  "with back-off when the backend goes away." },
	{ "backend_source", KW_SOURCE,
	  KW_FIELD(backend_source, struct stls_addr), 0, 0, NULL, NULL, 0,
	  "Local address of the sockets towards the backend, `IP[:PORT]` "
	  "(IPv6 in brackets). Port 0 or no port: each worker picks its own "
	  "ephemeral port; a fixed port is shared by the workers "
	  "(SO_REUSEPORT). Unset: the kernel chooses." },
	{ "rpc_socket", KW_STR, KW_FIELD(rpc_socket, char *), 1,
	  sizeof(((struct sockaddr_un *)0)->sun_path) - 1, NULL, NULL, 0,
	  "Path of the JSON-RPC control socket (a Unix stream socket). Unset: "
	  "no control socket." },
	{ "rpc_socket_mode", KW_MODE, KW_FIELD(rpc_socket_mode, int), 0, 0777,
	  NULL, "0660", 0, "Permissions of the control socket, in octal." },
	{ "rpc_tcp", KW_STR, KW_FIELD(rpc_tcp, char *), 1, 63, NULL, NULL, 0,
	  "Also serve the control socket on a loopback TCP port: "
	  "`127.0.0.1:PORT` or `[::1]:PORT` (other addresses are refused). "
	  "It has no authentication, so it is read-only unless "
	  "`rpc_tcp_write` is 1. Unset: off." },
	{ "rpc_tcp_write", KW_INT, KW_FIELD(rpc_tcp_write, int), 0, 1, NULL,
	  "0", 0,
	  "1: allow state-changing methods (tls.reload, tls.kill, cfg.set) "
	  "on the TCP port too." },
	{ "workers", KW_INT, KW_FIELD(workers, int), 1, 256, NULL, "auto",
	  KW_AUTO,
	  "Worker threads, each with its own event loop. `auto`: the number "
	  "of CPUs siptlsd may run on (its CPU affinity: `taskset`, a cpuset, "
	  "systemd's `CPUAffinity=`; else the online CPUs), at most its "
	  "cgroup's CPU quota rounded up (a container's CPU limit, systemd's "
	  "`CPUQuota=`: cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us`)." },
	{ "max_connections", KW_INT, KW_FIELD(max_connections, int), 1,
	  1000000, NULL, "10000", 0,
	  "Most TCP and TLS connections open at once (inbound and outbound, "
	  "all workers). A connection over the limit is accepted and closed "
	  "at once, and counted. The open-files limit is raised to fit." },
	{ "handshake_timeout", KW_INT, KW_FIELD(handshake_timeout, int), 1,
	  3600, NULL, "10", 0,
	  "Seconds a new connection may take to become established (TCP "
	  "connect for outbound ones, plus the TLS handshake)." },
	{ "send_timeout", KW_INT, KW_FIELD(send_timeout, int), 1, 3600, NULL,
	  "10", 0,
	  "Seconds a connection's pending output may stay above "
	  "`send_high_water` (a peer that does not read) before the "
	  "connection is closed." },
	{ "connection_timeout", KW_TIMEOUT, KW_FIELD(connection_timeout, int),
	  1, INT_MAX, NULL, "tls", KW_AUTO,
	  "Idle seconds after which a connection is closed; -1 never. "
	  "Default: `[tls] connection_timeout` (600). A runtime change "
	  "applies to new connections." },
	{ "max_message_size", KW_INT, KW_FIELD(max_message_size, int), 1024,
	  16777216, NULL, "65535", 0,
	  "Largest SIP message (headers and body) accepted on a stream; a "
	  "bigger one closes the connection." },
	{ "send_high_water", KW_INT, KW_FIELD(send_high_water, int), 4096,
	  67108864, NULL, "262144", 0,
	  "Pending output bytes above which a connection is congested: "
	  "sources writing to it stop being read, and `send_timeout` runs. "
	  "Above four times this value plus 64 KiB (one read buffer) the "
	  "connection is closed at once." },
	{ "send_low_water", KW_INT, KW_FIELD(send_low_water, int), 0,
	  67108864, NULL, "65536", 0,
	  "Pending output bytes below which a congested connection's "
	  "sources are read again. Must be below `send_high_water`." },
	{ "shutdown_timeout", KW_INT, KW_FIELD(shutdown_timeout, int), 0, 60,
	  NULL, "2", 0,
	  "Seconds connections get to flush their pending output on "
	  "SIGTERM/SIGINT before they are closed." },
	{ "accept_backoff", KW_INT, KW_FIELD(accept_backoff, int), 1, 10000,
	  NULL, "100", 0,
	  "Milliseconds a worker stops accepting after running out of file "
	  "descriptors (EMFILE/ENFILE); it keeps serving its connections." },
	{ "max_handshakes_in_flight", KW_INT,
	  KW_FIELD(max_handshakes_in_flight, int), 0, 1000000, NULL, "256", 0,
	  "Inbound TLS handshakes a worker serves at once (0: no limit). At "
	  "the limit the worker stops accepting until a quarter of them "
	  "have ended (or one was shed): a storm of new connections waits "
	  "in the kernel's listen backlog instead of being accepted and "
	  "starved, and the phones already connected keep being served. "
	  "Counted in `core.stats` (`handshake_limit_pauses`, gauge "
	  "`handshaking`)." },
	{ "handshake_shed_age", KW_INT, KW_FIELD(handshake_shed_age, int), 0,
	  3600000, NULL, "5000", 0,
	  "Milliseconds after which, while a worker is at "
	  "`max_handshakes_in_flight`, a half-open connection (its "
	  "ClientHello has not arrived whole, so nothing was sent to it) is "
	  "closed to make room for a waiting one, oldest first (counted as "
	  "`shed_handshakes`, closes `shed`). A client that got our "
	  "handshake flight is never shed: only `handshake_timeout` ends it. "
	  "0: never shed." },
	{ "handshake_threads", KW_INT, KW_FIELD(handshake_threads, int), 0,
	  256, NULL, "auto", KW_AUTO,
	  "Threads that run the CPU work of inbound TLS handshakes (the "
	  "engine's steps over a ClientHello: signature, key exchange) at a "
	  "lower CPU priority than the workers, which keep every socket and "
	  "all established traffic (the threads write only their steps' "
	  "output): a storm of handshakes then takes the "
	  "CPU the phones already connected leave over instead of delaying "
	  "them. 0: steps run on the workers (8 handshake reads a loop "
	  "turn). `auto`: one per worker. Counted in `core.stats` "
	  "(`handshake_steps_offloaded`, gauge `handshake_steps_out`)." },
	{ "handshake_offload_at", KW_INT,
	  KW_FIELD(handshake_offload_at, int), 0, 1000000, NULL, "4", 0,
	  "Inbound TLS handshakes in flight on a worker from which its "
	  "handshake steps go to the handshake threads; with fewer, the "
	  "worker runs them itself. Handing a step over costs a thread "
	  "switch each way (on a 2-core machine, every step handed over: "
	  "within the noise for a TLS 1.3 handshake, about 180 µs of CPU "
	  "for a TLS 1.2 one, with two steps) and only pays when many "
	  "handshakes compete with the connected phones. 0: every step goes to the threads. Counted in "
	  "`core.stats` (`handshake_steps_offloaded`)." },
	{ "handshake_nice", KW_INT, KW_FIELD(handshake_nice, int), 0, 19,
	  NULL, "10", 0,
	  "Nice value of the handshake threads (`handshake_threads`), above "
	  "the process's own; each thread lowers only itself (no privilege "
	  "needed). 10 and 19 measured alike for the connected phones in a "
	  "storm; 19 made the storm itself slower (docs/performance.md, "
	  "\"Overload\")." },
	{ "handshake_idle", KW_ENUM, KW_FIELD(handshake_idle, int), 0, 0,
	  yes_no, "no", 0,
	  "`yes`: the handshake threads run under SCHED_IDLE instead of "
	  "`handshake_nice`: only when nothing else wants the CPU "
	  "(handshakes may then wait long on a busy machine: mind "
	  "`handshake_timeout`). Measured worse for the connected phones in "
	  "a storm on a saturated CPU, and the storm took twice as long "
	  "(docs/performance.md, \"Overload\")." },
	{ "handshake_slice", KW_INT, KW_FIELD(handshake_slice, int), 100,
	  100000, NULL, "100000", KW_OR_ZERO,
	  "Time slice of each handshake thread, in µs, or 0 for the "
	  "kernel's (0.7 to 3 ms by the number of CPUs). Linux 6.12 and "
	  "later (older kernels ignore it): under EEVDF a longer slice "
	  "means a later deadline, and a task that wakes with a shorter "
	  "slice than the running one may preempt it, so with the default "
	  "the workers (and the backend, and anything else on that CPU) "
	  "get the CPU from a handshake thread when they wake instead of "
	  "after its slice. The cost: two handshake threads sharing a CPU "
	  "take turns of up to this long. Only for SCHED_OTHER and "
	  "SCHED_BATCH threads. Measured in "
	  "a storm: the connected phones' p99 lower with 100 ms than with "
	  "the kernel's slice, higher with 100 µs (docs/performance.md, "
	  "\"Overload\"). Not with `handshake_idle`." },
	{ "source_max_connections", KW_INT,
	  KW_FIELD(source_max_connections, int), 0, 1000000, NULL, "0", 0,
	  "Most TCP and TLS connections open at once from one source: one "
	  "IPv4 address, or one IPv6 /64 (0: no limit). A connection over "
	  "the limit is reset right after accept, before any handshake, and "
	  "counted (`refused_source_connections`). On a `proxy_protocol` "
	  "listener the source is the client the PROXY v2 header names, "
	  "checked when the header arrives (close reason `source-limit`). "
	  "Mind NATs: many phones may share one address." },
	{ "source_handshake_rate", KW_INT,
	  KW_FIELD(source_handshake_rate, int), 0, 1000000, NULL, "0", 0,
	  "New connections (so handshakes) a second from one source: one "
	  "IPv4 address, or one IPv6 /64 (0: no limit); a burst of one "
	  "second's worth is allowed. Over it, a connection is reset right "
	  "after accept, before any handshake, and counted "
	  "(`refused_source_rate`); behind PROXY v2 as "
	  "`source_max_connections` says." },
	{ "source_filter", KW_ENUM, KW_FIELD(source_filter, int), 0, 0,
	  yes_no, "no", 0,
	  "`yes`: a source that `source_max_connections` or "
	  "`source_handshake_rate` refuses is also put, for "
	  "`source_filter_hold` milliseconds, in a socket filter (classic "
	  "BPF, no privileges needed) on every direct TCP and TLS listener, "
	  "so that the kernel drops its SYNs before any accept: no SYN-ACK, "
	  "no accept, no reset, no work in the daemon (its clients retry "
	  "their SYN after 1 s, 3 s, ...). Not on `proxy_protocol` "
	  "listeners, whose peer is the balancer. Counted as "
	  "`source_filter_listed`, `source_filter_rebuilds` and "
	  "`source_filter_full`; docs/daemon.md says more." },
	{ "source_filter_max", KW_INT, KW_FIELD(source_filter_max, int), 1,
	  1000, NULL, "256", 0,
	  "Most sources in the filter at once (IPv4 addresses and IPv6 /64s; "
	  "lowered at start if net.core.optmem_max is too small for the "
	  "program). Each SYN to a listener runs one comparison per listed "
	  "IPv4 source (four per IPv6 one). A source refused while the "
	  "filter is full is reset after accept as without the filter, and "
	  "counted (`source_filter_full`)." },
	{ "source_filter_hold", KW_INT, KW_FIELD(source_filter_hold, int),
	  100, 3600000, NULL, "1000", 0,
	  "Milliseconds a refused source stays in the filter. The filter "
	  "is rebuilt at most 10 times a second, so a source's hold may end "
	  "up to 100 ms late, and a source refused in between is listed "
	  "with the next build (refused after accept meanwhile)." },
	{ "udp_buffer", KW_INT, KW_FIELD(udp_buffer, int), 0, 1 << 28, NULL,
	  "4194304", 0,
	  "Receive and send buffer in bytes of every UDP socket (udp: "
	  "listeners and the udp: backend), so that a burst of answers from "
	  "the backend is not dropped by the kernel (a stateless relay does "
	  "not retransmit). 0: the kernel default (about 208 KiB)." },
	{ "user", KW_STR, KW_FIELD(user, char *), 1, 255, NULL, NULL, 0,
	  "User to switch to after the listeners are bound (name or "
	  "number). Unset: keep the current user." },
	{ "group", KW_STR, KW_FIELD(group, char *), 1, 255, NULL, NULL, 0,
	  "Group to switch to after binding. Unset: the user's primary "
	  "group when `user` is set." },
	{ "refuse_root", KW_INT, KW_FIELD(refuse_root, int), 0, 1, NULL, "0",
	  0,
	  "1: refuse to run (after any privilege drop) with user id 0." },
	{ "pid_file", KW_STR, KW_FIELD(pid_file, char *), 1, PATH_MAX - 1,
	  NULL, NULL, 0,
	  "File to write the daemon's process id to, after binding; removed "
	  "at exit. Held locked while the daemon runs: a second siptlsd "
	  "refuses to start; a file left by a crash is taken over." },
	{ "log_target", KW_ENUM, KW_FIELD(log_target, int), 0, 0, log_targets,
	  "stderr", 0, "`stderr` or `syslog` (facility daemon)." },
	{ "debug", KW_INT, KW_FIELD(debug, int), -5, 3, NULL, "2", 0,
	  "Log level, Kamailio numbering: -5 alert, -1 error, 0 warning, "
	  "1 notice, 2 info, 3 debug." },
	{ "handler", KW_ENUM, KW_FIELD(handler, int), 0, 0, handlers, "relay",
	  0,
	  "What is done with received bytes: `relay` (the SIP relay), "
	  "`echo` (send them back: tests and diagnostics) or `discard`." },
	{ "tls_record_handoff", KW_ENUM, KW_FIELD(tls_record_handoff, int), 0,
	  0, yes_no, "no", 0,
	  "`no`: OpenSSL protects the records of every connection. `yes`: "
	  "once a TLS 1.3 handshake, or a TLS 1.2 one with an AEAD suite, "
	  "on a listener is done, siptls protects records itself and frees "
	  "the OpenSSL connection object (about 13 KB less per idle "
	  "connection), for operators who hold very many idle connections; "
	  "docs/security.md says what it replaces and how it is tested." },
	{ "state_dir", KW_STR, KW_FIELD(state_dir, char *), 1, PATH_MAX - 64,
	  NULL, NULL, 0,
	  "Directory the daemon keeps state in (created mode 0700 if "
	  "missing). With profiles from a database (`[tls] config = "
	  "sqlite:...` or `postgresql://...`, docs/database.md) the last "
	  "profile rows that built are written there atomically after each "
	  "load, and the daemon starts from them, with a warning, when the "
	  "database cannot be reached. Unset: no snapshot." },
	{ "db_poll_interval", KW_INT, KW_FIELD(db_poll_interval, int), 50,
	  60000, NULL, "500", 0,
	  "Milliseconds between two checks of an SQLite profile table for "
	  "changes (`PRAGMA data_version`, cheap). PostgreSQL tables are not "
	  "polled: a trigger notifies the daemon." },
	{ "ticket_key_lifetime", KW_INT, KW_FIELD(ticket_key_lifetime, int),
	  0, 604800, NULL, "3600", 0,
	  "With profiles from PostgreSQL: seconds a TLS session ticket key "
	  "encrypts new tickets before the next one takes over; the previous "
	  "key still opens tickets for one more lifetime (they are then "
	  "renewed), older tickets give a full handshake. The edges that "
	  "share the database share the keys (table `tlskeys`), so a client "
	  "resumes on any edge. 0: no shared keys (each server context has "
	  "OpenSSL's own)." },
	{ "script", KW_STR, KW_FIELD(script, char *), 1, PATH_MAX - 1, NULL,
	  NULL, 0,
	  "Lua 5.4 script with the hooks (docs/scripting.md): "
	  "`request_callback` and `[tls] event_callback` name functions "
	  "in it. A relative path is relative to this file's folder. Each "
	  "worker runs its own copy, loaded at start and on every reload "
	  "(SIGHUP, `tls.reload`, `script.reload`); a script that does not "
	  "load is refused with `FILE:LINE: message` and the running one "
	  "stays. Unset: no hooks." },
	{ "request_callback", KW_STR, KW_FIELD(request_callback, char *), 1,
	  63, NULL, NULL, 0,
	  "Function of `script` called for every request from a client "
	  "connection before it is relayed, as KEMI's "
	  "`ksr_request_route()`: it may answer, drop, edit headers or set "
	  "the outbound server_name/server_id (docs/scripting.md). Needs "
	  "`script`." },
	{ "script_instructions", KW_INT, KW_FIELD(script_instructions, int),
	  1000, 100000000, NULL, "100000", 0,
	  "Lua VM instructions one hook call may run (pattern matching "
	  "and sorting count too); past it the call is stopped as an "
	  "error. Loading the script may run ten times as many." },
	{ "script_memory", KW_INT, KW_FIELD(script_memory, int), 262144,
	  1073741824, NULL, "8388608", 0,
	  "Bytes of memory each worker's Lua state may hold; an allocation "
	  "past it fails as an error in the hook." },
	{ "script_on_error", KW_ENUM, KW_FIELD(script_on_error, int), 0, 0,
	  on_error, "reply", 0,
	  "What a hook that fails (an error, the instruction budget, the "
	  "memory cap) does: `reply`: the request gets 500 and an outbound "
	  "connection is refused (503); `pass`: as if the hook had not "
	  "run. Failures are logged with the script line and counted." },
	{ "script_allow", KW_FLAGS, KW_FIELD(script_allow, int), 0, 0,
	  allow_names, "none", 0,
	  "Libraries the script gets besides the safe ones: `none`, or a "
	  "comma list of `io` (io, dofile, loadfile), `os` (os.execute, "
	  "getenv, remove, rename, tmpname; never os.exit or setlocale), "
	  "`native` (require of C modules, package.loadlib). These can "
	  "block a worker or reach outside the process." },
	{ "metrics", KW_STR, KW_FIELD(metrics, char *), 1, 63, NULL, NULL, 0,
	  "Serve Prometheus metrics at `http://ADDR:PORT/metrics`: "
	  "`127.0.0.1:9161` or `[::1]:9161`. A non-loopback address is "
	  "refused unless `metrics_allow` lists its network; a wildcard "
	  "(`0.0.0.0`, `[::]`) needs `metrics_allow` set. Unset: off "
	  "(docs/metrics.md)." },
	{ "metrics_allow", KW_STR, KW_FIELD(metrics_allow, char *), 1, 4095,
	  NULL, NULL, 0,
	  "Networks that may scrape `metrics` besides loopback, `IP` or "
	  "`IP/BITS` separated by commas or blanks, e.g. `10.0.0.0/24, "
	  "2001:db8::/64`. Scrapes from other sources are closed before "
	  "anything is read. Unset: loopback only." },
	{ "dns_server", KW_DNS, 0, 0, 0, NULL, NULL, KW_REPEAT,
	  "DNS server for outbound targets (RFC 3263: NAPTR, SRV, A/AAAA; "
	  "docs/dns.md): `IP[:PORT]`, IPv6 in brackets, port 53 when "
	  "absent. Repeat the key for more servers, asked in the order "
	  "written. Set: `/etc/resolv.conf` is not used. Unset: the "
	  "servers of `/etc/resolv.conf`, read once at start." },
	{ "dns_timeout", KW_INT, KW_FIELD(dns_timeout, int), 100, 30000, NULL,
	  "1000", 0,
	  "Milliseconds to wait for a DNS answer on the first try; each "
	  "later round over the servers waits twice as long (c-ares). With "
	  "the defaults a server that does not answer costs 3 s, then the "
	  "request gets `503 DNS Timeout`." },
	{ "dns_tries", KW_INT, KW_FIELD(dns_tries, int), 1, 10, NULL, "2", 0,
	  "Rounds over the DNS servers before a query fails." },
	{ "dns_cache_size", KW_INT, KW_FIELD(dns_cache_size, int), 16,
	  1000000, NULL, "4096", 0,
	  "DNS record sets cached per worker (positive and negative "
	  "answers, each for its TTL); the least recently used goes "
	  "first when full." },
};

static int parse_long(const char *s, int base, long *out)
{
	char *end;
	long v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, base);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_proto(const char *s, const char **rest)
{
	int i;

	for (i = 0; i < STLS_PROTO__COUNT; i++) {
		size_t n = strlen(stls_proto_names[i]);

		if (strncasecmp(s, stls_proto_names[i], n) == 0 &&
		    s[n] == ':') {
			*rest = s + n + 1;
			return i;
		}
	}
	return -EINVAL;
}

static int parse_advertise(const char *s, struct stls_listen_conf *out)
{
	const char *colon = strrchr(s, ':');
	long port = 0;
	size_t n = strlen(s);

	/* "[v6]" alone, or "host" alone: no port. */
	if (colon && (s[0] != '[' || colon > strchr(s, ']'))) {
		if (parse_long(colon + 1, 10, &port) || port < 1 ||
		    port > 65535) {
			return -EINVAL;
		}
		n = (size_t)(colon - s);
	}
	if (n == 0 || n > 253 || strcspn(s, " \t;,") < n)
		return -EINVAL;
	out->advertise_host = strndup(s, n);
	if (!out->advertise_host)
		return -ENOMEM;
	out->advertise_port = (uint16_t)port;
	return 0;
}

int stls_core_parse_listen(const char *s, struct stls_listen_conf *out,
			   const char **why)
{
	struct stls_listen_conf l = { 0 };
	char addr[STLS_ADDR_STRLEN + 8], tok[264];
	const char *rest, *sp;
	int proto;
	size_t n;

	proto = parse_proto(s, &rest);
	if (proto < 0) {
		*why = "expected tls:, tcp: or udp: before the address";
		return -EINVAL;
	}
	l.proto = (enum stls_proto)proto;
	/* Options follow after a blank (in a quoted value) or a ';'. */
	sp = strpbrk(rest, " \t;");
	n = sp ? (size_t)(sp - rest) : strlen(rest);
	if (n >= sizeof(addr)) {
		*why = "address too long";
		return -EINVAL;
	}
	memcpy(addr, rest, n);
	addr[n] = '\0';
	if (stls_addr_parse(addr, true, &l.addr) ||
	    (l.addr.family == AF_INET6 && addr[0] != '[')) {
		*why = "expected IPv4:PORT or [IPv6]:PORT";
		return -EINVAL;
	}
	while (sp && *(sp += strspn(sp, " \t;"))) {
		n = strcspn(sp, " \t;");
		if (n == 14 && strncmp(sp, "proxy_protocol", 14) == 0 &&
		    !l.proxy) {
			l.proxy = true;
		} else if (strncmp(sp, "advertise=", 10) != 0 ||
			   l.advertise_host || n - 10 >= sizeof(tok)) {
			free(l.advertise_host);
			*why = "expected advertise=HOST[:PORT] or "
			       "proxy_protocol after the address";
			return -EINVAL;
		} else {
			memcpy(tok, sp + 10, n - 10);
			tok[n - 10] = '\0';
			if (parse_advertise(tok, &l) != 0) {
				*why = "expected advertise=HOST[:PORT] or "
				       "proxy_protocol after the address";
				return -EINVAL;
			}
		}
		sp += n;
	}
	if (l.proxy && l.proto == STLS_PROTO_UDP) {
		free(l.advertise_host);
		*why = "proxy_protocol is for tls: and tcp: listeners";
		return -EINVAL;
	}
	*out = l;
	return 0;
}

static int parse_backend(const char *s, struct stls_core_conf *c,
			 const char **why)
{
	const char *rest;
	int proto = parse_proto(s, &rest);

	if (proto != STLS_PROTO_UDP && proto != STLS_PROTO_TCP) {
		*why = "expected udp: or tcp: before the address";
		return -EINVAL;
	}
	if (stls_addr_parse(rest, true, &c->backend) || c->backend.port == 0 ||
	    (c->backend.family == AF_INET6 && rest[0] != '[')) {
		*why = "expected IPv4:PORT or [IPv6]:PORT (port not 0)";
		return -EINVAL;
	}
	c->backend_proto = (enum stls_proto)proto;
	return 0;
}

static int add_listen(struct stls_core_conf *c, const char *v,
		      const struct stls_loc *loc, const char **why)
{
	struct stls_listen_conf l, *arr;
	size_t i;

	if (stls_core_parse_listen(v, &l, why))
		return -EINVAL;
	for (i = 0; i < c->n_listen; i++) {
		if (c->listen[i].proto == l.proto &&
		    stls_addr_eq(&c->listen[i].addr, &l.addr)) {
			free(l.advertise_host);
			*why = "duplicate listener";
			return -EINVAL;
		}
	}
	arr = realloc(c->listen, (c->n_listen + 1) * sizeof(*arr));
	if (!arr) {
		free(l.advertise_host);
		*why = "out of memory";
		return -ENOMEM;
	}
	l.loc = *loc;
	arr[c->n_listen++] = l;
	c->listen = arr;
	return 0;
}

static int add_dns_server(struct stls_core_conf *c, const char *v,
			  const char **why)
{
	struct stls_addr a, *arr;

	if (stls_addr_parse(v, false, &a)) {
		*why = "expected IP[:PORT] or [IPv6][:PORT]";
		return -EINVAL;
	}
	arr = realloc(c->dns_servers, (c->n_dns_servers + 1) * sizeof(*arr));
	if (!arr) {
		*why = "out of memory";
		return -ENOMEM;
	}
	arr[c->n_dns_servers++] = a;
	c->dns_servers = arr;
	return 0;
}

static int set_enum(const struct stls_kw *k, const char *v, int *dst,
		    const char **why)
{
	int i;

	for (i = 0; k->names[i]; i++) {
		if (strcasecmp(v, k->names[i]) == 0) {
			*dst = i;
			return 0;
		}
	}
	*why = "unknown value (see docs/core-config.md)";
	return -EINVAL;
}

/* A comma list of k->names, bit i for names[i]; "none" is empty. */
static int set_flags(const struct stls_kw *k, const char *v, int *dst,
		     const char **why)
{
	char item[32];
	int bits = 0, i;
	size_t n;

	for (;;) {
		v += strspn(v, " \t,");
		n = strcspn(v, " \t,");
		if (!n)
			break;
		if (n >= sizeof(item)) {
			*why = "unknown value (see docs/core-config.md)";
			return -EINVAL;
		}
		memcpy(item, v, n);
		item[n] = '\0';
		v += n;
		if (strcasecmp(item, "none") == 0)
			continue;
		for (i = 0; k->names[i]; i++) {
			if (strcasecmp(item, k->names[i]) == 0)
				break;
		}
		if (!k->names[i]) {
			*why = "unknown value (see docs/core-config.md)";
			return -EINVAL;
		}
		bits |= 1 << i;
	}
	*dst = bits;
	return 0;
}

static int set_int(const struct stls_kw *k, const char *v, int *dst,
		   const char **why)
{
	long x;

	if (parse_long(v, k->kind == KW_MODE ? 8 : 10, &x)) {
		*why = k->kind == KW_MODE ? "expected an octal mode"
					  : "expected an integer";
		return -EINVAL;
	}
	if (k->kind == KW_TIMEOUT && x == -1) {
		*dst = -1;
		return 0;
	}
	if ((x < k->min || x > k->max) &&
	    !(x == 0 && (k->flags & KW_OR_ZERO))) {
		*why = "out of range (see docs/core-config.md)";
		return -ERANGE;
	}
	*dst = (int)x;
	return 0;
}

/* Applies one value of key <k> to <c>. */
static int set_value(const struct stls_kw *k, const char *v,
		     const struct stls_loc *loc, void *obj, const void *ctx,
		     const char **why)
{
	struct stls_core_conf *c = obj;
	char *base = obj;

	(void)ctx;
	char **sp;

	switch (k->kind) {
	case KW_INT:
	case KW_TIMEOUT:
	case KW_MODE:
		return set_int(k, v, (int *)(base + k->off), why);
	case KW_ENUM:
		return set_enum(k, v, (int *)(base + k->off), why);
	case KW_FLAGS:
		return set_flags(k, v, (int *)(base + k->off), why);
	case KW_STR:
		if (strlen(v) < (size_t)k->min || strlen(v) > (size_t)k->max) {
			*why = "empty or too long";
			return -EINVAL;
		}
		sp = (char **)(base + k->off);
		free(*sp);
		*sp = strdup(v);
		return *sp ? 0 : -ENOMEM;
	case KW_LISTEN:
		return add_listen(c, v, loc, why);
	case KW_BACKEND:
		return parse_backend(v, c, why);
	case KW_DNS:
		return add_dns_server(c, v, why);
	case KW_NETS:
		return stls_nets_add(v, &c->proxy_trusted, &c->n_proxy_trusted,
				     why);
	case KW_SOURCE:
		if (stls_addr_parse(v, false,
				    (struct stls_addr *)(base + k->off))) {
			*why = "expected IP[:PORT] or [IPv6][:PORT]";
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

static const char *const kind_text[] = {
	[KW_INT] = "integer", [KW_TIMEOUT] = "integer or -1",
	[KW_MODE] = "octal mode", [KW_STR] = "text",
	[KW_ENUM] = "one of a list", [KW_LISTEN] = "listener",
	[KW_BACKEND] = "PROTO:ADDR:PORT", [KW_SOURCE] = "IP[:PORT]",
	[KW_FLAGS] = "list",
	[KW_DNS] = "IP[:PORT]", [KW_NETS] = "list of networks",
};

static void range_cell(FILE *f, const struct stls_kw *k)
{
	if (k->kind == KW_INT && (k->flags & KW_OR_ZERO))
		fprintf(f, "0, or %ld..%ld", k->min, k->max);
	else if (k->kind == KW_INT || k->kind == KW_TIMEOUT)
		fprintf(f, "%ld..%ld", k->min, k->max);
	else if (k->kind == KW_MODE)
		fprintf(f, "0..0%lo", (unsigned long)k->max);
	else if (k->kind == KW_ENUM || k->kind == KW_FLAGS)
		stls_kw_print_names(f, k->names);
}

static const struct stls_kw_table table = {
	.section = "core",
	.kws = kws,
	.n = STLS_ARRAY_SIZE(kws),
	.set = set_value,
	.kind_text = kind_text,
	.range = range_cell,
};

static void apply_defaults(struct stls_core_conf *c)
{
	stls_kw_defaults(&table, c, NULL);
	c->workers = 0;
	c->handshake_threads = -1; /* "auto": one per worker */
	c->connection_timeout = -2; /* "take [tls] connection_timeout" */
}

static void resolve_auto(struct stls_core_conf *c,
			 const struct stls_settings *tls)
{
	long n;

	if (c->workers == 0) {
		n = stls_cpus_usable();
		c->workers = n > 256 ? 256 : (int)n;
	}
	if (c->handshake_threads < 0)
		c->handshake_threads = c->workers;
	if (c->connection_timeout == -2)
		c->connection_timeout = tls ? tls->connection_timeout : 600;
	if (c->connection_timeout == 0)
		c->connection_timeout = -1;
}

/* Required keys never written (a bad line was reported already). */
static void check_required(const struct stls_section *core,
			   const struct stls_core_conf *c, const bool *seen,
			   struct stls_diag *diag)
{
	const char *file = core ? core->loc.file : NULL;
	int line = core ? core->loc.line : 0;

	if (c->n_listen == 0 && !seen[stls_kw_find(&table, "listen") - kws])
		stls_diag_err(diag, file, line,
			      "listen: at least one listener is required");
	if (c->backend.family == AF_UNSPEC &&
	    !seen[stls_kw_find(&table, "backend") - kws])
		stls_diag_err(diag, file, line, "backend: required");
	if (c->send_low_water >= c->send_high_water)
		stls_diag_err(diag, file, line,
			      "send_low_water: must be below send_high_water");
	if (c->request_callback && !c->script)
		stls_diag_err(diag, file, line,
			      "request_callback: needs [core] script");
}

/* [tls] event_callback names a function of [core] script: without a
 * script nothing can call it. */
static void check_script(const struct stls_section *core,
			 const struct stls_core_conf *c,
			 const struct stls_settings *tls,
			 struct stls_diag *diag)
{
	if (!tls || !tls->event_callback || !tls->event_callback[0] ||
	    c->script)
		return;
	stls_diag_warn(diag, core ? core->loc.file : NULL,
		       core ? core->loc.line : 0,
		       "[tls] event_callback %s: not called: [core] script "
		       "is not set",
		       tls->event_callback);
}

/* proxy_protocol listeners get the trusted list; they need one. */
static void check_proxy(struct stls_core_conf *c, struct stls_diag *diag)
{
	size_t i;

	for (i = 0; i < c->n_listen; i++) {
		struct stls_listen_conf *l = &c->listen[i];

		if (!l->proxy)
			continue;
		l->trusted = c->proxy_trusted;
		l->n_trusted = c->n_proxy_trusted;
		if (!c->n_proxy_trusted)
			stls_diag_err(diag, l->loc.file, l->loc.line,
				      "listen: proxy_protocol needs "
				      "[core] proxy_trusted (the balancers' "
				      "addresses)");
	}
}

int stls_core_conf_apply(const struct stls_section *core,
			 const struct stls_settings *tls,
			 struct stls_core_conf *out, struct stls_diag *diag)
{
	bool seen[STLS_ARRAY_SIZE(kws)] = { false };
	size_t errors = diag->errors;

	memset(out, 0, sizeof(*out));
	apply_defaults(out);
	stls_kw_apply(&table, core, out, NULL, seen, diag);
	check_required(core, out, seen, diag);
	check_script(core, out, tls, diag);
	resolve_auto(out, tls);
	if (stls_metrics_conf_apply(core, &out->metrics_ep, diag) == -ENOMEM)
		stls_diag_err(diag, NULL, 0, "metrics: out of memory");
	check_proxy(out, diag);
	return diag->errors > errors ? -EINVAL : 0;
}

void stls_core_conf_fini(struct stls_core_conf *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_listen; i++)
		free(c->listen[i].advertise_host);
	free(c->listen);
	free(c->rpc_socket);
	free(c->rpc_tcp);
	free(c->user);
	free(c->group);
	free(c->pid_file);
	free(c->state_dir);
	free(c->script);
	free(c->request_callback);
	free(c->metrics);
	free(c->metrics_allow);
	stls_metrics_conf_fini(&c->metrics_ep);
	free(c->dns_servers);
	free(c->proxy_trusted);
	memset(c, 0, sizeof(*c));
}

int stls_core_conf_write_doc(FILE *f)
{
	fprintf(f, "# `[core]`: the daemon's settings\n\n"
		   "Generated from the keyword table in `daemon/config/core_conf.c` "
		   "(`STLS_REGEN_DOCS=1 build/test_core_conf` rewrites it; a "
		   "unit test checks that it is current). Errors read "
		   "`FILE:LINE: key: reason`; unknown keys are errors.\n\n"
		   "| key | type | default | range | |\n"
		   "|---|---|---|---|---|\n");
	return stls_kw_write_rows(f, &table);
}
