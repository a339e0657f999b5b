/*
 * sip_proxy: a minimal UDP registrar and stateless proxy for the scenario
 * benchmarks (bench/scenario.c, bench/scenario.sh): the "backend" behind
 * the TLS edge under test (siptlsd, Kamailio, ...).
 *
 * - REGISTER: binds the To user to the Contact and the Path headers the
 *   edge added (RFC 3327), answers 200 with the Contact. No expiry, no
 *   authentication: a benchmark, not a registrar.
 * - Another request whose Request-URI user is bound: forwarded
 *   statelessly (RFC 3261 16.11) to the binding: Request-URI = Contact,
 *   the Path as Route headers, our Via on top, sent to the first Path hop
 *   (the edge), or to the address the REGISTER came from when it had no
 *   Path.
 * - A response: our Via removed, sent to the next Via (its received and
 *   rport when present, else its sent-by).
 * - Anything else (OPTIONS, unknown user): answered 200 (OPTIONS) or 404.
 *
 * One thread, one socket; exits after --duration seconds or on SIGTERM.
 * Bindings live in a fixed-size open-addressing table (--max-bindings).
 *
 * Its own part of a relayed message's latency: every datagram's time
 * here, from its arrival in the socket (the kernel's receive timestamp,
 * SO_TIMESTAMPNS) to the end of its handling (the forward sent), kept
 * for the first DWELL_MAX datagrams; at exit p50/p99/p999/max go to
 * stderr as a line "sip_proxy: dwell ...", which bench/scenario.sh
 * records beside the driver's figures. SIGUSR1 forgets the datagrams
 * so far (the scenario sends it when the busy hour begins).
 */
#include "bench.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX 65535

struct binding {
	char *aor;     /* user part of the To URI; NULL: free slot */
	char *contact; /* the Contact URI, without brackets */
	char *path;    /* Path header values joined with ", "; NULL: none */
	struct sockaddr_storage next; /* where to send requests for it */
	socklen_t next_len;
};

static volatile sig_atomic_t stop, forget;
static struct binding *tab;
static size_t tab_cap;
static unsigned long n_reg, n_fwd_req, n_fwd_resp, n_local, n_drop;
static char self_via[128];
static unsigned long branch_seq;
#define DWELL_MAX (4u << 20)
static double *dwell; /* seconds, DWELL_MAX at most */
static size_t n_dwell;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		forget = 1;
	else
		stop = 1;
}

