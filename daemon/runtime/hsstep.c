/*
 * A connection's handshake steps on the handshake threads (see worker.h,
 * stls__hs_step_read(), and hsoff.h).
 *
 * One step at a time per connection, in read order: a step carries the
 * bytes of one read (or of the reads kept while the previous step was
 * out), the thread runs the transform's step() over them, and the
 * result comes back to the owning worker through its inbox (the MPSC
 * queue and its eventfd wake). Until then the connection is "busy"
 * (c->step_out): the worker calls no transform op on it, and its close,
 * whatever the reason, waits (c->close_waits).
 *
 * The step's own output, the handshake's flight, leaves from the thread
 * too (the transform's step_peek()): the thread writes it to the socket
 * right after the step, so that neither the write nor, on loopback, the
 * peer's receive work that the kernel runs inside it costs the worker
 * time at its higher priority. Only when the connection had nothing
 * queued for the socket at submission: while the step is out the worker
 * writes nothing to it, so the bytes stay in order. What the socket does
 * not take at once, the alert of a failed step, and what step_peek()
 * withholds (a client's output after its handshake) are sent by the
 * worker after step_done(), as before.
 *
 * Ownership: the step job (with its bytes) is the worker's until
 * submitted, the pool's while queued and running, and the worker's again
 * once posted back; the connection object outlives it (its free waits).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "runtime/dconn.h"
#include "runtime/hsoff.h"
#include "runtime/worker.h"
#include "stls/log.h"

struct step_job {
	struct stls_hsoff_job j;     /* first: the pool's view */
	struct stls_msg m;           /* back to the worker */
	struct stls_dconn *c;
	const struct stls_xform_ops *ops;
	void *x;
	enum stls_io io;
	unsigned widx;
	uint8_t *p;                  /* owned */
	size_t n;
	int fd;                      /* the socket, for the flight; -1: none */
	size_t sent;                 /* of it written by the thread */
};

#define JOB_OF_MSG(mp) \
	((struct step_job *)((char *)(mp) - offsetof(struct step_job, m)))

/* On a handshake thread: as much of the step's flight as the socket
 * takes now. An error is left for the worker's own write to meet. */
