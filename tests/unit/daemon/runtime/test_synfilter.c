/*
 * Unit tests for daemon/runtime/synfilter.c: programs built from a list
 * are attached to real loopback listeners and judged by what the kernel
 * does with real connects (a listed source's non-blocking connect is
 * still in progress after 300 ms, any other completes); the IPv6 /64
 * compare; a dual-stack listener; the inheritance of the listener's
 * filter by accepted sockets, and taking it off; the list's hold time,
 * bound and generations.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/synfilter.h"

#define BLOCKED_MS 300

static struct stls_addr ip(const char *text)
{
	struct stls_addr a;

	memset(&a, 0, sizeof(a));
	CHECK_OK(stls_addr_parse_ip(text, &a));
	return a;
}

static struct stls_synf_src src(const char *text)
{
	struct stls_addr a = ip(text);
	struct stls_synf_src s;

	stls_synf_src_of(&a, &s);
	return s;
}

static socklen_t sa_of(const char *text, int port,
		       struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		CHECK_EQ(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		CHECK_EQ(inet_pton(AF_INET, text, &s4->sin_addr), 1);
		return sizeof(*s4);
	}
}

/* A listener on <addr>:0 (v6only as given); *port gets its port. */
static int listener(const char *addr, int v6only, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sa_of(addr, 0, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;

	CHECK(fd >= 0);
	if (ss.ss_family == AF_INET6)
		CHECK_OK(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
				    sizeof(v6only)));
	CHECK_OK(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)));
	CHECK_OK(bind(fd, (struct sockaddr *)&ss, len));
	CHECK_OK(listen(fd, 64));
	len = sizeof(ss);
	CHECK_OK(getsockname(fd, (struct sockaddr *)&ss, &len));
	*port = ntohs(ss.ss_family == AF_INET
			      ? ((struct sockaddr_in *)&ss)->sin_port
			      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/*
 * A non-blocking connect from <from> to <to>:<port>: 1 when it completed
 * within <ms>, 0 when it is still in progress (no SYN-ACK came), or
 * -errno. *out keeps the socket (closed by the caller).
 */
static int connect_from(const char *from, const char *to, int port, int ms,
			int *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sa_of(from, 0, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0), soerr = 0;
	struct pollfd p;
	socklen_t el = sizeof(soerr);

	CHECK(fd >= 0);
	*out = fd;
	CHECK_OK(bind(fd, (struct sockaddr *)&ss, len));
	len = sa_of(to, port, &ss);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return 1;
	if (errno != EINPROGRESS)
		return -errno;
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, ms) == 0)
		return 0;
	CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el));
	return soerr ? -soerr : 1;
}

static int attach(int fd, const struct stls_synf_src *s, size_t n)
{
	static struct sock_filter prog[BPF_MAXINSNS];
	struct sock_fprog fp;
	int len = stls_synf_build(s, n, prog, BPF_MAXINSNS);

	CHECK(len > 0);
	fp.len = (unsigned short)len;
	fp.filter = prog;
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) ?
		       -errno : len;
}

/* One connect from <from>: completed (and accepted) or blocked. */
static bool gets_through(int lfd, const char *from, const char *to, int port)
{
	int c, r = connect_from(from, to, port, BLOCKED_MS, &c), a;

	CHECK(r >= 0);
	if (r == 1) {
		a = accept(lfd, NULL, NULL);
		CHECK(a >= 0);
		close(a);
	}
	close(c);
	return r == 1;
}