static size_t hash(const char *s, size_t n)
{
	size_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* The slot for aor[0..n): its binding, or the free slot to take. NULL
 * when the table is full. */
static struct binding *slot(const char *aor, size_t n)
{
	size_t i, h = hash(aor, n);

	for (i = 0; i < tab_cap; i++) {
		struct binding *b = &tab[(h + i) % tab_cap];

		if (!b->aor || (strlen(b->aor) == n &&
				memcmp(b->aor, aor, n) == 0))
			return b;
	}
	return NULL;
}

/* One header line of a message: name and value (trimmed). */
struct hdr {
	const char *line; /* start of the line */
	size_t line_len;  /* with its CRLF */
	const char *name, *val;
	size_t name_len, val_len;
};

/* Next header in h[*off..hlen), false at the blank line. */
static bool next_hdr(const char *h, size_t hlen, size_t *off, struct hdr *x)
{
	const char *l = h + *off, *end = h + hlen, *eol, *colon;

	eol = memchr(l, '\n', (size_t)(end - l));
	if (!eol || eol - l <= 1)
		return false;
	x->line = l;
	x->line_len = (size_t)(eol - l) + 1;
	*off += x->line_len;
	colon = memchr(l, ':', (size_t)(eol - l));
	if (!colon)
		return next_hdr(h, hlen, off, x);
	x->name = l;
	x->name_len = (size_t)(colon - l);
	while (x->name_len && (l[x->name_len - 1] == ' '))
		x->name_len--;
	x->val = colon + 1;
	while (x->val < eol && (*x->val == ' ' || *x->val == '\t'))
		x->val++;
	x->val_len = (size_t)(eol - x->val);
	while (x->val_len && (x->val[x->val_len - 1] == '\r' ||
			      x->val[x->val_len - 1] == ' '))
		x->val_len--;
	return true;
}

static bool is(const struct hdr *x, const char *full, const char *compact)
{
	size_t n = strlen(full);

	return (x->name_len == n && strncasecmp(x->name, full, n) == 0) ||
	       (compact && x->name_len == 1 &&
		tolower((unsigned char)x->name[0]) == compact[0]);
}

/* The user part of the first SIP URI in s[0..n). */
static bool uri_user(const char *s, size_t n, const char **u, size_t *un)
{
	const char *p = memmem(s, n, "sip:", 4), *e;

	if (p) {
		p += 4;
	} else if ((p = memmem(s, n, "sips:", 5)) != NULL) {
		p += 5;
	} else {
		return false;
	}
	for (e = p; e < s + n && *e != '@' && *e != '>' && *e != ';'; e++)
		;
	if (e >= s + n || *e != '@')
		return false;
	*u = p;
	*un = (size_t)(e - p);
	return true;
}

/* The URI inside <...>, or the value up to ';' when not bracketed. */
static void uri_of(const char *s, size_t n, const char **u, size_t *un)
{
	const char *lt = memchr(s, '<', n), *gt;

	if (lt && (gt = memchr(lt, '>', (size_t)(s + n - lt))) != NULL) {
		*u = lt + 1;
		*un = (size_t)(gt - lt - 1);
		return;
	}
	*u = s;
	for (*un = 0; *un < n && s[*un] != ';' && s[*un] != ','; (*un)++)
		;
}

/* host:port of a SIP URI (or of a Via sent-by) into a sockaddr. */
static bool resolve(const char *h, size_t hn, const char *port, size_t pn,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64], ps[8];
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST }, *ai;

	if (hn == 0 || hn >= sizeof(host) || pn >= sizeof(ps))
		return false;
	if (h[0] == '[') {
		h++;
		hn -= 2;
	}
	memcpy(host, h, hn);
	host[hn] = '\0';
	if (pn) {
		memcpy(ps, port, pn);
		ps[pn] = '\0';
	} else {
		strcpy(ps, "5060");
	}
	if (getaddrinfo(host, ps, &hints, &ai) != 0)
		return false;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return true;
}

/* Splits "host[:port]" (IPv6 in brackets) at s[0..n). */
static void split_hostport(const char *s, size_t n, const char **h,
			   size_t *hn, const char **p, size_t *pn)
{
	const char *c;

	*h = s;
	if (n && s[0] == '[') {
		c = memchr(s, ']', n);
		*hn = c ? (size_t)(c - s) + 1 : n;
	} else {
		c = memchr(s, ':', n);
		*hn = c ? (size_t)(c - s) : n;
	}
	if (*hn < n && s[*hn] == ':') {
		*p = s + *hn + 1;
		*pn = n - *hn - 1;
	} else {
		*p = NULL;
		*pn = 0;
	}
}