static size_t send_flight(struct step_job *s)
{
	const uint8_t *p;
	size_t n, sent = 0;
	ssize_t r;

	while ((n = s->ops->step_peek(s->x, &p)) > 0) {
		r = send(s->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		s->ops->consume(s->x, (size_t)r);
		sent += (size_t)r;
		if ((size_t)r < n)
			break;
	}
	return sent;
}

/* On a handshake thread. */
static void step_run(struct stls_hsoff_job *j)
{
	struct step_job *s = (struct step_job *)j;

	s->io = s->ops->step(s->x, s->p, s->n);
	if (s->fd >= 0 && s->io != STLS_IO_FAILED)
		s->sent = send_flight(s);
}

static void step_msg(struct stls_worker *w, struct stls_dconn *unused,
		     struct stls_msg *m, bool cancelled);

void stls__hs_step_back(void *arg, struct stls_hsoff_job *j)
{
	struct step_job *s = (struct step_job *)j;

	s->m.conn_id = 0; /* the job carries its connection itself */
	s->m.fn = step_msg;
	if (stls_daemon_post(arg, s->widx, &s->m) != 0)
		STLS_ERR("handshake step: no worker %u", s->widx);
}

/* The connection's reads go to the threads now: an inbound handshake,
 * while its worker has at least hs_offload_at in flight (below that the
 * hand-over's two thread switches cost more than the step delays the
 * worker's other connections), and with no read of it held for a later
 * turn (listen.c stls__hs_turn_take(): below the threshold the worker
 * holds reads past its turn budget; a read handed over ahead of them
 * would run the engine on a thread while the held bytes are fed to it
 * here, out of order). The held bytes are served first, and the reads
 * behind them are held too, so a connection goes back to the threads
 * only once its hold is empty. */
static bool offloads(const struct stls_dconn *c)
{
	return c->w->d->hsoff && c->kind == STLS_DCONN_INBOUND &&
	       c->state == STLS_DCONN_HANDSHAKING && c->xform.ops &&
	       c->xform.ops->step && c->xform.ops->step_done &&
	       !c->hs_hold && c->w->n_hs >= c->w->d->o.hs_offload_at;
}

/* Hands <p, n> (taken) to the threads as c's next step. */
static void submit(struct stls_dconn *c, uint8_t *p, size_t n)
{
	struct stls_worker *w = c->w;
	struct step_job *s = calloc(1, sizeof(*s));
	uv_os_fd_t fd;

	if (!s) {
		free(p);
		stls_dconn_close(c, STLS_DCLOSE_TRANSFORM);
		return;
	}
	s->j.run = step_run;
	s->c = c;
	s->ops = c->xform.ops;
	s->x = c->xform.x;
	s->widx = w->idx;
	s->p = p;
	s->n = n;
	s->fd = -1;
	if (s->ops->step_peek && c->pending == 0 &&
	    uv_fileno((const uv_handle_t *)&c->tcp, &fd) == 0)
		s->fd = fd;
	c->step_out = true;
	stls_stats_add(&w->stats, STLS_STAT_HS_OFFLOADED, 1);
	stls_stats_steps_out(&w->stats, 1);
	stls_hsoff_submit(w->d->hsoff, &s->j);
}

/*
 * Keeps a read that came while c's step is out. From STLS_HS_HOLD_MAX
 * kept bytes on, c stops reading until the step is back (TCP holds the
 * rest): a client may send its first requests right behind its Finished,
 * a whole burst of them, before the step over that Finished returns.
 */
static void keep(struct stls_dconn *c, const uint8_t *p, size_t n)
{
	uint8_t *v = realloc(c->step_buf, c->step_len + n);

	if (!v) {
		stls_dconn_close(c, STLS_DCLOSE_OVERFLOW);
		return;
	}
	memcpy(v + c->step_len, p, n);
	c->step_buf = v;
	c->step_len += n;
	if (c->step_len >= STLS_HS_HOLD_MAX &&
	    !(c->pause & STLS_PAUSE_STEP)) {
		stls_stats_add(&c->w->stats, STLS_STAT_HS_STEP_PAUSED, 1);
		stls__dconn_pause(c, STLS_PAUSE_STEP);
	}
}

bool stls__hs_step_read(struct stls_dconn *c, const uint8_t *p, size_t n)
{
	uint8_t *copy;

	if (c->step_out) {
		keep(c, p, n);
		return true;
	}
	if (!offloads(c))
		return false;
	copy = malloc(n);
	if (!copy)
		return false; /* served here, at once */
	memcpy(copy, p, n);
	submit(c, copy, n);
	return true;
}

/* The kept reads, after a step came back: on to the next step, or to
 * the transform once the handshake is done; reading goes on. */
static void send_kept(struct stls_dconn *c)
{
	uint8_t *p = c->step_buf;
	size_t n = c->step_len;

	c->step_buf = NULL;
	c->step_len = 0;
	if (c->state < STLS_DCONN_CLOSING)
		stls__dconn_resume(c, STLS_PAUSE_STEP);
	if (!p)
		return;
	if (c->state < STLS_DCONN_CLOSING && offloads(c)) {
		submit(c, p, n);
		return;
	}
	stls__dconn_input(c, p, n);
	free(p);
}

/* On the owning worker: a step is back. */
static void step_msg(struct stls_worker *w, struct stls_dconn *unused,
		     struct stls_msg *m, bool cancelled)
{
	struct step_job *s = JOB_OF_MSG(m);
	struct stls_dconn *c = s->c;

	(void)unused;
	free(s->p);
	if (cancelled) {
		/* The loop is gone: nothing of c may run any more. */
		free(s);
		return;
	}
	c->step_out = false;
	stls_stats_steps_out(&w->stats, -1);
	if (s->sent) {
		stls__dconn_sent(c, s->sent);
		stls_stats_add(&w->stats, STLS_STAT_HS_FLIGHTS_DIRECT, 1);
	}
	if (c->state >= STLS_DCONN_CLOSING) {
		/* Closed meanwhile (the peer's EOF may come right behind its
		 * last handshake bytes): what the step did is counted as an
		 * inline feed() would have counted it, nothing more is done
		 * with it; the close goes on where it stopped. */
		(void)s->ops->step_done(s->x, s->io);
		free(s);
		if (c->close_waits) {
			c->close_waits = false;
			stls__dconn_finish_close(c);
		}
		return;
	}
	stls__dconn_fed(c, s->ops->step_done(s->x, s->io));
	free(s);
	/* Output the handler made while the step was out. */
	if (c->state < STLS_DCONN_CLOSING && c->held_len && !c->flush_pprev)
		stls__worker_defer_flush(w, c);
	send_kept(c);
}