static bool have_ipv6_loopback(void)
{
	int port, fd;
	struct sockaddr_storage ss;
	socklen_t len = sa_of("::1", 0, &ss);

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	port = bind(fd, (struct sockaddr *)&ss, len);
	close(fd);
	return port == 0;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

TEST(synf_empty_list_accepts_all)
{
	struct sock_filter prog[4];

	CHECK_EQ(stls_synf_build(NULL, 0, prog, 4), 1);
	CHECK_EQ(prog[0].code, BPF_RET | BPF_K);
	CHECK_EQ(prog[0].k, 0xffffffffu);
}

TEST(synf_program_bounded)
{
	static struct stls_synf_src s[STLS_SYNF_MAX_ENTRIES];
	static struct sock_filter prog[BPF_MAXINSNS];
	size_t i;

	CHECK(stls_synf_worst_len(STLS_SYNF_MAX_ENTRIES) <= BPF_MAXINSNS);
	for (i = 0; i < STLS_SYNF_MAX_ENTRIES; i++) {
		s[i].family = AF_INET6;
		s[i].ip[0] = 0x20;
		s[i].ip[6] = (uint8_t)(i >> 8);
		s[i].ip[7] = (uint8_t)i;
	}
	CHECK_EQ(stls_synf_build(s, STLS_SYNF_MAX_ENTRIES, prog,
				 BPF_MAXINSNS),
		 (int)stls_synf_worst_len(STLS_SYNF_MAX_ENTRIES));
	CHECK_EQ(stls_synf_build(s, 10, prog, 20), -E2BIG);
}

/* The brief's case: 127.0.0.2 listed cannot complete a connect, 127.0.0.3
 * can. */
TEST(synf_blocks_listed_ipv4_source)
{
	struct stls_synf_src s = src("127.0.0.2");
	int port, lfd = listener("127.0.0.1", 0, &port);

	CHECK(gets_through(lfd, "127.0.0.2", "127.0.0.1", port));
	CHECK(attach(lfd, &s, 1) > 0);
	CHECK(!gets_through(lfd, "127.0.0.2", "127.0.0.1", port));
	CHECK(gets_through(lfd, "127.0.0.3", "127.0.0.1", port));
	close(lfd);
}

/* Several chunks (250 addresses each): the first, a middle and the last
 * entry are blocked, an address not listed is not. */
TEST(synf_many_ipv4_entries)
{
	static struct stls_synf_src s[700];
	char text[32];
	size_t i;
	int port, lfd = listener("127.0.0.1", 0, &port);

	for (i = 0; i < 700; i++) {
		snprintf(text, sizeof(text), "127.1.%zu.%zu", i / 250, i % 250);
		s[i] = src(text);
	}
	s[0] = src("127.0.0.4");
	s[400] = src("127.0.0.5");
	s[699] = src("127.0.0.6");
	CHECK(attach(lfd, s, 700) > 0);
	CHECK(!gets_through(lfd, "127.0.0.4", "127.0.0.1", port));
	CHECK(!gets_through(lfd, "127.0.0.5", "127.0.0.1", port));
	CHECK(!gets_through(lfd, "127.0.0.6", "127.0.0.1", port));
	CHECK(gets_through(lfd, "127.0.0.7", "127.0.0.1", port));
	close(lfd);
}

/* IPv6 /64: there is one IPv6 loopback address, so ::1's own /64
 * (::/64) listed blocks it, and lists without it (one sharing its first
 * word but not its second, and many others over several chunks) let it
 * through. */
TEST(synf_ipv6_prefix)
{
	static struct stls_synf_src s[200];
	size_t i;
	int port, lfd;

	if (!have_ipv6_loopback())
		test_skip("no ::1 on this machine");
	lfd = listener("::1", 1, &port);
	s[0] = src("0:0:0:1::1"); /* same first word as ::1, not second */
	for (i = 1; i < 200; i++) {
		s[i] = src("2001:db8::1");
		s[i].ip[7] = (uint8_t)i;
	}
	CHECK(attach(lfd, s, 200) > 0);
	CHECK(gets_through(lfd, "::1", "::1", port));
	s[150] = src("::1"); /* the /64 is ::/64: any host part */
	CHECK(attach(lfd, s, 200) > 0);
	CHECK(!gets_through(lfd, "::1", "::1", port));
	close(lfd);
}

/* A dual-stack listener sees IPv4 packets: the version decides which
 * addresses are compared (an IPv6 /64 whose first bytes are 127.0.0.2's
 * must not block it). */
TEST(synf_dual_stack_listener)
{
	struct stls_synf_src s[2];
	int port, lfd;

	if (!have_ipv6_loopback())
		test_skip("no ::1 on this machine");
	lfd = listener("::", 0, &port);
	s[0] = src("7f00:2::"); /* 127.0.0.2 as an IPv6 prefix's bytes */
	CHECK(attach(lfd, s, 1) > 0);
	CHECK(gets_through(lfd, "127.0.0.2", "127.0.0.1", port));
	s[1] = src("127.0.0.2");
	CHECK(attach(lfd, s, 2) > 0);
	CHECK(!gets_through(lfd, "127.0.0.2", "127.0.0.1", port));
	CHECK(gets_through(lfd, "127.0.0.3", "127.0.0.1", port));
	CHECK(gets_through(lfd, "::1", "::1", port));
	close(lfd);
}

static int filter_len(int fd)
{
	socklen_t len = 0;

	/* SO_GET_FILTER with no room: the length in instructions. */
	CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &len));
	return (int)len;
}

/*
 * Linux copies the listener's filter into the accepted socket (at the
 * clone): every packet of the connection would run it. Detaching takes
 * it off; its cost is measured (printed, not asserted).
 */
TEST(synf_accepted_socket_inherits_filter)
{
	struct stls_synf_src s[64];
	int port, lfd = listener("127.0.0.1", 0, &port), c, a, i, len;
	double t, spent = 0;
	size_t k;

	for (k = 0; k < 64; k++) {
		s[k] = src("127.2.0.0");
		s[k].ip[3] = (uint8_t)k;
	}
	len = attach(lfd, s, 64);
	CHECK(len > 0);
	CHECK_EQ(filter_len(lfd), len);
	for (i = 0; i < 100; i++) {
		CHECK_EQ(connect_from("127.0.0.3", "127.0.0.1", port, 2000, &c),
			 1);
		a = accept(lfd, NULL, NULL);
		CHECK(a >= 0);
		CHECK_EQ(filter_len(a), len); /* inherited */
		t = now_us();
		CHECK_OK(stls_synfilter_detach(a));
		spent += now_us() - t;
		CHECK_EQ(filter_len(a), 0);
		CHECK_OK(stls_synfilter_detach(a)); /* none: not an error */
		close(a);
		close(c);
	}
	fprintf(stderr, "  SO_DETACH_FILTER on an accepted socket: %.2f us "
		"(mean of 100)\n", spent / 100);
	close(lfd);
}