/* Where a SIP URI points: its host and port (params cut). */
static bool uri_dest(const char *u, size_t un, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	const char *at, *h, *p, *e;
	size_t hn, pn;

	at = memchr(u, '@', un);
	h = at ? at + 1 : (const char *)memchr(u, ':', un) + 1;
	if (h == (const char *)1)
		return false;
	for (e = h; e < u + un && *e != ';' && *e != '>' && *e != '?'; e++)
		;
	split_hostport(h, (size_t)(e - h), &h, &hn, &p, &pn);
	return resolve(h, hn, p, pn, ss, len);
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* The reply to a request: status line, Via/From/To(+tag)/Call-ID/CSeq
 * copied, <extra> headers, no body. */
static size_t reply(const char *h, size_t hlen, int code, const char *reason,
		    const char *extra, char *out, size_t cap)
{
	size_t off, w;
	struct hdr x;
	const char *eol = memchr(h, '\n', hlen);

	w = (size_t)snprintf(out, cap, "SIP/2.0 %d %s\r\n", code, reason);
	off = eol ? (size_t)(eol - h) + 1 : hlen;
	while (next_hdr(h, hlen, &off, &x)) {
		if (!(is(&x, "via", "v") || is(&x, "from", "f") ||
		      is(&x, "to", "t") || is(&x, "call-id", "i") ||
		      is(&x, "cseq", NULL)))
			continue;
		if (w + x.line_len + 32 >= cap)
			return 0;
		if (is(&x, "to", "t") && !memmem(x.val, x.val_len, ";tag=", 5)) {
			memcpy(out + w, x.line, x.line_len - 2);
			w += x.line_len - 2;
			w += (size_t)snprintf(out + w, cap - w, ";tag=reg\r\n");
		} else {
			memcpy(out + w, x.line, x.line_len);
			w += x.line_len;
		}
	}
	w += (size_t)snprintf(out + w, cap - w, "%sContent-Length: 0\r\n\r\n",
			      extra ? extra : "");
	return w < cap ? w : 0;
}

static void do_register(int fd, const char *m, size_t hlen,
			const struct sockaddr_storage *from, socklen_t flen,
			char *out)
{
	const char *u = NULL, *cu = NULL, *eol = memchr(m, '\n', hlen);
	size_t un = 0, cn = 0, off = eol ? (size_t)(eol - m) + 1 : hlen;
	size_t pl = 0, n;
	char path[2048], extra[600];
	struct hdr x;
	struct binding *b;

	while (next_hdr(m, hlen, &off, &x)) {
		if (is(&x, "to", "t"))
			uri_user(x.val, x.val_len, &u, &un);
		else if (is(&x, "contact", "m"))
			uri_of(x.val, x.val_len, &cu, &cn);
		else if (is(&x, "path", NULL) &&
			 pl + x.val_len + 2 < sizeof(path)) {
			if (pl)
				pl += (size_t)snprintf(path + pl,
						       sizeof(path) - pl,
						       ", ");
			memcpy(path + pl, x.val, x.val_len);
			pl += x.val_len;
		}
	}
	if (!u || !cu || !(b = slot(u, un))) {
		n = reply(m, hlen, 400, "Bad Request", NULL, out, MSG_MAX);
		goto send;
	}
	if (!b->aor)
		b->aor = dupn(u, un);
	free(b->contact);
	free(b->path);
	b->contact = dupn(cu, cn);
	b->path = pl ? dupn(path, pl) : NULL;
	b->next = *from;
	b->next_len = flen;
	if (pl) {
		const char *pu;
		size_t pn;

		uri_of(path, pl, &pu, &pn);
		if (!uri_dest(pu, pn, &b->next, &b->next_len)) {
			b->next = *from;
			b->next_len = flen;
		}
	}
	snprintf(extra, sizeof(extra), "Contact: <%.*s>;expires=3600\r\n",
		 (int)cn, cu);
	n = reply(m, hlen, 200, "OK", extra, out, MSG_MAX);
	n_reg++;
send:
	if (n)
		sendto(fd, out, n, MSG_DONTWAIT, (const struct sockaddr *)from,
		       flen);
}

/* Forwards request m[0..len) (headers m[0..hlen)) to its binding. */
static void forward_req(int fd, const char *m, size_t hlen, size_t len,
			struct binding *b, char *out)
{
	const char *sp = memchr(m, ' ', hlen), *sp2, *eol;
	size_t w = 0, off;

	if (!sp || !(sp2 = memchr(sp + 1, ' ', hlen - (size_t)(sp + 1 - m))) ||
	    !(eol = memchr(m, '\n', hlen)))
		return;
	w = (size_t)snprintf(out, MSG_MAX, "%.*s %s%.*s\n",
			     (int)(sp - m), m, b->contact,
			     (int)(eol - sp2), sp2);
	w += (size_t)snprintf(out + w, MSG_MAX - w,
			      "Via: SIP/2.0/UDP %s;branch=z9hG4bKsp%lu\r\n",
			      self_via, ++branch_seq);
	if (b->path)
		w += (size_t)snprintf(out + w, MSG_MAX - w, "Route: %s\r\n",
				      b->path);
	off = (size_t)(eol - m) + 1;
	if (w + (len - off) >= MSG_MAX)
		return;
	memcpy(out + w, m + off, len - off);
	w += len - off;
	if (sendto(fd, out, w, MSG_DONTWAIT, (struct sockaddr *)&b->next,
		   b->next_len) > 0)
		n_fwd_req++;
}

/* A Via value's destination: received/rport over sent-by. */
static bool via_dest(const char *v, size_t vn, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	const char *sb, *e, *h, *p, *r;
	size_t hn, pn;
	char rp[8] = "";

	/* "SIP/2.0/UDP host:port;params" */
	sb = memchr(v, ' ', vn);
	if (!sb)
		return false;
	while (sb < v + vn && *sb == ' ')
		sb++;
	for (e = sb; e < v + vn && *e != ';' && *e != ',' && *e != ' '; e++)
		;
	split_hostport(sb, (size_t)(e - sb), &h, &hn, &p, &pn);
	if ((r = memmem(e, (size_t)(v + vn - e), ";received=", 10)) != NULL) {
		h = r + 10;
		for (hn = 0; h + hn < v + vn && h[hn] != ';' && h[hn] != ',';
		     hn++)
			;
	}
	if ((r = memmem(e, (size_t)(v + vn - e), ";rport=", 7)) != NULL) {
		size_t i;

		for (i = 0; i < 7 && r[7 + i] >= '0' && r[7 + i] <= '9'; i++)
			rp[i] = r[7 + i];
		rp[i] = '\0';
		if (i) {
			p = rp;
			pn = i;
		}
	}
	return resolve(h, hn, p, pn, ss, len);
}

/* Forwards response m: drops our Via line, sends to the next Via. */
static void forward_resp(int fd, const char *m, size_t hlen, size_t len,
			 char *out)
{
	size_t off, w, first = 0, cut_len = 0;
	const char *eol = memchr(m, '\n', hlen);
	struct sockaddr_storage ss;
	socklen_t sl;
	struct hdr x;
	bool found = false;

	off = eol ? (size_t)(eol - m) + 1 : hlen;
	while (next_hdr(m, hlen, &off, &x)) {
		if (!is(&x, "via", "v"))
			continue;
		if (!cut_len) {
			if (!memmem(x.val, x.val_len, self_via,
				    strlen(self_via)))
				return; /* not ours: drop */
			first = (size_t)(x.line - m);
			cut_len = x.line_len;
			continue;
		}
		found = via_dest(x.val, x.val_len, &ss, &sl);
		break;
	}
	if (!found) {
		n_drop++;
		return;
	}
	memcpy(out, m, first);
	w = first;
	memcpy(out + w, m + first + cut_len, len - first - cut_len);
	w += len - first - cut_len;
	if (sendto(fd, out, w, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) > 0)
		n_fwd_resp++;
}

/* Length of the header block (with the blank line), 0 if none. */
static size_t head_len(const char *m, size_t len)
{
	const char *e = memmem(m, len, "\r\n\r\n", 4);

	return e ? (size_t)(e - m) + 4 : 0;
}

static void on_dgram(int fd, char *m, size_t len,
		     const struct sockaddr_storage *from, socklen_t flen)
{
	static char out[MSG_MAX + 1];
	size_t hlen = head_len(m, len), n;
	const char *u, *sp;
	size_t un;
	struct binding *b;

	if (hlen == 0) {
		if (len > 0 && (m[0] == '\r' || m[0] == '\n'))
			return; /* keep-alive */
		n_drop++;
		return;
	}
	if (strncmp(m, "SIP/2.0 ", 8) == 0) {
		forward_resp(fd, m, hlen, len, out);
		return;
	}
	if (strncmp(m, "REGISTER ", 9) == 0) {
		do_register(fd, m, hlen, from, flen, out);
		return;
	}
	sp = memchr(m, ' ', hlen);
	if (sp && uri_user(sp, (size_t)(m + hlen - sp), &u, &un) &&
	    (b = slot(u, un)) != NULL && b->aor) {
		forward_req(fd, m, hlen, len, b, out);
		return;
	}
	if (strncmp(m, "ACK ", 4) == 0)
		return;
	n = strncmp(m, "OPTIONS ", 8) == 0
		    ? reply(m, hlen, 200, "OK", NULL, out, MSG_MAX)
		    : reply(m, hlen, 404, "Not Found", NULL, out, MSG_MAX);
	n_local++;
	if (n)
		sendto(fd, out, n, MSG_DONTWAIT,
		       (const struct sockaddr *)from, flen);
}

static double rt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One datagram into buf[0..cap): its length (< 0: none) and, in
 * *arrived, the kernel's receive time (CLOCK_REALTIME; 0 if none). */
static ssize_t recv_stamped(int fd, char *buf, size_t cap,
			    struct sockaddr_storage *from, socklen_t *flen,
			    double *arrived)
{
	union {
		char b[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} cb;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = { .msg_name = from, .msg_namelen = *flen,
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cb.b,
			     .msg_controllen = sizeof(cb.b) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

	*arrived = 0;
	if (n < 0)
		return n;
	*flen = mh.msg_namelen;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			*arrived = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		}
	}
	return n;
}

static void report_dwell(void)
{
	if (!n_dwell)
		return;
	fprintf(stderr,
		"sip_proxy: dwell (arrival to forwarded) of %zu datagrams: "
		"p50 %.3f ms p99 %.3f ms p999 %.3f ms max %.3f ms\n", n_dwell,
		bench_percentile(dwell, n_dwell, 50) * 1e3,
		bench_percentile(dwell, n_dwell, 99) * 1e3,
		bench_percentile(dwell, n_dwell, 99.9) * 1e3,
		bench_percentile(dwell, n_dwell, 100) * 1e3);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "udp", required_argument, NULL, 'u' },
		{ "duration", required_argument, NULL, 'd' },
		{ "max-bindings", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	static char buf[MSG_MAX + 1];
	const char *udp = NULL;
	double duration = 60, end;
	struct sockaddr_storage ss, from;
	socklen_t sl, flen;
	int ch, fd, rcv = 8 << 20, one = 1;
	double arrived;
	size_t i;
	ssize_t n;

	tab_cap = 65536;
	while ((ch = getopt_long(argc, argv, "u:d:b:", opts, NULL)) != -1) {
		if (ch == 'u')
			udp = optarg;
		else if (ch == 'd')
			duration = atof(optarg);
		else if (ch == 'b')
			tab_cap = (size_t)atol(optarg) * 2;
		else
			goto usage;
	}
	if (!udp || duration <= 0 || duration > 86400 || tab_cap < 2)
		goto usage;
	{
		const char *h, *p;
		size_t hn, pn;

		split_hostport(udp, strlen(udp), &h, &hn, &p, &pn);
		if (!resolve(h, hn, p, pn, &ss, &sl))
			goto usage;
		snprintf(self_via, sizeof(self_via), "%s", udp);
	}
	tab = calloc(tab_cap, sizeof(*tab));
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!tab || fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		fprintf(stderr, "sip_proxy: cannot bind %s: %s\n", udp,
			strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	dwell = malloc(DWELL_MAX * sizeof(*dwell));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &rcv, sizeof(rcv)))
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcv, sizeof(rcv));
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_signal);
	fprintf(stderr, "sip_proxy: pid %d udp %s for %.0f s\n", (int)getpid(),
		udp, duration);
	end = bench_now() + duration;
	while (!stop && bench_now() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		for (i = 0; i < 256; i++) {
			flen = sizeof(from);
			n = recv_stamped(fd, buf, MSG_MAX, &from, &flen,
					 &arrived);
			if (n <= 0)
				break;
			buf[n] = '\0';
			on_dgram(fd, buf, (size_t)n, &from, flen);
			if (forget) {
				forget = 0;
				n_dwell = 0;
			}
			if (arrived && dwell && n_dwell < DWELL_MAX)
				dwell[n_dwell++] = rt_now() - arrived;
		}
	}
	fprintf(stderr,
		"sip_proxy: registered %lu, requests forwarded %lu, responses "
		"forwarded %lu, answered locally %lu, dropped %lu\n",
		n_reg, n_fwd_req, n_fwd_resp, n_local, n_drop);
	report_dwell();
	free(dwell);
	for (i = 0; i < tab_cap; i++) {
		free(tab[i].aor);
		free(tab[i].contact);
		free(tab[i].path);
	}
	free(tab);
	close(fd);
	return 0;
usage:
	fprintf(stderr, "usage: sip_proxy --udp H:P [--duration S] "
		"[--max-bindings N]\n");
	return 2;
}
