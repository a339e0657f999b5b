/*
 * scenario: SIP-over-TLS scenarios as operators meet them, against a TLS
 * edge (siptlsd, Kamailio, HAProxy) in front of bench/sip_proxy (a
 * registrar and stateless proxy) or bench/echo_backend (200 to all).
 *
 * Phases, each bounded in time and count:
 *
 *   storm  N phones connect at once (every connect issued in one go; the
 *          kernel's backlog and SYN retries do the queueing), each does a
 *          full TLS 1.3 handshake and a REGISTER that must be answered
 *          200, then stays connected and idle. With --rate R the phones
 *          connect R a second instead (a ramp: an edge that cannot take a
 *          storm can still be given all N phones for the busy hour, so
 *          that edges are compared at equal phone counts; the time until
 *          all are registered then includes the ramp). Reports the time until all
 *          are registered, failures, server CPU per registration and the
 *          server's memory per registered phone (Pss, then RSS).
 *   busy   for --busy S seconds: every phone refreshes its REGISTER every
 *          --reg-interval s (60) and sends a CRLF keep-alive every
 *          --ka-interval s (30), each at a random phase; and --calls C
 *          calls a second between random pairs of phones: INVITE, 100,
 *          180, 200, ACK, then BYE after --call-hold s, and its 200, every
 *          one relayed edge -> backend -> edge -> the other phone.
 *          Reports server CPU %, latency p50/p99/p999 per relayed message
 *          (send at one phone to receipt at the other: one process, one
 *          clock), messages lost (not received --drain s after the end),
 *          REGISTER refresh latency and keep-alive pongs missing.
 *
 * Latency is reported twice: "at arrival" ends when the TLS record
 * holding the message was complete in the receiving phone's socket (the
 * kernel's receive timestamp, SO_TIMESTAMPNS, read through a socket BIO of
 * our own), "at read" when this process got to it. Their difference is
 * this driver's own scheduling delay (one thread for all phones, on the
 * machine's CPUs with the server): it is not the edge's. Send times are
 * taken just before each write. The periodic work (refreshes,
 * keep-alives, BYEs) visits only what is due: phones in the order of
 * their phase, calls in the order of their BYE.
 *
 * Server CPU and memory come from /proc (--server-pid: the whole process
 * tree), as in loadgen. One human summary, then RESULT key=value lines.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define RBUF 16384
#define MSG 2048

enum pst { P_NONE, P_CONNECT, P_HANDSHAKE, P_UP, P_FAILED };

/* The relayed messages of a call, in order. */
enum kind { K_INVITE, K_100, K_180, K_200, K_ACK, K_BYE, K_BYE200,
	    K__COUNT };
static const char *const kind_names[K__COUNT] = {
	"INVITE", "100", "180", "200", "ACK", "BYE", "BYE-200"
};

struct phone {
	int idx, fd;
	SSL *ssl;
	enum pst st;
	bool want_out;
	bool registered;
	unsigned lport;
	double t_reg_sent;  /* 0: no REGISTER outstanding */
	unsigned reg_cseq;
	double next_reg, next_ka, t_ka_sent;
	char *obuf;
	size_t olen, ocap;
	double rx_arrival; /* kernel receive time of the last bytes read (0:
			    * none): CLOCK_MONOTONIC seconds */
	bool rx_eof;
	char rbuf[RBUF];
	size_t rlen;
};

struct call {
	int a, b;
	double t[K__COUNT];  /* sent; 0: not sent */
	bool got[K__COUNT];
	double bye_at;       /* A sends BYE then; 0: not yet due */
};

struct opts {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int n;
	double storm_timeout, busy, reg_iv, ka_iv, calls, hold, drain, stay;
	double rate; /* --rate: connects a second, 0: all at once */
	pid_t server_pid;
	const char *label;
	const char *prefix; /* AOR user names: PREFIX0, PREFIX1, ... */
};

static struct opts o = {
	.n = 10000, .storm_timeout = 60, .busy = 0, .reg_iv = 60,
	.ka_iv = 30, .calls = 50, .hold = 2, .drain = 5, .prefix = "p",
};
static SSL_CTX *ctx;
static int ep;
static struct phone *ph;
static struct call *calls;
static size_t n_calls, cap_calls;
/* Per relayed message: at read, at arrival (see the top), and the
 * driver's own delay between them; REGISTER refreshes the same way. */
static double *lat, *lat_arr, *drv_delay, *reg_lat, *reg_lat_arr;
static size_t n_lat, cap_lat, n_lat_arr, cap_lat_arr, n_drv, cap_drv;
static size_t n_reg_lat, cap_reg_lat, n_reg_arr, cap_reg_arr;
static long no_stamp; /* messages read without a kernel timestamp */
/* CLOCK_REALTIME - CLOCK_MONOTONIC (the kernel stamps in real time). */
static double rt_off;
static long reg_ok, reg_fail, ka_sent, ka_got, msgs_sent, msgs_got;
static long bad_msgs, conn_lost;
/* Calls whose BYE is pending, in the order of bye_at (set on the 200,
 * from a clock that never goes back): bye_q[bye_head..n_bye_q). */
