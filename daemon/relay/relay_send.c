/*
 * What every side of the relay sends with: text on a connection, and a
 * stateless answer to the backend for the request in rw->msg. The lowest
 * file of the relay: it calls no other relay file.
 */
#include "relay/relay_int.h"

#include "dial/backend.h"
#include "stls/log.h"

int stls__relay_send_conn(struct stls_dconn *c, const char *p, size_t n)
{
	return stls_dconn_send(c, (const uint8_t *)p, n);
}

void stls__relay_backend_reply(struct relay_worker *rw, unsigned status)
{
	ssize_t n;

	if (!rw->msg->is_request || rw->msg->method_id == STLS_SIP_M_ACK)
		return;
	relay_count_reply(rw, false, status);
	n = stls_sip_reply_build(rw->msg, status, NULL,
				 rw->r->rs->server_header, rw->reply,
				 rw->reply_cap);
	if (n > 0 && stls_backend_send(rw->w, (const uint8_t *)rw->reply,
				       (size_t)n) != 0)
		STLS_DBG("relay: worker %u: %u to the backend not sent",
			 rw->w->idx, status);
}
