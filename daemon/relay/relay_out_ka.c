/*
 * Keep-alive on the connections the relay's outbound pool opened
 * (RFC 5626 section 4.4.1, [relay] outbound_keepalive): an up connection
 * gets a CRLF CRLF ping every interval (80-100% of it, drawn each time);
 * a CRLF pong must come back within outbound_keepalive_timeout, else the
 * connection is closed (reason keepalive-timeout) and counted
 * (out_keepalive_failed); the pool forgets the destination when it
 * closes, and the next request opens a new connection.
 *
 * One timer per worker serves every destination: it runs at the earliest
 * deadline (a ping due, or a pong overdue) and walks the pool. It is
 * created on first use and closed by the relay's worker part when the
 * worker stops, while the loop still runs.
 */
#include "relay/relay_int.h"

#include "stls/log.h"

static uint64_t ka_interval(struct relay_worker *rw)
{
	uint64_t ms = (uint64_t)rw->r->rs->outbound_keepalive * 1000u;

	/* RFC 5626 4.4.1: between 80% and 100% of the interval. */
	return ms - (ms / 5) * (relay_random(rw) % 1001u) / 1000u;
}

static void on_ka_timer(uv_timer_t *t);

/* Runs the timer at <due> unless it already runs sooner. */
static void ka_arm(struct relay_worker *rw, uint64_t due)
{
	uint64_t now = uv_now(&rw->w->loop);

	/* Stopping: the part closed the timer, or will find none. */
	if (rw->w->stopping)
		return;
	if (!rw->ka_timer_ok) {
		if (uv_timer_init(&rw->w->loop, &rw->ka_timer) != 0)
			return;
		rw->ka_timer.data = rw;
		rw->ka_timer_ok = true;
		/* Keep-alive alone must not keep a stopping loop alive. */
		uv_unref((uv_handle_t *)&rw->ka_timer);
	}
	if (uv_is_closing((uv_handle_t *)&rw->ka_timer))
		return;
	if (uv_is_active((uv_handle_t *)&rw->ka_timer) &&
	    uv_timer_get_due_in(&rw->ka_timer) <= (due > now ? due - now : 0))
		return;
	uv_timer_start(&rw->ka_timer, on_ka_timer, due > now ? due - now : 0,
		       0);
}

/* Pings what is due, closes what did not answer; returns the next
 * deadline of <d> (UINT64_MAX: none). */
static uint64_t ka_step(struct relay_worker *rw, struct relay_dest *d,
			uint64_t now)
{
	struct stls_dconn *c;

	if (!d->up || !d->ka_due)
		return UINT64_MAX;
	c = stls_dconn_table_get(&rw->w->table, d->conn_id);
	if (!c || c->state >= STLS_DCONN_CLOSING)
		return UINT64_MAX;
	if (d->pong_due && now >= d->pong_due) {
		STLS_INFO("relay: %s:%u: no keep-alive pong in %d s: closing",
			  d->host, d->req.port,
			  rw->r->rs->outbound_keepalive_timeout);
		relay_count(rw, STLS_RELAY_OUT_KEEPALIVE_FAILED);
		d->ka_due = d->pong_due = 0;
		stls_dconn_close(c, STLS_DCLOSE_KEEPALIVE);
		return UINT64_MAX;
	}
	if (!d->pong_due && now >= d->ka_due) {
		if (stls__relay_send_conn(c, "\r\n\r\n", 4) != 0)
			return UINT64_MAX;
		relay_count(rw, STLS_RELAY_OUT_PINGS);
		d->pong_due = now + (uint64_t)rw->r->rs
						   ->outbound_keepalive_timeout *
					   1000u;
	}
	return d->pong_due ? d->pong_due : d->ka_due;
}

static void on_ka_timer(uv_timer_t *t)
{
	struct relay_worker *rw = t->data;
	uint64_t now = uv_now(&rw->w->loop), next = UINT64_MAX, due;
	struct relay_dest *d;
	size_t b;

	for (b = 0; b < RELAY_DEST_BUCKETS; b++) {
		for (d = rw->dests[b]; d; d = d->next) {
			due = ka_step(rw, d, now);
			if (due < next)
				next = due;
		}
	}
	if (next != UINT64_MAX)
		ka_arm(rw, next);
}

size_t stls__relay_ka_pong(struct relay_worker *rw, struct stls_dconn *c,
			    const char *p, size_t n)
{
	struct relay_conn *rc = c->hstate;
	struct relay_dest *d = rc->dest;
	size_t used = 0;

	/* At a message boundary, CRLFs not followed by another CRLF are
	 * pongs (a CRLF CRLF would be a ping from the peer: the framer
	 * answers it). */
	if (rc->fr.hdr_len || rc->fr.scan)
		return 0;
	while (used + 2 <= n && p[used] == '\r' && p[used + 1] == '\n' &&
	       !(used + 4 <= n && p[used + 2] == '\r' &&
		 p[used + 3] == '\n'))
		used += 2;
	if (used && d->up && d->pong_due) {
		d->pong_due = 0;
		d->ka_due = uv_now(&rw->w->loop) + ka_interval(rw);
	}
	return used;
}

void stls__relay_ka_start(struct relay_worker *rw, struct relay_dest *d)
{
	d->pong_due = 0;
	d->ka_due = uv_now(&rw->w->loop) + ka_interval(rw);
	ka_arm(rw, d->ka_due);
}

/* The relay's worker part: the keep-alive timer closes with the
 * worker's other handles, while the loop still runs. */
static void part_stop(struct stls_worker *w)
{
	struct relay_worker *rw = relay_rw(w);

	if (rw && rw->ka_timer_ok &&
	    !uv_is_closing((uv_handle_t *)&rw->ka_timer))
		uv_close((uv_handle_t *)&rw->ka_timer, NULL);
}

const struct stls_worker_part stls__relay_ka_part = {
	.name = "relay-keepalive",
	.stop = part_stop,
};