static size_t *bye_q;
static size_t n_bye_q, bye_head;
static bool busy_on;    /* latencies are recorded */
static bool generating; /* refreshes, keep-alives and new calls */
static char last_err[160];

static void note_err(const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char s[120] = "";

	if (e)
		ERR_error_string_n(e, s, sizeof(s));
	snprintf(last_err, sizeof(last_err), "%s%s%s", what, e ? ":" : "", s);
	ERR_clear_error();
}

static void watch(struct phone *p, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0) };

	ev.data.ptr = p;
	if (out != p->want_out) {
		p->want_out = out;
		epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev);
	}
}

static void phone_fail(struct phone *p, const char *what)
{
	if (p->st == P_UP && p->registered)
		conn_lost++;
	if (!p->registered)
		reg_fail++;
	note_err(what);
	if (p->ssl)
		SSL_free(p->ssl);
	p->ssl = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->st = P_FAILED;
	p->registered = false;
}

static void push_lat(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 4096;
		double *nv = realloc(*v, c * sizeof(**v));

		if (!nv)
			return;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = x;
}

static double rt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A socket BIO that reads with recvmsg() and keeps the kernel's receive
 * timestamp (SO_TIMESTAMPNS) of the last bytes read in the phone. OpenSSL
 * (no read-ahead) reads a record's header, then its body: after the body,
 * the stamp is the arrival of the record's last segment.
 */
static BIO_METHOD *tsock_meth;

static int tsock_read(BIO *b, char *buf, int len)
{
	struct phone *p = BIO_get_data(b);
	union {
		char b[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} cb;
	struct iovec iov = { .iov_base = buf, .iov_len = (size_t)len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cb.b,
			     .msg_controllen = sizeof(cb.b) };
	struct cmsghdr *cm;
	ssize_t r;

	BIO_clear_retry_flags(b);
	r = recvmsg(p->fd, &mh, 0);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_read(b);
		return -1;
	}
	if (r == 0)
		p->rx_eof = true;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			p->rx_arrival = (double)ts.tv_sec +
					(double)ts.tv_nsec / 1e9 - rt_off;
		}
	}
	return (int)r;
}

static int tsock_write(BIO *b, const char *buf, int len)
{
	struct phone *p = BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	r = send(p->fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_write(b);
		return -1;
	}
	return (int)r;
}

static long tsock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct phone *p = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return p && p->rx_eof;
	default:
		return 0;
	}
}

static int tsock_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO *tsock_new(struct phone *p)
{
	BIO *b;

	if (!tsock_meth) {
		tsock_meth = BIO_meth_new(BIO_get_new_index() |
					  BIO_TYPE_SOURCE_SINK, "tsock");
		if (!tsock_meth || !BIO_meth_set_read(tsock_meth, tsock_read) ||
		    !BIO_meth_set_write(tsock_meth, tsock_write) ||
		    !BIO_meth_set_ctrl(tsock_meth, tsock_ctrl) ||
		    !BIO_meth_set_create(tsock_meth, tsock_create))
			return NULL;
	}
	b = BIO_new(tsock_meth);
	if (b)
		BIO_set_data(b, p);
	return b;
}

/* One received message's latency from <sent>: at read (now) and at
 * arrival (the kernel's stamp), into the given sets. */
static void record_lat(const struct phone *p, double sent, double now,
		       double **v, size_t *n, size_t *cap, double **va,
		       size_t *na, size_t *capa)
{
	double arr = p->rx_arrival;

	push_lat(v, n, cap, now - sent);
	if (!arr || arr > now) {
		no_stamp++;
		arr = now;
	}
	push_lat(va, na, capa, arr - sent);
	push_lat(&drv_delay, &n_drv, &cap_drv, now - arr);
}

/* Writes what is queued; SSL_MODE_ENABLE_PARTIAL_WRITE. */
static void flush_out(struct phone *p)
{
	int r;

	while (p->olen > 0 && p->st == P_UP) {
		r = SSL_write(p->ssl, p->obuf, (int)p->olen);
		if (r > 0) {
			memmove(p->obuf, p->obuf + r, p->olen - (size_t)r);
			p->olen -= (size_t)r;
			continue;
		}
		r = SSL_get_error(p->ssl, r);
		if (r == SSL_ERROR_WANT_WRITE || r == SSL_ERROR_WANT_READ) {
			watch(p, true);
			return;
		}
		phone_fail(p, "write");
		return;
	}
	if (p->st == P_UP)
		watch(p, false);
}

static void send_msg(struct phone *p, const char *m, size_t n)
{
	if (p->st != P_UP)
		return;
	if (p->olen + n > p->ocap) {
		size_t c = (p->olen + n) * 2;
		char *b = realloc(p->obuf, c);

		if (!b)
			return;
		p->obuf = b;
		p->ocap = c;
	}
	memcpy(p->obuf + p->olen, m, n);
	p->olen += n;
	flush_out(p);
}