/* The biggest program the list allows fits the kernel's charge on the
 * listener and on each accepted socket (a failed charge at the clone
 * would drop the connection). */
TEST(synf_biggest_program_attaches_and_clones)
{
	int err, port, lfd = listener("127.0.0.1", 0, &port), c, a;
	struct stls_synfilter *f =
		stls_synfilter_new(STLS_SYNF_MAX_ENTRIES, 60000, &err);
	struct stls_addr p = ip("2001:db8::1");
	uint64_t gen, wait, at = 0;
	size_t i, max;

	CHECK_NOT_NULL(f);
	max = stls_synfilter_max(f);
	CHECK(max >= 100);
	for (i = 0; i < max; i++) {
		p.ip[6] = (uint8_t)(i >> 8);
		p.ip[7] = (uint8_t)i;
		CHECK_EQ(stls_synfilter_add(f, &p, 1000), 1);
	}
	CHECK_EQ(stls_synfilter_add(f, &p, 1000), 0);
	p.ip[5] = 1;
	CHECK_EQ(stls_synfilter_add(f, &p, 1000), -ENOSPC);
	CHECK_EQ(stls_synfilter_update(f, 1000, &gen, &wait), 1);
	CHECK_OK(stls_synfilter_attach(f, lfd, &at));
	CHECK_EQ(at, gen);
	CHECK_EQ(filter_len(lfd), (int)stls_synf_worst_len(max));
	CHECK_EQ(connect_from("127.0.0.3", "127.0.0.1", port, 2000, &c), 1);
	a = accept(lfd, NULL, NULL);
	CHECK(a >= 0);
	CHECK_EQ(filter_len(a), (int)stls_synf_worst_len(max));
	close(a);
	close(c);
	stls_synfilter_free(f);
	close(lfd);
}

/* The list: a source held for the hold time, the program rebuilt at most
 * every STLS_SYNF_GAP_MS, generations the workers follow, the filter off
 * the listener once the list is empty. */
TEST(synf_list_hold_and_rebuild_gap)
{
	int err, port, lfd = listener("127.0.0.1", 0, &port);
	struct stls_synfilter *f = stls_synfilter_new(8, 1000, &err);
	struct stls_addr a = ip("127.0.0.2"), b = ip("127.0.0.3");
	uint64_t gen, wait, at = 0;

	CHECK_NOT_NULL(f);
	CHECK_NULL(stls_synfilter_new(0, 1000, &err));
	CHECK_EQ(err, -EINVAL);
	CHECK_EQ(stls_synfilter_update(f, 5000, &gen, &wait), 0);
	CHECK_EQ(gen, 0);
	CHECK_EQ(wait, 0); /* nothing pending */
	CHECK_EQ(stls_synfilter_add(f, &a, 5000), 1);
	CHECK_EQ(stls_synfilter_update(f, 5000, &gen, &wait), 1);
	CHECK_EQ(gen, 1);
	CHECK_EQ(wait, 1000); /* a's hold ends */
	CHECK_OK(stls_synfilter_attach(f, lfd, &at));
	CHECK(!gets_through(lfd, "127.0.0.2", "127.0.0.1", port));
	/* b 10 ms later: the next build waits for the gap. */
	CHECK_EQ(stls_synfilter_add(f, &b, 5010), 1);
	CHECK_EQ(stls_synfilter_update(f, 5010, &gen, &wait), 0);
	CHECK_EQ(gen, 1);
	CHECK_EQ(wait, STLS_SYNF_GAP_MS - 10);
	CHECK_EQ(stls_synfilter_update(f, 5000 + STLS_SYNF_GAP_MS, &gen,
					&wait), 1);
	CHECK_EQ(gen, 2);
	CHECK_EQ(stls_synfilter_count(f), 2);
	/* a's hold ends at 6000, b's at 6010. */
	CHECK_EQ(stls_synfilter_update(f, 6000, &gen, &wait), 1);
	CHECK_EQ(stls_synfilter_count(f), 1);
	CHECK_OK(stls_synfilter_attach(f, lfd, &at));
	CHECK_EQ(at, 3);
	CHECK(gets_through(lfd, "127.0.0.2", "127.0.0.1", port));
	CHECK(!gets_through(lfd, "127.0.0.3", "127.0.0.1", port));
	CHECK_EQ(stls_synfilter_update(f, 6010, &gen, &wait), 0);
	CHECK_EQ(wait, STLS_SYNF_GAP_MS - 10);
	CHECK_EQ(stls_synfilter_update(f, 6100, &gen, &wait), 1);
	CHECK_EQ(stls_synfilter_count(f), 0);
	CHECK_EQ(wait, 0);
	CHECK_OK(stls_synfilter_attach(f, lfd, &at));
	CHECK_EQ(filter_len(lfd), 0); /* empty: taken off */
	CHECK(gets_through(lfd, "127.0.0.3", "127.0.0.1", port));
	stls_synfilter_free(f);
	close(lfd);
}
