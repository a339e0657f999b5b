/*
 * The source filter (see synfilter.h): the program builder, the list of
 * held sources and the generation the workers follow.
 *
 * The program (A: accumulator, X: index register, M[0]: scratch):
 *
 *	ldb [net+0]; rsh #4            IP version
 *	jeq #6 ? next : +1; ja v6
 *	jeq #4 ? +1 : next; ret #all   neither: accept
 *	ld [net+12]                    IPv4 source
 *	jeq #a1, drop; ... (chunks of V4_CHUNK, each ending "ja +1; ret #0")
 *	ret #all
 * v6:	ld [net+12]; tax; ld [net+8]; st M[0]   X: second, A: first word
 *	per entry: jeq #w0 ? next : +3; txa; jeq #w1, drop; ld M[0]
 *	(chunks of V6_CHUNK entries, each ending "ja +1; ret #0")
 *	ret #all
 *
 * Conditional jumps reach 255 instructions at most, hence the chunks,
 * each with its own "drop" (ret #0) that the preceding "ja +1" steps
 * over. Only the two loads of the header reach the packet (SKF_NET_OFF:
 * the IP header, whatever the socket's data starts at); the kernel turns
 * those into helper calls, the rest maps one to one onto eBPF.
 */
#include "runtime/synfilter.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define V4_CHUNK 250 /* jt of the first: 250 */
#define V6_CHUNK 60  /* jt of the first: 4 * 60 - 2 = 238 */
#define HEAD_LEN 6
#define ACCEPT_ALL 0xffffffffu
/* What the kernel charges besides the instructions (struct bpf_prog,
 * struct sk_filter, the conversion's prologue), with room to spare. */
#define CHARGE_SLACK 4096
#define EBPF_EXTRA 64 /* eBPF instructions the conversion may add */

struct held {
	struct stls_synf_src s;
	uint64_t until_ms;
};

struct stls_synfilter {
	pthread_mutex_t mu;
	size_t max;
	uint64_t hold_ms;
	struct held *e; /* [max] */
	size_t n;
	bool dirty;        /* the list changed since the program was built */
	uint64_t built_ms; /* last build (when gen != 0) */
	uint64_t gen;      /* the program's; 0: none yet */
	struct sock_filter *prog; /* [BPF_MAXINSNS] */
	unsigned short len;
};

void stls_synf_src_of(const struct stls_addr *a, struct stls_synf_src *out)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)a->family;
	memcpy(out->ip, a->ip, a->family == AF_INET6 ? 8 : 4);
}