static void send_register(struct phone *p)
{
	char m[MSG];
	int n;

	p->reg_cseq++;
	n = snprintf(m, sizeof(m),
		     "REGISTER sip:example.test SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS 127.0.0.1:%u;rport;branch=z9hG4bKr%dx%u\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:%s%d@example.test>;tag=r%d\r\n"
		     "To: <sip:%s%d@example.test>\r\n"
		     "Call-ID: reg-%d@scn\r\n"
		     "CSeq: %u REGISTER\r\n"
		     "Contact: <sip:%s%d@127.0.0.1:%u;transport=tls>\r\n"
		     "Supported: path\r\n"
		     "Expires: 3600\r\n"
		     "Content-Length: 0\r\n\r\n",
		     p->lport, p->idx, p->reg_cseq, o.prefix, p->idx, p->idx,
		     o.prefix, p->idx, p->idx, p->reg_cseq, o.prefix, p->idx,
		     p->lport);
	p->t_reg_sent = bench_now();
	send_msg(p, m, (size_t)n);
}

/* A request of a call from phone p (A: INVITE, ACK, BYE). */
static void send_call_req(struct phone *p, size_t k, enum kind kd)
{
	static const char *const meth[K__COUNT] = {
		[K_INVITE] = "INVITE", [K_ACK] = "ACK", [K_BYE] = "BYE"
	};
	struct call *c = &calls[k];
	char m[MSG];
	int n;

	n = snprintf(m, sizeof(m),
		     "%s sip:%s%d@example.test SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS 127.0.0.1:%u;rport;branch=z9hG4bKc%zux%d\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:%s%d@example.test>;tag=a%zu\r\n"
		     "To: <sip:%s%d@example.test>%s\r\n"
		     "Call-ID: call-%zu@scn\r\n"
		     "CSeq: %d %s\r\n"
		     "Contact: <sip:%s%d@127.0.0.1:%u;transport=tls>\r\n"
		     "Content-Length: 0\r\n\r\n",
		     meth[kd], o.prefix, c->b, p->lport, k, (int)kd, o.prefix,
		     p->idx, k, o.prefix, c->b, kd == K_INVITE ? "" : ";tag=b",
		     k, kd == K_BYE ? 2 : 1, meth[kd], o.prefix, p->idx,
		     p->lport);
	c->t[kd] = bench_now();
	msgs_sent++;
	send_msg(p, m, (size_t)n);
}

/* B's response to request h[0..hlen) (copying Via, From, To, Call-ID,
 * CSeq). */
static void send_resp(struct phone *p, const char *h, size_t hlen, int code,
		      const char *reason, double *t_sent)
{
	char m[8192];
	size_t w;
	const char *l = memchr(h, '\n', hlen), *end = h + hlen, *eol;

	w = (size_t)snprintf(m, sizeof(m), "SIP/2.0 %d %s\r\n", code, reason);
	for (l = l ? l + 1 : end; l < end; l = eol + 1) {
		size_t n;

		eol = memchr(l, '\n', (size_t)(end - l));
		if (!eol || eol - l <= 1)
			break;
		n = (size_t)(eol - l) + 1;
		if (strncasecmp(l, "via:", 4) && strncasecmp(l, "v:", 2) &&
		    strncasecmp(l, "from:", 5) && strncasecmp(l, "f:", 2) &&
		    strncasecmp(l, "to:", 3) && strncasecmp(l, "t:", 2) &&
		    strncasecmp(l, "call-id:", 8) && strncasecmp(l, "i:", 2) &&
		    strncasecmp(l, "cseq:", 5) &&
		    strncasecmp(l, "record-route:", 13))
			continue;
		if (w + n + 64 > sizeof(m))
			return;
		if ((!strncasecmp(l, "to:", 3) || !strncasecmp(l, "t:", 2)) &&
		    !memmem(l, n, ";tag=", 5)) {
			memcpy(m + w, l, n - 2);
			w += n - 2;
			w += (size_t)snprintf(m + w, sizeof(m) - w, ";tag=b\r\n");
		} else {
			memcpy(m + w, l, n);
			w += n;
		}
	}
	w += (size_t)snprintf(m + w, sizeof(m) - w,
			      "Contact: <sip:%s%d@127.0.0.1:%u;transport=tls>\r\n"
			      "Content-Length: 0\r\n\r\n", o.prefix, p->idx,
			      p->lport);
	*t_sent = bench_now();
	msgs_sent++;
	send_msg(p, m, w);
}

static const char *hdr(const char *h, size_t hlen, const char *name,
		       const char *compact)
{
	const char *l = h, *end = h + hlen;
	size_t n = strlen(name);

	while ((l = memchr(l, '\n', (size_t)(end - l))) != NULL) {
		l++;
		if (end - l > (long)n && strncasecmp(l, name, n) == 0)
			return l + n;
		if (compact && end - l > 2 && tolower((unsigned char)l[0]) ==
		    compact[0] && l[1] == ':')
			return l + 2;
	}
	return NULL;
}

