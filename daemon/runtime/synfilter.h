/*
 * The source filter ([core] source_filter): sources the per-source limits
 * (srclim.h) refused are listed, for a hold time, in a classic BPF socket
 * filter (SO_ATTACH_FILTER: no privileges, no libbpf) on the listening
 * sockets, so that the kernel drops their SYNs (and any handshake ACK)
 * before accept(): no SYN-ACK, no accept, no reset, no work in the
 * daemon. A refusal after accept costs 20-35 us of our CPU; a dropped SYN
 * costs the kernel the filter's run (docs/performance.md).
 *
 * A source is the unit of srclim: one IPv4 address, or one IPv6 /64. The
 * program checks the IP version (a dual-stack listener sees both) and
 * loads the source address at SKF_NET_OFF, then compares it with each
 * listed entry in turn: one instruction per IPv4 entry, four per IPv6
 * one, so the cost per SYN grows with the list; the list is bounded
 * (<max> entries, and the program stays under BPF_MAXINSNS and within
 * net.core.optmem_max, which the kernel charges for it on the listener
 * and again on every socket cloned from it). A source that does not fit
 * is refused after accept as before, and counted.
 *
 * One list for the daemon, behind a mutex; the program is rebuilt at
 * most once per STLS_SYNF_GAP_MS (10 programs a second): sources listed
 * in between wait for the next build (they are refused after accept
 * meanwhile). Each worker attaches the current program to its own
 * listening sockets (stls_synfilter_attach()) when its generation moved.
 *
 * Accepted sockets: Linux copies the listener's filter into every socket
 * it clones at the handshake's end (sk_clone_lock charges sk_filter), so
 * each packet of an established connection would run the program too.
 * Callers detach it from every accepted socket (stls_synfilter_detach()).
 */
#ifndef STLSD_SYNFILTER_H
#define STLSD_SYNFILTER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stls/addr.h"
#include "stls/common.h"

#define STLS_SYNF_GAP_MS 100      /* at most 10 programs a second */
#define STLS_SYNF_MAX_ENTRIES 1000 /* 1000 IPv6 entries: 4047 insns */

struct stls_synfilter;

/* One listed source: an IPv4 address, or the first 8 bytes (the /64) of
 * an IPv6 one. */
struct stls_synf_src {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t ip[8];
};

/* The source unit of <a> (port and IPv6 host part dropped). */
void stls_synf_src_of(const struct stls_addr *a, struct stls_synf_src *out);

/*
 * Writes the filter program dropping every packet from <src>[0..n) and
 * accepting all others into <out> (room for <cap> instructions).
 * Returns the number of instructions, or -E2BIG when they do not fit.
 * An empty list gives the one-instruction "accept all" program.
 */
STLS_MUST_USE int stls_synf_build(const struct stls_synf_src *src, size_t n,
				  struct sock_filter *out, size_t cap);

/*
 * Instructions of the longest program for <n> entries (all IPv6): the
 * bound a list of <n> entries is checked against.
 */
size_t stls_synf_worst_len(size_t n);

/*
 * A list of at most <max> sources (1..STLS_SYNF_MAX_ENTRIES, lowered to
 * what net.core.optmem_max allows), each held <hold_ms> after it was
 * listed. NULL with *err -EINVAL or -ENOMEM.
 */
struct stls_synfilter *stls_synfilter_new(size_t max, int hold_ms, int *err);
void stls_synfilter_free(struct stls_synfilter *f);

/* The bound actually applied (after optmem_max). */
size_t stls_synfilter_max(const struct stls_synfilter *f);

/*
 * Lists <peer>'s source from <now_ms> (a monotonic clock) for the hold
 * time. Returns 1 when it was listed anew, 0 when it already was (its
 * hold is not extended: its SYNs no longer reach us once the program is
 * on), -ENOSPC when the list is full. Any thread.
 */
STLS_MUST_USE int stls_synfilter_add(struct stls_synfilter *f,
				     const struct stls_addr *peer,
				     uint64_t now_ms);

/*
 * Brings the program up to <now_ms>: drops sources whose hold ended and,
 * when the list changed and the last build is STLS_SYNF_GAP_MS old,
 * builds the program anew. Returns 1 when it built one, else 0. *gen is
 * the current program's generation (0: none built yet); *wait_ms, when
 * to call again (0: nothing pending). Any thread.
 */
int stls_synfilter_update(struct stls_synfilter *f, uint64_t now_ms,
			  uint64_t *gen, uint64_t *wait_ms);

/*
 * Puts the current program on listening socket <fd> (or takes the filter
 * off when the list is empty) unless *attached already is its
 * generation; sets *attached. Returns 0 or -errno from setsockopt()
 * (-ENOMEM: over optmem_max, or no memory for the copy of the program
 * that is attached outside the list's lock; the socket keeps its
 * previous program). The thread that owns <fd>.
 */
STLS_MUST_USE int stls_synfilter_attach(struct stls_synfilter *f, int fd,
					uint64_t *attached);

/* Sources listed now (tls.info, tests). Any thread. */
size_t stls_synfilter_count(struct stls_synfilter *f);

/*
 * Takes the filter an accepted socket inherited from its listener off
 * (SO_DETACH_FILTER; nothing to do is not an error). Returns 0 or
 * -errno.
 */
int stls_synfilter_detach(int fd);

#endif
