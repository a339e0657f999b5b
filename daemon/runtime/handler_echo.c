/*
 * The echo and discard handlers (see handler_echo.h).
 */
#include "runtime/handler_echo.h"

#include "runtime/dconn.h"
#include "runtime/worker.h"

static int echo_data(struct stls_dconn *c, const uint8_t *p, size_t n,
		     void *arg)
{
	(void)arg;
	if (c->kind == STLS_DCONN_BACKEND)
		return 0;
	if (stls_dconn_send(c, p, n) != 0)
		return 0; /* already closing */
	/* The peer does not read fast enough: stop reading from it. */
	stls_dconn_wait_drain(c, c);
	return 0;
}

static void echo_dgram(struct stls_listener *l, const struct stls_addr *from,
		       const uint8_t *p, size_t n, void *arg)
{
	(void)arg;
	/* Datagrams are best effort: a full socket drops the echo. */
	if (stls_listener_send(l, from, p, n) != 0)
		return;
}

const struct stls_handler_ops stls_echo_handler = {
	.name = "echo",
	.data = echo_data,
	.datagram = echo_dgram,
};

static int discard_data(struct stls_dconn *c, const uint8_t *p, size_t n,
			void *arg)
{
	(void)c;
	(void)p;
	(void)n;
	(void)arg;
	return 0;
}

const struct stls_handler_ops stls_discard_handler = {
	.name = "discard",
	.data = discard_data,
};