static void got_kind(const struct phone *p, size_t k, enum kind kd,
		     double now)
{
	struct call *c = &calls[k];

	if (k >= n_calls || c->got[kd] || !c->t[kd])
		return;
	c->got[kd] = true;
	msgs_got++;
	if (busy_on)
		record_lat(p, c->t[kd], now, &lat, &n_lat, &cap_lat, &lat_arr,
			   &n_lat_arr, &cap_lat_arr);
}

/* One complete message h[0..hlen) at phone p. */
static void on_msg(struct phone *p, const char *h, size_t hlen, double now)
{
	const char *cid = hdr(h, hlen, "call-id:", "i"), *cseq;
	bool resp = strncmp(h, "SIP/2.0 ", 8) == 0;
	size_t k;

	if (!cid) {
		bad_msgs++;
		return;
	}
	while (*cid == ' ')
		cid++;
	if (resp && strncmp(cid, "reg-", 4) == 0) {
		if (atoi(h + 8) != 200 || !p->t_reg_sent) {
			if (atoi(h + 8) >= 200 && !p->registered)
				phone_fail(p, "REGISTER refused");
			return;
		}
		if (!p->registered) {
			p->registered = true;
			reg_ok++;
		} else if (busy_on) {
			record_lat(p, p->t_reg_sent, now, &reg_lat, &n_reg_lat,
				   &cap_reg_lat, &reg_lat_arr, &n_reg_arr,
				   &cap_reg_arr);
		}
		p->t_reg_sent = 0;
		return;
	}
	if (strncmp(cid, "call-", 5) != 0) {
		bad_msgs++;
		return;
	}
	k = strtoul(cid + 5, NULL, 10);
	if (k >= n_calls) {
		bad_msgs++;
		return;
	}
	if (!resp) {
		if (!strncmp(h, "INVITE ", 7)) {
			got_kind(p, k, K_INVITE, now);
			send_resp(p, h, hlen, 100, "Trying", &calls[k].t[K_100]);
			send_resp(p, h, hlen, 180, "Ringing",
				  &calls[k].t[K_180]);
			send_resp(p, h, hlen, 200, "OK", &calls[k].t[K_200]);
		} else if (!strncmp(h, "ACK ", 4)) {
			got_kind(p, k, K_ACK, now);
		} else if (!strncmp(h, "BYE ", 4)) {
			got_kind(p, k, K_BYE, now);
			send_resp(p, h, hlen, 200, "OK", &calls[k].t[K_BYE200]);
		} else {
			bad_msgs++;
		}
		return;
	}
	cseq = hdr(h, hlen, "cseq:", NULL);
	if (cseq && strstr(cseq, "BYE") && strstr(cseq, "BYE") < strchr(cseq, '\n')) {
		got_kind(p, k, K_BYE200, now);
		return;
	}
	switch (atoi(h + 8)) {
	case 100:
		got_kind(p, k, K_100, now);
		break;
	case 180:
		got_kind(p, k, K_180, now);
		break;
	case 200:
		if (!calls[k].got[K_200]) {
			got_kind(p, k, K_200, now);
			send_call_req(p, k, K_ACK);
			calls[k].bye_at = now + o.hold;
			bye_q[n_bye_q++] = k;
		}
		break;
	default:
		bad_msgs++;
	}
}

/* Frames what is in rbuf: messages by Content-Length, CRLF pongs. */
static void consume(struct phone *p, double now)
{
	size_t off = 0;

	while (off < p->rlen && p->st == P_UP) {
		char *m = p->rbuf + off, *e;
		size_t left = p->rlen - off, hlen, cl = 0;
		const char *v;

		if (m[0] == '\r' || m[0] == '\n') {
			if (left >= 2 && m[0] == '\r' && m[1] == '\n') {
				if (p->t_ka_sent) {
					ka_got++;
					p->t_ka_sent = 0;
				}
				off += 2;
			} else {
				off++;
			}
			continue;
		}
		e = memmem(m, left, "\r\n\r\n", 4);
		if (!e)
			break;
		hlen = (size_t)(e - m) + 4;
		v = hdr(m, hlen, "content-length:", "l");
		if (v)
			cl = strtoul(v, NULL, 10);
		if (hlen + cl > left)
			break;
		on_msg(p, m, hlen, now);
		off += hlen + cl;
	}
	if (p->st != P_UP)
		return;
	if (off == 0 && p->rlen == RBUF) {
		phone_fail(p, "message too big");
		return;
	}
	memmove(p->rbuf, p->rbuf + off, p->rlen - off);
	p->rlen -= off;
}

