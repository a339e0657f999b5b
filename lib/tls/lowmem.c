/*
 * Low-memory probe for low_mem_threshold1/2 (seed 10.25, 10.26).
 *
 * Kamailio compares the thresholds with its free shared memory; we have no
 * pool of our own, so "available" is, in this order: an explicit budget
 * minus what the process uses (resident set, /proc/self/statm); when the
 * memory cgroup or a parent is limited (v2 or v1, the cgroup found once
 * through lib/base/cgroup.c), the least room among them (the limit, v2's
 * memory.high if lower, less the working set), at most MemAvailable; or
 * MemAvailable from /proc/meminfo. Reading files on every check would be
 * costly, so the value is cached (a relaxed atomic pair: a racing reader
 * may refresh twice, which is harmless): for 100 ms when it is near a
 * threshold being checked (below FAR_FACTOR times it), for 1 s when it is
 * far above. Far from the thresholds the probe only has to notice the
 * approach; the reads cost 2 % of a busy edge's CPU at 10 refreshes a
 * second.
 */
#include "tls/tls_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cgroup.h"

#define REFRESH_NS (100ull * 1000 * 1000)     /* near a threshold */
#define REFRESH_FAR_NS (1000ull * 1000 * 1000) /* far above them all */
#define FAR_FACTOR 16

static uint64_t budget;       /* atomic */
static uint64_t cached_avail; /* atomic */
static uint64_t cached_at;    /* atomic: monotonic ns, 0 = never */
static long cached_cpus;      /* atomic: usable CPUs, 0 = never read */
static uint64_t cpus_at;      /* atomic: monotonic ns of cached_cpus */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t self_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;

	if (!f) {
		return 0;
	}
	if (fscanf(f, "%lu %lu", &size, &res) != 2) {
		res = 0;
	}
	fclose(f);
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* v1 reports "no limit" as the largest page-aligned signed 64-bit value
 * (9223372036854771712 with 4 KiB pages); a 64-bit kernel's limits are
 * far below 2^62. */
#define V1_UNLIMITED (1ull << 62)

/* <dir>/<name>'s first line as a number. */
static bool cg_u64(const char *dir, const char *name, uint64_t *v)
{
	char line[64];

	return stls__cgroup_read(dir, name, line, sizeof(line)) &&
	       sscanf(line, "%" SCNu64, v) == 1;
}

/*
 * The file cache the kernel can take back at once, from <dir>/memory.stat:
 * the inactive file pages less those dirty or under writeback (which
 * must reach the disk first). v2: inactive_file, file_dirty,
 * file_writeback; v1 (the subtree's figures, as its usage is):
 * total_inactive_file, total_dirty, total_writeback. 0 when unknown.
 */
static uint64_t reclaimable(const char *dir, bool v2)
{
	static const char *const keys[2][3] = {
		{ "total_inactive_file", "total_dirty", "total_writeback" },
		{ "inactive_file", "file_dirty", "file_writeback" },
	};
	char path[640], line[128], k[64];
	uint64_t v, val[3] = { 0, 0, 0 };
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/memory.stat", dir);
	f = fopen(path, "re");
	if (!f) {
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %" SCNu64, k, &v) != 2) {
			continue;
		}
		for (i = 0; i < 3; i++) {
			if (strcmp(k, keys[v2][i]) == 0) {
				val[i] = v;
			}
		}
	}
	fclose(f);
	return val[0] > val[1] + val[2] ? val[0] - val[1] - val[2] : 0;
}

/*
 * One level's room, the smallest kept in *(uint64_t *)arg (UINT64_MAX:
 * none limited so far): its limit less its working set, the usage less
 * the file cache the kernel can reclaim at once (so a container that only
 * filled its page cache, writing logs, is not low). v2: the lower of
 * memory.high (where the kernel starts throttling) and memory.max ("max"
 * does not parse: unlimited), memory.current; v1: memory.limit_in_bytes,
 * memory.usage_in_bytes.
 */
static void level_room(const char *dir, bool v2, void *arg)
{
	uint64_t *best = arg, max, high, cur, v;
	bool limited;

	if (v2) {
		limited = cg_u64(dir, "memory.max", &max);
		if (cg_u64(dir, "memory.high", &high) &&
		    (!limited || high < max)) {
			max = high;
			limited = true;
		}
	} else {
		limited = cg_u64(dir, "memory.limit_in_bytes", &max) &&
			  max < V1_UNLIMITED;
	}
	if (!limited ||
	    !cg_u64(dir, v2 ? "memory.current" : "memory.usage_in_bytes",
		    &cur)) {
		return;
	}
	v = reclaimable(dir, v2);
	cur = cur > v ? cur - v : 0;
	v = cur < max ? max - cur : 0;
	if (v < *best) {
		*best = v;
	}
}

