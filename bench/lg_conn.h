/*
 * loadgen internals shared by lg_conn.c (one connection's state machine)
 * and lg_run.c (the epoll loop that owns all connections).
 */
#ifndef STLS_BENCH_LG_CONN_H
#define STLS_BENCH_LG_CONN_H

#include "lg.h"

#define RBUF_SIZE 8192
#define WBUF_SIZE (LG_MAX_PIPELINE * 512)
#define CLOSE_WAIT_S 1.0

enum cst { C_FREE, C_CONNECT, C_HANDSHAKE, C_EXCHANGE, C_CLOSING, C_IDLE };

struct eng;

struct conn {
	struct eng *e;
	int fd;
	SSL *ssl;
	enum cst st;
	int slot;
	unsigned lport;
	bool want_out; /* current epoll interest is EPOLLOUT */
	double t0;     /* operation start */
	double deadline;
	char rbuf[RBUF_SIZE];
	size_t rlen;
	char wbuf[WBUF_SIZE];
	size_t wlen;
	int inflight;
	uint64_t seq[LG_MAX_PIPELINE];
	double sent[LG_MAX_PIPELINE];
};

struct eng {
	const struct lg_opts *o;
	SSL_CTX *ctx;
	struct lg_stats *st;
	int ep;
	int n;              /* connection objects */
	struct conn *c;
	SSL_SESSION **sess; /* resume: one per slot */
	bool running;       /* still starting new operations */
	double t_stop;
	uint64_t next_seq;
	int live;           /* objects not C_FREE */
	int phase;          /* idle: 0 opening, 1 settling, 2 holding */
	lg_sample_fn *sample;
	void *sample_arg;
};

/* Releases the socket and SSL of <c>; the slot becomes C_FREE. */
void lg_conn_free(struct conn *c);

/* Counts an error with reason <what>, then frees <c>. */
void lg_conn_fail(struct conn *c, const char *what);

/* Sends close_notify and waits (at most 1 s) for the peer to close. */
void lg_conn_begin_close(struct conn *c);

/* Opens a non-blocking connection in slot <c>; -errno when it failed. */
int lg_conn_start(struct conn *c);

/* Persistent mode: queues requests while the pipeline and rate allow. */
void lg_conn_fill(struct conn *c, double now);

/* Writes queued requests and reads responses on an established <c>. */
void lg_conn_exchange(struct conn *c);

/* Advances <c> after epoll reported it ready. */
void lg_conn_drive(struct conn *c);

#endif