static void drive(struct phone *p)
{
	int r, err;

	if (p->st == P_CONNECT) {
		socklen_t l = sizeof(err);
		struct sockaddr_storage ss;

		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &l) || err) {
			errno = err;
			phone_fail(p, "connect");
			return;
		}
		l = sizeof(ss);
		getsockname(p->fd, (struct sockaddr *)&ss, &l);
		p->lport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		p->st = P_HANDSHAKE;
	}
	if (p->st == P_HANDSHAKE) {
		r = SSL_connect(p->ssl);
		if (r == 1) {
			p->st = P_UP;
			watch(p, false);
			send_register(p);
			return;
		}
		err = SSL_get_error(p->ssl, r);
		if (err == SSL_ERROR_WANT_READ)
			watch(p, false);
		else if (err == SSL_ERROR_WANT_WRITE)
			watch(p, true);
		else
			phone_fail(p, "handshake");
		return;
	}
	if (p->st != P_UP)
		return;
	if (p->olen)
		flush_out(p);
	for (;;) {
		if (p->st != P_UP)
			return;
		r = SSL_read(p->ssl, p->rbuf + p->rlen,
			     (int)(RBUF - p->rlen));
		if (r > 0) {
			p->rlen += (size_t)r;
			consume(p, bench_now());
			continue;
		}
		err = SSL_get_error(p->ssl, r);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			return;
		phone_fail(p, err == SSL_ERROR_ZERO_RETURN ? "closed by server"
							   : "read");
		return;
	}
}

static int phone_start(struct phone *p)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN };
	int one = 1;
	BIO *bio;

	p->fd = socket(o.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (p->fd < 0) {
		phone_fail(p, "socket");
		return -1;
	}
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(p->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (connect(p->fd, (struct sockaddr *)&o.addr, o.addr_len) < 0 &&
	    errno != EINPROGRESS) {
		phone_fail(p, "connect");
		return -1;
	}
	p->ssl = SSL_new(ctx);
	bio = p->ssl ? tsock_new(p) : NULL;
	if (!bio) {
		phone_fail(p, "SSL_new");
		return -1;
	}
	SSL_set_bio(p->ssl, bio, bio);
	SSL_set_tlsext_host_name(p->ssl, "sip.example.test");
	p->st = P_CONNECT;
	p->want_out = true;
	ev.data.ptr = p;
	epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev);
	return 0;
}

/* Runs the loop until <until> (or <done> says so); timers every 10 ms. */
static void loop(double until, bool (*done)(void), void (*tick)(double))
{
	struct epoll_event ev[512];
	double now = bench_now(), last = 0;
	int n, i;

	while (now < until && !(done && done())) {
		n = epoll_wait(ep, ev, 512, 5);
		rt_off = rt_now() - bench_now();
		now = bench_now();
		for (i = 0; i < n; i++)
			drive(ev[i].data.ptr);
		if (tick && now - last >= 0.01) {
			tick(now);
			last = now;
		}
	}
}

static bool storm_done(void)
{
	return reg_ok + reg_fail >= o.n;
}

/* --rate: the phones due by <now> connect (the ramp's tick). */
static double ramp_t0;
static int ramp_started;

static void ramp_tick(double now)
{
	int due = (int)((now - ramp_t0) * o.rate) + 1;

	if (due > o.n)
		due = o.n;
	while (ramp_started < due)
		phone_start(&ph[ramp_started++]);
}

static double busy_t0;
static size_t calls_started;

/*
 * Phones in the order of their REGISTER (and keep-alive) phase. Every
 * phone's next time moves by the same interval, so the order never
 * changes: each tick visits the phones that are due, from a cursor, and
 * none of the others (10,000 phones' timers would otherwise be a walk of
 * 10,000 large structs every 10 ms, in the same thread that reads the
 * messages being timed).
 */
struct due_ring {
	int *order;
	size_t cur;
};
static struct due_ring reg_ring, ka_ring;

static int cmp_reg(const void *a, const void *b)
{
	double x = ph[*(const int *)a].next_reg, y = ph[*(const int *)b].next_reg;

	return x < y ? -1 : x > y;
}

static int cmp_ka(const void *a, const void *b)
{
	double x = ph[*(const int *)a].next_ka, y = ph[*(const int *)b].next_ka;

	return x < y ? -1 : x > y;
}

static int ring_init(struct due_ring *r, int (*cmp)(const void *, const void *))
{
	int i;

	r->order = malloc((size_t)o.n * sizeof(*r->order));
	if (!r->order)
		return -1;
	for (i = 0; i < o.n; i++)
		r->order[i] = i;
	qsort(r->order, (size_t)o.n, sizeof(*r->order), cmp);
	r->cur = 0;
	return 0;
}

static void due_registers(double now)
{
	size_t seen;

	for (seen = 0; seen < (size_t)o.n; seen++) {
		struct phone *p = &ph[reg_ring.order[reg_ring.cur]];

		if (now < p->next_reg)
			break;
		p->next_reg += o.reg_iv;
		reg_ring.cur = (reg_ring.cur + 1) % (size_t)o.n;
		if (p->st == P_UP && p->registered && !p->t_reg_sent)
			send_register(p);
	}
}

static void due_keepalives(double now)
{
	size_t seen;

	for (seen = 0; seen < (size_t)o.n; seen++) {
		struct phone *p = &ph[ka_ring.order[ka_ring.cur]];

		if (now < p->next_ka)
			break;
		p->next_ka += o.ka_iv;
		ka_ring.cur = (ka_ring.cur + 1) % (size_t)o.n;
		if (p->st != P_UP || !p->registered)
			continue;
		ka_sent++;
		p->t_ka_sent = bench_now();
		send_msg(p, "\r\n\r\n", 4);
	}
}

