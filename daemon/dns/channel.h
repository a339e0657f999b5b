/*
 * c-ares on a libuv loop: one ares_channel driven by the loop that owns
 * it, with no thread and no blocking call.
 *
 * c-ares opens its UDP and TCP sockets itself and tells us, through its
 * socket-state callback, which to watch for reading or writing; each
 * such socket gets a uv_poll_t, and a readable or writable socket is
 * handed back with ares_process_fd(). c-ares' retransmissions and
 * timeouts run on one uv_timer_t, re-armed after every call into c-ares
 * from ares_timeout() (the earliest deadline of its queries).
 *
 * Servers: the configured list ([core] dns_server) replaces what
 * /etc/resolv.conf says; with none, c-ares reads resolv.conf once, at
 * stls_dns_channel_new() (a local file, on the caller's thread).
 *
 * Threads: everything runs on the loop's thread.
 */
#ifndef STLSD_DNS_CHANNEL_H
#define STLSD_DNS_CHANNEL_H

#include <uv.h>

#include "stls/addr.h"
#include "stls/common.h"

/* How queries are sent. */
struct stls_dns_channel_conf {
	const struct stls_addr *servers; /* NULL/0: resolv.conf; port 0: 53 */
	size_t n_servers;
	int timeout_ms; /* first try; c-ares doubles it per round */
	int tries;      /* rounds over the servers */
};

struct stls_dns_channel;

/*
 * The response to one query, or why there is none. <err> is 0 with the
 * raw response in <abuf, alen> (any response code: NXDOMAIN and NODATA
 * answers come here too), or -ETIMEDOUT (no server answered in time),
 * -ECONNREFUSED (every server refused), -EIO (no usable answer),
 * -ENOMEM, or -ECANCELED (the channel is closing) with abuf NULL. <abuf>
 * is valid during the call only.
 */
typedef void stls_dns_raw_fn(void *arg, int err, const uint8_t *abuf,
			     size_t alen);

/*
 * A channel on <loop>. Returns 0 with *out, -EINVAL (bad server list),
 * -ENOMEM or -EIO (c-ares could not start: its reason is logged).
 */
STLS_MUST_USE int stls_dns_channel_new(uv_loop_t *loop,
				       const struct stls_dns_channel_conf *conf,
				       struct stls_dns_channel **out);

/*
 * Sends a query for <name> (a domain name, no search list) and <type>
 * (class IN, recursion desired). <fn> is called exactly once, always
 * later from the loop (never inside this call), unless the query cannot
 * be sent: then this returns -ECANCELED (closing) or -ENOMEM and <fn> is
 * not called. Returns 0.
 */
STLS_MUST_USE int stls_dns_channel_query(struct stls_dns_channel *ch,
					 const char *name, uint16_t type,
					 stls_dns_raw_fn *fn, void *arg);

/* Queries sent and not answered yet. */
size_t stls_dns_channel_pending(const struct stls_dns_channel *ch);

/*
 * Ends the channel: every pending query's callback runs now with
 * -ECANCELED, the poll and timer handles are closed, and the memory is
 * released by the loop once they are (run the loop after this call).
 * NULL is fine; call once.
 */
void stls_dns_channel_close(struct stls_dns_channel *ch);

#endif
