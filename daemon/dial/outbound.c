/*
 * Outbound TCP connections (see outbound.h).
 */
#include "dial/outbound.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "stls/log.h"
#include "runtime/worker.h"

static void on_connect(uv_connect_t *req, int status)
{
	struct stls_dconn *c = req->data;
	struct sockaddr_storage ss;
	char buf[STLS_ADDR_STRLEN];
	int len = sizeof(ss);

	if (status == UV_ECANCELED || c->state >= STLS_DCONN_CLOSING)
		return;
	if (status < 0) {
		STLS_DBG("conn %" PRIx64 ": connect to %s: %s", c->id,
			 stls_addr_str(&c->peer, true, buf),
			 uv_strerror(status));
		stls_dconn_close(c, STLS_DCLOSE_CONNECT_FAILED);
		return;
	}
	if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
		stls_addr_from_sockaddr((struct sockaddr *)&ss, &c->local);
	stls__dconn_connected(c);
}

static int start_connect(struct stls_dconn *c, const struct stls_addr *src)
{
	struct sockaddr_storage ss;
	int err;

	if (src && src->family != AF_UNSPEC) {
		stls_addr_to_sockaddr(src, &ss);
		err = uv_tcp_bind(&c->tcp, (struct sockaddr *)&ss, 0);
		if (err)
			return err;
	}
	if (!stls_addr_to_sockaddr(&c->peer, &ss) || c->peer.port == 0)
		return -EINVAL;
	c->connect_req.data = c;
	return uv_tcp_connect(&c->connect_req, &c->tcp,
			      (struct sockaddr *)&ss, on_connect);
}

int stls_outbound_open(struct stls_worker *w, const struct stls_addr *dst,
		       const struct stls_addr *src, enum stls_dconn_kind kind,
		       bool tls, struct stls_dconn **out)
{
	struct stls_dconn *c;
	int err;

	if (dst->family != AF_INET && dst->family != AF_INET6)
		return -EINVAL;
	if (kind != STLS_DCONN_BACKEND && !stls__worker_conn_reserve(w)) {
		stls_stats_add(&w->stats, STLS_STAT_REFUSED_MAX_CONN, 1);
		return -EMFILE;
	}
	err = stls_dconn_new(w, -1, kind, NULL, NULL, dst, tls, &c);
	if (err)
		return err;
	err = start_connect(c, src);
	if (err) {
		stls_dconn_close(c, STLS_DCLOSE_CONNECT_FAILED);
		return err;
	}
	if (kind == STLS_DCONN_OUTBOUND)
		stls_stats_add(&w->stats, STLS_STAT_OUTBOUND, 1);
	*out = c;
	return 0;
}