/* The least room over <cg> and its ancestors; false when none is
 * limited. */
static bool cgroup_room(const struct stls__cgroup *cg, uint64_t *room)
{
	uint64_t best = UINT64_MAX;

	stls__cgroup_walk_up(cg, level_room, &best);
	if (best == UINT64_MAX) {
		return false;
	}
	*room = best;
	return true;
}

bool stls__lowmem_cgroup_room(const char *root, uint64_t *room)
{
	struct stls__cgroup cg;

	return stls__cgroup_find(root, "memory", &cg) == 0 &&
	       cgroup_room(&cg, room);
}

/* The memory cgroup's room (this process's cgroup on the system). */
static bool cgroup_avail(uint64_t *avail)
{
	struct stls__cgroup cg;

	return stls__cgroup_self("memory", &cg) && cgroup_room(&cg, avail);
}

static uint64_t meminfo_avail(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	uint64_t kb = 0;

	if (!f) {
		return UINT64_MAX; /* unknown: never refuse because of it */
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemAvailable: %" SCNu64, &kb) == 1) {
			fclose(f);
			return kb * 1024;
		}
	}
	fclose(f);
	return UINT64_MAX;
}

static uint64_t probe(void)
{
	uint64_t b = __atomic_load_n(&budget, __ATOMIC_RELAXED);
	uint64_t v;

	if (b) {
		uint64_t used = self_rss();

		return used < b ? b - used : 0;
	}
	if (cgroup_avail(&v)) {
		/* A limit above what the host has left: the host binds. */
		uint64_t host = meminfo_avail();

		return v < host ? v : host;
	}
	return meminfo_avail();
}

/* Set (or with 0 clear) the memory budget. Any thread. */
void stls_lowmem_set_budget(uint64_t bytes)
{
	__atomic_store_n(&budget, bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&cached_at, 0, __ATOMIC_RELAXED);
}

/* Available bytes, probed again when the cached figure is older than
 * <max_age> ns. Any thread. */
static uint64_t available(uint64_t max_age)
{
	uint64_t t = now_ns();
	uint64_t at = __atomic_load_n(&cached_at, __ATOMIC_RELAXED);
	uint64_t v;

	if (at && t - at < max_age) {
		return __atomic_load_n(&cached_avail, __ATOMIC_RELAXED);
	}
	v = probe();
	__atomic_store_n(&cached_avail, v, __ATOMIC_RELAXED);
	__atomic_store_n(&cached_at, t ? t : 1, __ATOMIC_RELAXED);
	return v;
}

/* Available bytes, refreshed at most every 100 ms. Any thread. */
uint64_t stls_lowmem_get_available(void)
{
	return available(REFRESH_NS);
}

/*
 * The CPUs this process may use (stls_cpus_usable(): affinity, cgroup
 * quota; one worker each with `workers = auto`), refreshed at most every
 * second: counting them reads files, and the default thresholds are
 * needed at every engine operation.
 */
static long usable_cpus(void)
{
	uint64_t t = now_ns();
	uint64_t at = __atomic_load_n(&cpus_at, __ATOMIC_RELAXED);
	long n = __atomic_load_n(&cached_cpus, __ATOMIC_RELAXED);

	if (n > 0 && t - at < REFRESH_FAR_NS) {
		return n;
	}
	n = stls_cpus_usable();
	__atomic_store_n(&cached_cpus, n > 0 ? n : 1, __ATOMIC_RELAXED);
	__atomic_store_n(&cpus_at, t, __ATOMIC_RELAXED);
	return n;
}

/*
 * Bytes for a threshold setting in KB: 0 or less than -1 -> 0 (off); -1 ->
 * 512 KiB x max(4, usable CPUs) for threshold 1, half for threshold 2.
 */
uint64_t stls_lowmem_threshold_bytes(int kb, int which)
{
	long cpus;
	uint64_t def;

	if (kb > 0) {
		return (uint64_t)kb * 1024;
	}
	if (kb != -1) {
		return 0;
	}
	cpus = usable_cpus();
	if (cpus < 4) {
		cpus = 4;
	}
	def = 512ull * 1024 * (uint64_t)cpus;
	return which == 2 ? def / 2 : def;
}

/* True when threshold `which` (1 or 2) is on and memory is below it. */
bool stls_lowmem_is_low(int kb, int which)
{
	uint64_t t = stls_lowmem_threshold_bytes(kb, which);
	uint64_t v;

	if (!t) {
		return false;
	}
	v = available(REFRESH_FAR_NS);
	if (v / FAR_FACTOR < t) {
		v = available(REFRESH_NS);
	}
	return v < t;
}
