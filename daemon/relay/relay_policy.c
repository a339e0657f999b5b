/*
 * The relay's connection-out policy: the [relay] rules (the seed's
 * event_route[tls:connection-out] as configuration), then the script's
 * event_callback (the seed's ksr_tls_event("tls:connection-out")).
 *
 * Connection-out rules: a destination inside any connection_out_deny
 * network is refused; when connection_out_allow networks are given, a
 * destination outside all of them is refused too. The rules run for TLS
 * connections as the tlsx hook (before the TCP connect) and for plain TCP
 * targets directly.
 *
 * The facts headers and the verified flag are relay_facts.c.
 */
#include "relay/relay_int.h"

#include <errno.h>
#include <string.h>

#include "tlsx/tlsx.h"


bool stls_relay_dst_allowed(const struct stls_relay_settings *s,
			    const struct stls_addr *dst)
{
	size_t i;

	for (i = 0; i < s->n_deny; i++) {
		if (stls_net_has(&s->deny[i], dst))
			return false;
	}
	if (!s->n_allow)
		return true;
	for (i = 0; i < s->n_allow; i++) {
		if (stls_net_has(&s->allow[i], dst))
			return true;
	}
	return false;
}

/*
 * The Lua event_callback, "tls:connection-out", on the worker opening the
 * connection, before its first byte (CONNECT phase). 0 or -EPERM.
 */
static int script_conn_out(struct stls_relay *r,
			   const struct stls_conn_out_event *ev)
{
	struct stls_script_out_ev sev = {
		.dst = ev->dst,
		.server_name = ev->server_name,
		.server_id = ev->server_id,
	};

	if (!stls_script_has_event(r->script) || !ev->w)
		return 0;
	return stls_script_conn_out(r->script, ev->w->idx, &sev);
}

int stls_relay_conn_out(const struct stls_conn_out_event *ev, void *arg)
{
	struct stls_relay *r = arg;

	if (ev->phase != STLS_CONN_OUT_CONNECT || !ev->dst ||
	    (stls_relay_dst_allowed(r->rs, ev->dst) &&
	     script_conn_out(r, ev) == 0))
		return 0;
	atomic_fetch_add_explicit(&r->hook_denied, 1, memory_order_relaxed);
	return -EPERM;
}