static uint32_t word(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static size_t chunks(size_t n, size_t per)
{
	return (n + per - 1) / per;
}

static size_t prog_len(size_t n4, size_t n6)
{
	return HEAD_LEN + 2 + n4 + 2 * chunks(n4, V4_CHUNK) + 5 + 4 * n6 +
	       2 * chunks(n6, V6_CHUNK);
}

size_t stls_synf_worst_len(size_t n)
{
	return prog_len(0, n);
}

struct emit {
	struct sock_filter *out;
	size_t n;
};

static void put(struct emit *e, uint16_t code, uint8_t jt, uint8_t jf,
		uint32_t k)
{
	e->out[e->n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

/* "ja +1; ret #0": the end of a chunk. */
static void chunk_end(struct emit *e)
{
	put(e, BPF_JMP | BPF_JA, 0, 0, 1);
	put(e, BPF_RET | BPF_K, 0, 0, 0);
}

int stls_synf_build(const struct stls_synf_src *src, size_t n,
		    struct sock_filter *out, size_t cap)
{
	struct emit e = { out, 0 };
	size_t i, n4 = 0, n6 = 0, k, j, v6_at;
	const struct stls_synf_src **v4, **v6;

	for (i = 0; i < n; i++) {
		if (src[i].family == AF_INET)
			n4++;
		else if (src[i].family == AF_INET6)
			n6++;
	}
	if (n4 + n6 == 0) {
		if (cap < 1)
			return -E2BIG;
		put(&e, BPF_RET | BPF_K, 0, 0, ACCEPT_ALL);
		return 1;
	}
	if (prog_len(n4, n6) > cap || prog_len(n4, n6) > BPF_MAXINSNS)
		return -E2BIG;
	v4 = malloc((n4 + n6 + 1) * sizeof(*v4));
	if (!v4)
		return -ENOMEM;
	v6 = v4 + n4;
	for (i = 0, n4 = n6 = 0; i < n; i++) {
		if (src[i].family == AF_INET)
			v4[n4++] = &src[i];
		else if (src[i].family == AF_INET6)
			v6[n6++] = &src[i];
	}
	v6_at = HEAD_LEN + 2 + n4 + 2 * chunks(n4, V4_CHUNK);
	put(&e, BPF_LD | BPF_B | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF);
	put(&e, BPF_ALU | BPF_RSH | BPF_K, 0, 0, 4);
	put(&e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 6);
	put(&e, BPF_JMP | BPF_JA, 0, 0, (uint32_t)(v6_at - 4));
	put(&e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 4);
	put(&e, BPF_RET | BPF_K, 0, 0, ACCEPT_ALL);
	/* IPv4: a jeq per address, to the drop at its chunk's end. */
	put(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + 12);
	for (i = 0; i < n4; i += k) {
		k = n4 - i < V4_CHUNK ? n4 - i : V4_CHUNK;
		for (j = 0; j < k; j++)
			put(&e, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(k - j), 0,
			    word(v4[i + j]->ip));
		chunk_end(&e);
	}
	put(&e, BPF_RET | BPF_K, 0, 0, ACCEPT_ALL);
	/* IPv6: the /64 as two words, the second in X, the first in A and
	 * kept in M[0]. */
	put(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + 12);
	put(&e, BPF_MISC | BPF_TAX, 0, 0, 0);
	put(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)SKF_NET_OFF + 8);
	put(&e, BPF_ST, 0, 0, 0);
	for (i = 0; i < n6; i += k) {
		k = n6 - i < V6_CHUNK ? n6 - i : V6_CHUNK;
		for (j = 0; j < k; j++) {
			put(&e, BPF_JMP | BPF_JEQ | BPF_K, 0, 3,
			    word(v6[i + j]->ip));
			put(&e, BPF_MISC | BPF_TXA, 0, 0, 0);
			put(&e, BPF_JMP | BPF_JEQ | BPF_K,
			    (uint8_t)(4 * (k - j) - 2), 0,
			    word(v6[i + j]->ip + 4));
			put(&e, BPF_LD | BPF_MEM, 0, 0, 0);
		}
		chunk_end(&e);
	}
	put(&e, BPF_RET | BPF_K, 0, 0, ACCEPT_ALL);
	free(v4);
	return (int)e.n;
}

/* The most entries whose worst program the kernel will charge to a
 * socket under net.core.optmem_max (on the listener, and again on each
 * socket cloned from it: a failed charge there drops the connection). */
static size_t optmem_entries(void)
{
	FILE *f = fopen("/proc/sys/net/core/optmem_max", "r");
	long optmem = 0;
	size_t n = STLS_SYNF_MAX_ENTRIES;

	if (f) {
		if (fscanf(f, "%ld", &optmem) != 1)
			optmem = 0;
		fclose(f);
	}
	if (optmem <= 0)
		return n; /* unknown: attach failures will say */
	while (n > 0 && (stls_synf_worst_len(n) + EBPF_EXTRA) * 8 +
				CHARGE_SLACK >= (size_t)optmem)
		n--;
	return n;
}

struct stls_synfilter *stls_synfilter_new(size_t max, int hold_ms, int *err)
{
	struct stls_synfilter *f;
	size_t lim = optmem_entries();

	*err = -EINVAL;
	if (max < 1 || max > STLS_SYNF_MAX_ENTRIES || hold_ms < 1)
		return NULL;
	*err = -ENOMEM;
	if (lim < 1)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->max = max < lim ? max : lim;
	f->hold_ms = (uint64_t)hold_ms;
	f->e = calloc(f->max, sizeof(*f->e));
	f->prog = calloc(BPF_MAXINSNS, sizeof(*f->prog));
	if (!f->e || !f->prog) {
		free(f->e);
		free(f->prog);
		free(f);
		return NULL;
	}
	pthread_mutex_init(&f->mu, NULL);
	*err = 0;
	return f;
}

void stls_synfilter_free(struct stls_synfilter *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->mu);
	free(f->e);
	free(f->prog);
	free(f);
}

size_t stls_synfilter_max(const struct stls_synfilter *f)
{
	return f->max;
}

int stls_synfilter_add(struct stls_synfilter *f, const struct stls_addr *peer,
		       uint64_t now_ms)
{
	struct stls_synf_src s;
	size_t i;
	int r = 1;

	stls_synf_src_of(peer, &s);
	pthread_mutex_lock(&f->mu);
	for (i = 0; i < f->n; i++) {
		if (memcmp(&f->e[i].s, &s, sizeof(s)) == 0)
			break;
	}
	if (i < f->n) {
		r = 0;
	} else if (f->n == f->max) {
		r = -ENOSPC;
	} else {
		f->e[f->n].s = s;
		f->e[f->n].until_ms = now_ms + f->hold_ms;
		f->n++;
		f->dirty = true;
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

/* Locked. */
static void expire(struct stls_synfilter *f, uint64_t now_ms)
{
	size_t i = 0;

	while (i < f->n) {
		if (f->e[i].until_ms <= now_ms) {
			f->e[i] = f->e[--f->n];
			f->dirty = true;
		} else {
			i++;
		}
	}
}

/* Locked: the list into the program. */
static void build(struct stls_synfilter *f)
{
	struct stls_synf_src *s = malloc((f->n + 1) * sizeof(*s));
	size_t i;
	int len;

	if (!s)
		return; /* stays dirty: the next update tries again */
	for (i = 0; i < f->n; i++)
		s[i] = f->e[i].s;
	/* f->max keeps the worst case within BPF_MAXINSNS. */
	len = stls_synf_build(s, f->n, f->prog, BPF_MAXINSNS);
	free(s);
	if (len <= 0)
		return;
	f->len = (unsigned short)len;
	f->gen++;
	f->dirty = false;
}

int stls_synfilter_update(struct stls_synfilter *f, uint64_t now_ms,
			  uint64_t *gen, uint64_t *wait_ms)
{
	uint64_t next = 0, due;
	size_t i;
	int built = 0;

	pthread_mutex_lock(&f->mu);
	expire(f, now_ms);
	due = f->gen ? f->built_ms + STLS_SYNF_GAP_MS : 0;
	if (f->dirty && now_ms >= due) {
		build(f);
		if (!f->dirty) {
			f->built_ms = now_ms;
			built = 1;
		}
	}
	if (f->dirty) {
		next = due > now_ms ? due - now_ms : 1;
	} else {
		for (i = 0; i < f->n; i++) {
			uint64_t w = f->e[i].until_ms - now_ms;

			if (!next || w < next)
				next = w;
		}
	}
	*gen = f->gen;
	*wait_ms = next;
	pthread_mutex_unlock(&f->mu);
	return built;
}

/*
 * The program is copied under the lock and attached outside it: the
 * kernel checks and converts it in setsockopt() (about a millisecond for
 * a long list), which must not hold up the other workers' attaches or
 * the refusals that add to the list. A build in between leaves *attached
 * at the copied generation, so the next update attaches again.
 */
int stls_synfilter_attach(struct stls_synfilter *f, int fd,
			  uint64_t *attached)
{
	struct sock_filter *copy = NULL;
	struct sock_fprog fp;
	unsigned short len;
	uint64_t gen;
	int r = 0;

	pthread_mutex_lock(&f->mu);
	gen = f->gen;
	len = f->len;
	if (*attached != gen && len > 1) {
		copy = malloc(len * sizeof(*copy));
		if (copy)
			memcpy(copy, f->prog, len * sizeof(*copy));
	}
	pthread_mutex_unlock(&f->mu);
	if (*attached == gen)
		return 0;
	if (len <= 1) {
		/* Empty: no filter at all costs the kernel nothing. */
		r = stls_synfilter_detach(fd);
	} else if (!copy) {
		r = -ENOMEM;
	} else {
		fp.len = len;
		fp.filter = copy;
		if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
			       sizeof(fp)) != 0)
			r = -errno;
		free(copy);
	}
	if (r == 0)
		*attached = gen;
	return r;
}

size_t stls_synfilter_count(struct stls_synfilter *f)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = f->n;
	pthread_mutex_unlock(&f->mu);
	return n;
}

int stls_synfilter_detach(int fd)
{
	int dummy = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy,
		       sizeof(dummy)) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}
