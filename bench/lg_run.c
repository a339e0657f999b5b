/*
 * loadgen's loop: one epoll instance for every connection; starts
 * operations in free slots while the run is on, applies timeouts, and ends
 * the run on time, on count, or (idle mode) after open, settle and hold.
 */
#include "lg_conn.h"
#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static void check_timeouts(struct eng *e, double now)
{
	int i;

	for (i = 0; i < e->n; i++) {
		struct conn *c = &e->c[i];

		switch (c->st) {
		case C_CONNECT:
		case C_HANDSHAKE:
			if (now > c->deadline) {
				lg_conn_fail(c, "timeout (connect or "
						"handshake)");
			}
			break;
		case C_EXCHANGE:
			if (c->inflight > 0 &&
			    now - c->sent[0] > e->o->timeout) {
				e->st->errors += c->inflight - 1;
				lg_conn_fail(c, "timeout (no response)");
			}
			break;
		case C_CLOSING:
			if (now > c->deadline) {
				lg_conn_free(c);
			}
			break;
		case C_IDLE:
		case C_FREE:
			break;
		}
	}
}

/* Starts connections in free slots while the run is on. */
static void refill(struct eng *e, double now)
{
	const struct lg_opts *o = e->o;
	int i, opening = 0;

	if (o->mode == LG_IDLE) {
		for (i = 0; i < e->n; i++) {
			opening += e->c[i].st == C_CONNECT ||
				   e->c[i].st == C_HANDSHAKE;
		}
	}
	for (i = 0; i < e->n && e->running; i++) {
		struct conn *c = &e->c[i];

		if (o->mode == LG_PERSISTENT && c->st == C_EXCHANGE) {
			lg_conn_fill(c, now);
			if (c->wlen > 0) {
				lg_conn_exchange(c);
			}
			continue;
		}
		if (c->st != C_FREE) {
			continue;
		}
		if (o->mode == LG_IDLE) {
			if (e->st->started >= o->conc ||
			    opening >= o->parallel) {
				continue;
			}
			opening++;
		} else if (o->mode == LG_PERSISTENT) {
			if (e->st->errors >= o->count) {
				continue;
			}
		} else if (e->st->started >= o->count ||
			   (o->rate > 0 && (double)e->st->started >=
			    (now - e->st->t_start) * o->rate)) {
			/* -r in the other modes: operations started a
			 * second, at most. */
			continue;
		}
		if (o->mode != LG_PERSISTENT) {
			e->st->started++;
		}
		(void)lg_conn_start(c);
	}
}

/* Idle mode: open, settle 1 s, sample, hold; false when over. */
static bool idle_phase(struct eng *e, double now)
{
	int i;

	if (e->phase == 0 && (now >= e->t_stop ||
			      e->st->ops + e->st->errors >= e->o->conc)) {
		e->phase = 1;
		e->running = false;
		e->st->t_end = now;
		e->t_stop = now + 1.0;
	} else if (e->phase == 1 && now >= e->t_stop) {
		for (i = 0; i < e->n; i++) {
			e->st->up += e->c[i].st == C_IDLE;
		}
		if (e->sample) {
			e->sample(e->sample_arg, e->st);
		}
		e->st->up = 0;
		e->phase = 2;
		e->t_stop = now + e->o->hold;
	} else if (e->phase == 2 && now >= e->t_stop) {
		return false;
	}
	return true;
}

/* Decides when to stop starting work; returns false when the run is over. */
static bool keep_going(struct eng *e, double now)
{
	int i;

	if (e->o->mode == LG_IDLE) {
		return idle_phase(e, now);
	}
	/* A server that refuses everything would make a storm of errors. */
	if (e->running &&
	    (now >= e->t_stop || e->st->started >= e->o->count ||
	     (e->st->ops == 0 && e->st->errors >= 200))) {
		e->running = false;
		e->st->t_end = now;
		e->t_stop = now + e->o->timeout;
	}
	if (!e->running && e->o->mode == LG_PERSISTENT) {
		for (i = 0; i < e->n; i++) {
			if (e->c[i].st == C_EXCHANGE && e->c[i].inflight == 0) {
				lg_conn_begin_close(&e->c[i]);
			}
		}
	}
	return e->running || (e->live > 0 && now < e->t_stop);
}

static int eng_init(struct eng *e, const struct lg_opts *o, SSL_CTX *ctx,
		    struct lg_stats *st)
{
	int i;

	memset(e, 0, sizeof(*e));
	e->o = o;
	e->ctx = ctx;
	e->st = st;
	e->n = o->conc;
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	e->c = calloc((size_t)e->n, sizeof(*e->c));
	if (o->mode == LG_RESUME) {
		e->sess = calloc((size_t)e->n, sizeof(*e->sess));
	}
	if (e->ep < 0 || !e->c || (o->mode == LG_RESUME && !e->sess)) {
		return -ENOMEM;
	}
	for (i = 0; i < e->n; i++) {
		e->c[i].e = e;
		e->c[i].fd = -1;
		e->c[i].slot = i;
	}
	return 0;
}

static void eng_fini(struct eng *e)
{
	int i;

	for (i = 0; e->c && i < e->n; i++) {
		if (e->c[i].st == C_IDLE) {
			e->st->up++;
		}
		if (e->c[i].ssl && e->c[i].st != C_CLOSING) {
			SSL_shutdown(e->c[i].ssl);
		}
		lg_conn_free(&e->c[i]);
	}
	for (i = 0; e->sess && i < e->n; i++) {
		SSL_SESSION_free(e->sess[i]);
	}
	free(e->sess);
	free(e->c);
	if (e->ep >= 0) {
		close(e->ep);
	}
	ERR_clear_error();
}

int lg_run(const struct lg_opts *o, SSL_CTX *ctx, struct lg_stats *st,
	   lg_sample_fn *sample, void *sample_arg)
{
	struct epoll_event ev[256];
	double now, last_scan = 0;
	struct eng e;
	int err, n, i;

	err = eng_init(&e, o, ctx, st);
	if (err) {
		eng_fini(&e);
		return err;
	}
	e.running = true;
	e.sample = sample;
	e.sample_arg = sample_arg;
	st->t_start = bench_now();
	e.t_stop = st->t_start + o->duration;
	for (now = st->t_start; keep_going(&e, now);
	     now = bench_now()) {
		if (e.running) {
			refill(&e, now);
		}
		n = epoll_wait(e.ep, ev, 256, o->rate > 0 ? 1 : 10);
		for (i = 0; i < n; i++) {
			lg_conn_drive(ev[i].data.ptr);
		}
		now = bench_now();
		if (now - last_scan > 0.05) {
			check_timeouts(&e, now);
			last_scan = now;
		}
	}
	if (st->t_end == 0) {
		st->t_end = bench_now();
	}
	st->up = 0;
	eng_fini(&e);
	return 0;
}