static void busy_tick(double now)
{
	if (generating) {
		due_registers(now);
		due_keepalives(now);
	}
	while (bye_head < n_bye_q && now >= calls[bye_q[bye_head]].bye_at) {
		size_t k = bye_q[bye_head++];

		if (!calls[k].t[K_BYE])
			send_call_req(&ph[calls[k].a], k, K_BYE);
	}
	if (!generating)
		return;
	while (calls_started < (size_t)((now - busy_t0) * o.calls) &&
	       n_calls < cap_calls) {
		struct call *c = &calls[n_calls];
		int tries;

		calls_started++;
		for (tries = 0; tries < 20; tries++) {
			c->a = (int)(random() % o.n);
			c->b = (int)(random() % o.n);
			if (c->a != c->b && ph[c->a].registered &&
			    ph[c->b].registered)
				break;
		}
		if (tries == 20)
			continue;
		n_calls++;
		send_call_req(&ph[c->a], n_calls - 1, K_INVITE);
	}
}

/* This process's CPU seconds (the phones' side: client handshakes). */
static double self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double pct(double *v, size_t n, double p)
{
	return bench_percentile(v, n, p) * 1e3;
}

static int parse_target(const char *t)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST }, *ai;
	char host[128], *colon;

	snprintf(host, sizeof(host), "%s", t[0] == '[' ? t + 1 : t);
	colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	if (colon > host && colon[-1] == ']')
		colon[-1] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -1;
	memcpy(&o.addr, ai->ai_addr, ai->ai_addrlen);
	o.addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: scenario -t HOST:PORT [options]\n"
		"  -n N             phones (default 10000)\n"
		"  --storm-timeout S  bound on the storm (default 60)\n"
		"  --rate R         phones connect R a second (default 0: all "
		"at once)\n"
		"  --busy S         busy hour phase of S seconds (default 0: "
		"none)\n"
		"  --calls C        calls a second in the busy phase (50)\n"
		"  --reg-interval S REGISTER refresh (60)\n"
		"  --ka-interval S  CRLF keep-alive (30)\n"
		"  --call-hold S    INVITE to BYE (2)\n"
		"  --drain S        wait for late messages (5)\n"
		"  --stay S         keep the connections open and idle for S "
		"s before leaving (0)\n"
		"  --server-pid PID server CPU and memory from /proc\n"
		"  --label STR      copied into the RESULT lines\n"
		"  --prefix STR     AOR user names STR0, STR1, ... (p); two "
		"drivers on one backend need different ones\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "target", required_argument, NULL, 't' },
		{ "phones", required_argument, NULL, 'n' },
		{ "storm-timeout", required_argument, NULL, 1 },
		{ "busy", required_argument, NULL, 2 },
		{ "calls", required_argument, NULL, 3 },
		{ "reg-interval", required_argument, NULL, 4 },
		{ "ka-interval", required_argument, NULL, 5 },
		{ "call-hold", required_argument, NULL, 6 },
		{ "drain", required_argument, NULL, 7 },
		{ "server-pid", required_argument, NULL, 8 },
		{ "label", required_argument, NULL, 9 },
		{ "prefix", required_argument, NULL, 10 },
		{ "rate", required_argument, NULL, 11 },
		{ "stay", required_argument, NULL, 12 },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_proc s0, s1, s2, s3;
	struct rlimit rl;
	double t0, t_all = 0, now, storm_cpu, busy_cpu = 0, cli0, cli_cpu;
	long mem_kb = 0;
	const char *mem_kind = "pss";
	bool have0 = false, have1 = false;
	int ch, i;

	o.label = "-";
	setvbuf(stdout, NULL, _IOLBF, 0); /* lines survive a timeout kill */
	signal(SIGPIPE, SIG_IGN); /* a write to a reset connection: EPIPE */
	while ((ch = getopt_long(argc, argv, "t:n:", lo, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (parse_target(optarg)) {
				usage();
				return 2;
			}
			break;
		case 'n': o.n = atoi(optarg); break;
		case 1: o.storm_timeout = atof(optarg); break;
		case 2: o.busy = atof(optarg); break;
		case 3: o.calls = atof(optarg); break;
		case 4: o.reg_iv = atof(optarg); break;
		case 5: o.ka_iv = atof(optarg); break;
		case 6: o.hold = atof(optarg); break;
		case 7: o.drain = atof(optarg); break;
		case 8: o.server_pid = (pid_t)atol(optarg); break;
		case 9: o.label = optarg; break;
		case 10: o.prefix = optarg; break;
		case 11: o.rate = atof(optarg); break;
		case 12: o.stay = atof(optarg); break;
		default: usage(); return 2;
		}
	}
	if (!o.addr_len || o.n < 2 || o.n > 100000 || o.storm_timeout <= 0 ||
	    o.storm_timeout > 3600 || o.busy < 0 || o.busy > 7200 ||
	    o.calls < 0 || o.calls > 10000 || o.reg_iv <= 0 ||
	    o.ka_iv <= 0 || o.drain < 0 || o.drain > 60 || o.rate < 0 ||
	    o.stay < 0 || o.stay > 3600) {
		usage();
		return 2;
	}
	/* One descriptor per phone, and a few. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)o.n + 64) {
		rl.rlim_cur = (rlim_t)o.n + 64 < rl.rlim_max
				      ? (rlim_t)o.n + 64 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)o.n + 64) {
			fprintf(stderr, "scenario: open files limit %lu < %d "
				"phones\n", (unsigned long)rl.rlim_cur, o.n);
			return 1;
		}
	}
	srandom(12345);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ph = calloc((size_t)o.n, sizeof(*ph));
	cap_calls = (size_t)(o.calls * o.busy) + 16;
	calls = calloc(cap_calls, sizeof(*calls));
	bye_q = calloc(cap_calls, sizeof(*bye_q));
	if (!ctx || ep < 0 || !ph || !calls || !bye_q)
		return 1;
	rt_off = rt_now() - bench_now();
	if (o.server_pid)
		have0 = bench_proc_sample(o.server_pid, &s0) == 0;

	/* The storm: every connect at once, or --rate a second. */
	cli0 = self_cpu();
	t0 = bench_now();
	for (i = 0; i < o.n; i++) {
		ph[i].idx = i;
		ph[i].fd = -1;
	}
	if (o.rate > 0) {
		ramp_t0 = t0;
		ramp_tick(t0);
		loop(t0 + o.storm_timeout, storm_done, ramp_tick);
	} else {
		for (i = 0; i < o.n; i++)
			phone_start(&ph[i]);
		loop(t0 + o.storm_timeout, storm_done, NULL);
	}
	now = bench_now();
	t_all = now - t0;
	cli_cpu = self_cpu() - cli0;
	for (i = 0; i < o.n; i++) {
		if (ph[i].st != P_FAILED && !ph[i].registered) {
			phone_fail(&ph[i], "storm timeout");
		}
	}
	/* Let the server settle (closes, freed buffers) before memory. */
	loop(bench_now() + 1.0, NULL, NULL);
	if (o.server_pid)
		have1 = bench_proc_sample(o.server_pid, &s1) == 0;
	storm_cpu = have0 && have1 ? s1.cpu_s - s0.cpu_s : 0;
	if (have0 && have1 && reg_ok > 0) {
		if (s0.pss_kb > 0 && s1.pss_kb > 0) {
			mem_kb = s1.pss_kb - s0.pss_kb;
		} else {
			mem_kb = s1.rss_kb - s0.rss_kb;
			mem_kind = "rss";
		}
	}
	printf("storm: %d phones, %ld registered in %.2f s, %ld failed%s%s; "
	       "server CPU %.0f us per registration (%.2f s in all), memory "
	       "%.1f KB per phone (%s); the phones' own CPU %.2f s\n",
	       o.n, reg_ok, t_all, reg_fail, reg_fail ? ": " : "",
	       reg_fail ? last_err : "",
	       reg_ok ? storm_cpu / (double)reg_ok * 1e6 : 0, storm_cpu,
	       reg_ok ? (double)mem_kb / (double)reg_ok : 0, mem_kind,
	       cli_cpu);
	printf("RESULT label=%s/storm phones=%d registered=%ld failed=%ld "
	       "t_all_s=%.3f cpu_per_reg_us=%.1f mem_per_phone_kb=%.2f "
	       "mem_kind=%s server_cpu_s=%.3f client_cpu_s=%.3f "
	       "last_error=%s\n",
	       o.label, o.n, reg_ok, reg_fail, t_all,
	       reg_ok ? storm_cpu / (double)reg_ok * 1e6 : 0,
	       reg_ok ? (double)mem_kb / (double)reg_ok : 0, mem_kind,
	       storm_cpu, cli_cpu, reg_fail ? "see_above" : "none");

	if (o.busy > 0 && reg_ok > 1) {
		long lost, conn_lost0 = conn_lost;
		size_t k;
		int kd;

		now = bench_now();
		for (i = 0; i < o.n; i++) {
			ph[i].next_reg = now + o.reg_iv *
					 ((double)random() / RAND_MAX);
			ph[i].next_ka = now + o.ka_iv *
					((double)random() / RAND_MAX);
		}
		if (ring_init(&reg_ring, cmp_reg) || ring_init(&ka_ring, cmp_ka))
			return 1;
		if (o.server_pid && bench_proc_sample(o.server_pid, &s2))
			o.server_pid = 0; /* gone: no CPU figure */
		busy_on = generating = true;
		busy_t0 = now;
		loop(now + o.busy, NULL, busy_tick);
		generating = false;
		if (o.server_pid && bench_proc_sample(o.server_pid, &s3))
			o.server_pid = 0;
		busy_cpu = o.server_pid ? s3.cpu_s - s2.cpu_s : 0;
		/* Drain: BYEs still due, late messages (their latency
		 * counts). */
		loop(bench_now() + o.hold + o.drain, NULL, busy_tick);
		busy_on = false;
		lost = 0;
		for (k = 0; k < n_calls; k++)
			for (kd = 0; kd < K__COUNT; kd++)
				lost += calls[k].t[kd] && !calls[k].got[kd];
		printf("busy: %.0f s, %ld phones, %zu calls (%.1f/s), %ld "
		       "relayed messages, %ld lost; latency per relayed "
		       "message at arrival p50 %.2f ms p99 %.2f ms p999 %.2f "
		       "ms, at read p50 %.2f ms p99 %.2f ms p999 %.2f ms (the "
		       "driver's own delay p50 %.2f ms p99 %.2f ms p999 %.2f "
		       "ms; %ld without a kernel stamp); REGISTER refresh at "
		       "arrival p50 %.2f ms p99 %.2f ms, at read p50 %.2f ms "
		       "p99 %.2f ms (%zu); keep-alive pongs %ld/%ld; server "
		       "CPU %.1f %%; connections lost %ld\n",
		       o.busy, reg_ok, n_calls, (double)n_calls / o.busy,
		       msgs_sent, lost, pct(lat_arr, n_lat_arr, 50),
		       pct(lat_arr, n_lat_arr, 99), pct(lat_arr, n_lat_arr, 99.9),
		       pct(lat, n_lat, 50), pct(lat, n_lat, 99),
		       pct(lat, n_lat, 99.9), pct(drv_delay, n_drv, 50),
		       pct(drv_delay, n_drv, 99), pct(drv_delay, n_drv, 99.9),
		       no_stamp, pct(reg_lat_arr, n_reg_arr, 50),
		       pct(reg_lat_arr, n_reg_arr, 99),
		       pct(reg_lat, n_reg_lat, 50), pct(reg_lat, n_reg_lat, 99),
		       n_reg_lat, ka_got, ka_sent, busy_cpu / o.busy * 100,
		       conn_lost - conn_lost0);
		printf("RESULT label=%s/busy seconds=%.0f phones=%ld calls=%zu "
		       "msgs=%ld lost=%ld arr_p50_ms=%.3f arr_p99_ms=%.3f "
		       "arr_p999_ms=%.3f p50_ms=%.3f p99_ms=%.3f "
		       "p999_ms=%.3f drv_p50_ms=%.3f drv_p99_ms=%.3f "
		       "drv_p999_ms=%.3f no_stamp=%ld reg_arr_p50_ms=%.3f "
		       "reg_arr_p99_ms=%.3f reg_p50_ms=%.3f "
		       "reg_p99_ms=%.3f refreshes=%zu ka_sent=%ld "
		       "ka_pongs=%ld cpu_pct=%.2f conn_lost=%ld bad=%ld\n",
		       o.label, o.busy, reg_ok, n_calls, msgs_sent, lost,
		       pct(lat_arr, n_lat_arr, 50), pct(lat_arr, n_lat_arr, 99),
		       pct(lat_arr, n_lat_arr, 99.9), pct(lat, n_lat, 50),
		       pct(lat, n_lat, 99), pct(lat, n_lat, 99.9),
		       pct(drv_delay, n_drv, 50), pct(drv_delay, n_drv, 99),
		       pct(drv_delay, n_drv, 99.9), no_stamp,
		       pct(reg_lat_arr, n_reg_arr, 50),
		       pct(reg_lat_arr, n_reg_arr, 99),
		       pct(reg_lat, n_reg_lat, 50), pct(reg_lat, n_reg_lat, 99),
		       n_reg_lat, ka_sent, ka_got, busy_cpu / o.busy * 100,
		       conn_lost - conn_lost0, bad_msgs);
		for (kd = 0; kd < K__COUNT; kd++) {
			long s = 0, g = 0;

			for (k = 0; k < n_calls; k++) {
				s += calls[k].t[kd] != 0;
				g += calls[k].got[kd];
			}
			if (s != g)
				printf("  %s: %ld sent, %ld received\n",
				       kind_names[kd], s, g);
		}
	}
	/* --stay: the phones stay connected and idle, so that their leaving
	 * all at once (a disconnect storm) falls outside another driver's
	 * measurement. */
	if (o.stay > 0)
		loop(bench_now() + o.stay, NULL, NULL);
	for (i = 0; i < o.n; i++) {
		if (ph[i].ssl)
			SSL_free(ph[i].ssl);
		if (ph[i].fd >= 0)
			close(ph[i].fd);
		free(ph[i].obuf);
	}
	free(ph);
	free(calls);
	free(bye_q);
	free(reg_ring.order);
	free(ka_ring.order);
	free(lat);
	free(lat_arr);
	free(drv_delay);
	free(reg_lat);
	free(reg_lat_arr);
	BIO_meth_free(tsock_meth);
	SSL_CTX_free(ctx);
	close(ep);
	return 0;
}
