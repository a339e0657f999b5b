/*
 * Tests of daemon/ctl/ctl_collect.c: the control thread asks the workers about
 * their connections through their queues and waits a bounded time; late
 * answers must not touch freed memory. Threaded: also run under TSan.
 */
/* ctest-label: tsan */
#include "daemon/ctl/ctl_fixture.h"

#include <pthread.h>

/* Local port of a client socket = src_port the daemon sees. */
static uint16_t local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	CHECK_OK(getsockname(fd, (struct sockaddr *)&sin, &len));
	return ntohs(sin.sin_port);
}

/* Every TLS connection of every worker is listed; plain ones are not. */
TEST(collect_lists_tls_connections_of_every_worker)
{
	struct cf f;
	struct stls__ctl_entry *v = NULL;
	int fds[6], plain;
	size_t n = 0, i, j, matched = 0;

	cf_init(&f, 2, NULL);
	for (i = 0; i < 6; i++)
		fds[i] = cf_connect_tls(&f);
	plain = dh_connect(stls_daemon_bound(f.h.d, 1));
	dh_echo(plain, "ping");
	CHECK_OK(stls__ctl_collect(f.h.d, 2000, &v, &n));
	CHECK_EQ(n, 6);
	for (i = 0; i < n; i++) {
		CHECK(i == 0 || v[i - 1].id < v[i].id);
		CHECK_STR_EQ(v[i].info.state, "established");
		CHECK_EQ(v[i].kind, STLS_DCONN_INBOUND);
		CHECK_EQ(v[i].timeout, -1); /* harness: idle never */
		CHECK_EQ(v[i].local.port, stls_daemon_bound(f.h.d, 0)->port);
		for (j = 0; j < 6; j++)
			matched += v[i].peer.port == local_port(fds[j]);
	}
	CHECK_EQ(matched, 6);
	free(v);
	for (i = 0; i < 6; i++)
		close(fds[i]);
	close(plain);
	cf_fini(&f);
}

TEST(collect_with_no_connections_is_empty)
{
	struct cf f;
	struct stls__ctl_entry *v = NULL;
	size_t n = 5;

	cf_init(&f, 2, NULL);
	CHECK_OK(stls__ctl_collect(f.h.d, 2000, &v, &n));
	CHECK_EQ(n, 0);
	free(v);
	cf_fini(&f);
}

/* tls.kill closes exactly one connection; the others go on. */
TEST(kill_closes_one_connection)
{
	struct cf f;
	struct stls__ctl_entry *v = NULL;
	char buf[64];
	int a, b;
	size_t n = 0;
	ssize_t r;
	uint64_t id_a;

	cf_init(&f, 2, NULL);
	a = cf_connect_tls(&f);
	b = cf_connect_tls(&f);
	CHECK_OK(stls__ctl_collect(f.h.d, 2000, &v, &n));
	CHECK_EQ(n, 2);
	id_a = v[0].peer.port == local_port(a) ? v[0].id : v[1].id;
	free(v);
	CHECK_OK(stls__ctl_kill(f.h.d, id_a, 2000));
	/* The toy transform's close_notify, then end of stream. */
	do {
		r = recv(a, buf, sizeof(buf), 0);
	} while (r > 0);
	CHECK_EQ(r, 0);
	dh_send_all(b, "abc", 3);
	CHECK_EQ(dh_recv_n(b, buf, 3), 3);
	CHECK(memcmp(buf, "ABC", 3) == 0);
	CHECK_EQ(stls__ctl_kill(f.h.d, id_a, 2000), -ENOENT);
	CHECK_EQ(stls__ctl_kill(f.h.d, 0, 2000), -ENOENT);
	CHECK_EQ(stls__ctl_kill(f.h.d, (uint64_t)77 << 56, 2000), -ENOENT);
	close(a);
	close(b);
	cf_fini(&f);
}

struct stall {
	struct stls_msg m;
	int ms;
};

static void on_stall(struct stls_worker *w, struct stls_dconn *c,
		     struct stls_msg *m, bool cancelled)
{
	struct stall *s = (struct stall *)m;

	(void)w;
	(void)c;
	if (!cancelled)
		dh_sleep_ms(s->ms);
	free(s);
}

static void stall_worker(struct cf *f, unsigned widx, int ms)
{
	struct stall *s = calloc(1, sizeof(*s));

	CHECK_NOT_NULL(s);
	s->m.fn = on_stall;
	s->ms = ms;
	CHECK_OK(stls_daemon_post(f->h.d, widx, &s->m));
}

/* A busy worker makes the control thread give up, not hang; its late
 * answer is dropped safely (ASan/TSan check the memory). */
TEST(collect_times_out_on_a_busy_worker)
{
	struct cf f;
	struct stls__ctl_entry *v = NULL;
	size_t n = 0;
	uint64_t t0;

	cf_init(&f, 2, NULL);
	stall_worker(&f, 1, 600);
	t0 = dh_now_ms();
	CHECK_EQ(stls__ctl_collect(f.h.d, 150, &v, &n), -ETIMEDOUT);
	CHECK(dh_now_ms() - t0 < 550);
	CHECK_NULL(v);
	dh_sleep_ms(700);
	CHECK_OK(stls__ctl_collect(f.h.d, 2000, &v, &n));
	free(v);
	cf_fini(&f);
}

struct churn {
	struct cf *f;
	atomic_bool stop;
	atomic_int rounds;
};

static void *churn_clients(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load(&c->stop) && atomic_load(&c->rounds) < 400) {
		int fd = cf_connect_tls(c->f);

		close(fd);
		atomic_fetch_add(&c->rounds, 1);
	}
	return NULL;
}

/* Lists while connections come and go on the workers (TSan target). */
TEST(collect_while_connections_churn)
{
	struct cf f;
	struct churn ch;
	pthread_t t;
	struct stls__ctl_entry *v;
	size_t n, i;
	uint64_t t0;

	cf_init(&f, 2, NULL);
	memset(&ch, 0, sizeof(ch));
	ch.f = &f;
	CHECK_OK(pthread_create(&t, NULL, churn_clients, &ch));
	/* At least 100 lists, and on a busy machine until the churn thread
	 * has opened 20 connections meanwhile (bounded: 30 s). */
	t0 = dh_now_ms();
	for (i = 0; i < 100 || (atomic_load(&ch.rounds) < 20 &&
				dh_now_ms() - t0 < 30000);
	     i++) {
		v = NULL;
		CHECK_OK(stls__ctl_collect(f.h.d, 2000, &v, &n));
		free(v);
	}
	atomic_store(&ch.stop, true);
	pthread_join(t, NULL);
	CHECK(atomic_load(&ch.rounds) > 0);
	cf_fini(&f);
}
