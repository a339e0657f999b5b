/*
 * syn_filter_cost: what the source filter ([core] source_filter,
 * daemon/runtime/synfilter.c) costs the kernel, per packet.
 *
 * Over loopback the receive path runs in the sender's context (softirq on
 * the way out of the send syscall), so the sender's CPU time per packet
 * includes the receiver's kernel work, the filter's run among it.
 *
 *  1. The program itself: UDP datagrams from 127.0.0.3 (IPv6: ::1) to a
 *     socket with no filter, then with programs of N entries that do not
 *     list the sender (a good source's packet: every comparison runs).
 *     The difference is the filter's cost on each SYN of a good source.
 *  2. A listed source's SYN: non-blocking connect() from 127.0.0.2 and
 *     close(), to a TCP listener whose filter lists 127.0.0.2 (the SYN is
 *     dropped) and, for scale, to a listener without a filter (SYN,
 *     SYN-ACK, the client's reset: no accept).
 *
 * Usage: syn_filter_cost [N_PACKETS]   (default 200000, bounded 10^7)
 * Prints one line per case: CPU ns per packet (thread CPU time; for the
 * datagrams, the best of ten rounds, as other load only adds).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/synfilter.h"

#define ROUNDS 10 /* datagrams: the best of ten rounds (noise is upward) */

static struct sock_filter prog[BPF_MAXINSNS];

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct sockaddr_in sin4(const char *ip, int port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &s.sin_addr);
	return s;
}

static int bound6(const char *ip, int *port)
{
	struct sockaddr_in6 s;
	socklen_t len = sizeof(s);
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &s.sin6_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&s, sizeof(s)) ||
	    getsockname(fd, (struct sockaddr *)&s, &len)) {
		perror("socket6");
		exit(1);
	}
	*port = ntohs(s.sin6_port);
	return fd;
}

static int bound(int type, const char *ip, int *port)
{
	struct sockaddr_in s = sin4(ip, 0);
	socklen_t len = sizeof(s);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&s, sizeof(s)) ||
	    getsockname(fd, (struct sockaddr *)&s, &len)) {
		perror("socket");
		exit(1);
	}
	*port = ntohs(s.sin_port);
	return fd;
}

/* A list of n entries of <family>, none of them 127.0.0.3; with <listed>
 * the last one is 127.0.0.2. Attached to fd (n 0: no filter). */
static void filter(int fd, int family, size_t n, const char *listed)
{
	static struct stls_synf_src s[STLS_SYNF_MAX_ENTRIES];
	struct stls_addr a;
	struct sock_fprog fp;
	size_t i;
	int len;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].family = (uint8_t)family;
		s[i].ip[0] = family == AF_INET ? 10 : 0x20;
		s[i].ip[1] = family == AF_INET ? 9 : 0x01;
		s[i].ip[2] = (uint8_t)(i >> 8);
		s[i].ip[3] = (uint8_t)i;
	}
	if (listed) {
		memset(&a, 0, sizeof(a));
		if (stls_addr_parse_ip(listed, &a) != 0)
			exit(1);
		stls_synf_src_of(&a, &s[n - 1]);
	}
	len = stls_synf_build(s, n, prog, BPF_MAXINSNS);
	fp.len = (unsigned short)len;
	fp.filter = prog;
	if (len <= 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp))) {
		fprintf(stderr, "attach %zu: %s\n", n, strerror(errno));
		exit(1);
	}
}

static void udp_case(const char *name, int family, size_t n, long count)
{
	int port, sport, rcv = 1 << 20, rfd, sfd;
	struct sockaddr_storage to;
	socklen_t tolen;
	char buf[64] = { 0 }, drain[64];
	double t0, spent = 0, best = 0;
	long i;

	memset(&to, 0, sizeof(to));
	if (family == AF_INET6) {
		struct sockaddr_in6 *t6 = (struct sockaddr_in6 *)&to;

		rfd = bound6("::1", &port);
		sfd = bound6("::1", &sport);
		t6->sin6_family = AF_INET6;
		t6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, "::1", &t6->sin6_addr);
		tolen = sizeof(*t6);
	} else {
		rfd = bound(SOCK_DGRAM, "127.0.0.1", &port);
		sfd = bound(SOCK_DGRAM, "127.0.0.3", &sport);
		*(struct sockaddr_in *)&to = sin4("127.0.0.1", port);
		tolen = sizeof(struct sockaddr_in);
	}
	setsockopt(rfd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	filter(rfd, family, n, NULL);
	for (i = 0; i < count; i++) {
		t0 = cpu_ns();
		if (sendto(sfd, buf, sizeof(buf), 0, (struct sockaddr *)&to,
			   tolen) < 0) {
			perror("sendto");
			exit(1);
		}
		spent += cpu_ns() - t0;
		if ((i + 1) % (count / ROUNDS) == 0) {
			if (best == 0 || spent < best)
				best = spent;
			spent = 0;
		}
		/* Drained outside the measure: the queue never fills. */
		if (recv(rfd, drain, sizeof(drain), MSG_DONTWAIT) < 0) {
			fprintf(stderr, "%s: datagram %ld filtered out\n", name,
				i);
			exit(1);
		}
	}
	printf("%-48s %8.0f ns per datagram\n", name,
	       best / (double)(count / ROUNDS));
	close(rfd);
	close(sfd);
}

static void syn_case(const char *name, bool listed, long count)
{
	int port, lfd = bound(SOCK_STREAM, "127.0.0.1", &port), fd, nb = 1;
	struct sockaddr_in from = sin4("127.0.0.2", 0),
			   to = sin4("127.0.0.1", port);
	double t0, spent = 0;
	long i;

	ioctl(lfd, FIONBIO, &nb);
	if (listen(lfd, 4096)) {
		perror("listen");
		exit(1);
	}
	if (listed)
		filter(lfd, AF_INET, 1, "127.0.0.2");
	for (i = 0; i < count; i++) {
		t0 = cpu_ns();
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
		/* The port is picked at connect: TIME_WAITs of earlier runs
		 * (other listener ports) do not slow the bind down. */
		if (fd < 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &nb,
			       sizeof(nb)) ||
		    bind(fd, (struct sockaddr *)&from, sizeof(from))) {
			perror("client socket");
			exit(1);
		}
		(void)connect(fd, (struct sockaddr *)&to, sizeof(to));
		close(fd);
		spent += cpu_ns() - t0;
		/* Unfiltered: empty the accept queue (not measured). */
		while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
			close(fd);
	}
	printf("%-48s %8.0f ns per attempt\n", name, spent / (double)count);
	close(lfd);
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 200000;
	static const size_t sizes[] = { 1, 64, 256, 1000 };
	char name[64];
	size_t i;

	if (count < 1000 || count > 10000000) {
		fprintf(stderr, "usage: syn_filter_cost [N 1000..10^7]\n");
		return 2;
	}
	udp_case("udp, no filter", AF_INET, 0, count);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "udp, %zu IPv4 entries, not listed",
			 sizes[i]);
		udp_case(name, AF_INET, sizes[i], count);
	}
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name),
			 "udp over IPv6, %zu /64 entries, not listed", sizes[i]);
		udp_case(name, AF_INET6, sizes[i], count);
	}
	udp_case("udp, no filter (again)", AF_INET, 0, count);
	udp_case("udp over IPv6, no filter", AF_INET6, 0, count);
	count = count / 10 > 10000 ? 10000 : count / 10;
	syn_case("tcp connect+close, source listed: SYN dropped", true, count);
	syn_case("tcp connect+close, listener without filter", false, count);
	return 0;
}
