/*
 * Unit tests for lib/tls/lowmem.c: budget, threshold formula, caching,
 * the memory cgroup's room on made-up trees (v1, v2) and a real one.
 */
#include "test.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/cgroup_fixture.h"
#include "stls/conn.h"
#include "tls/tls_int.h"

TEST(lowmem_budget_drives_available)
{
	stls_lowmem_set_budget(1);
	CHECK_EQ(stls_lowmem_get_available(), 0);
	CHECK(stls_lowmem_is_low(1, 1));
	CHECK(!stls_lowmem_is_low(0, 1)); /* 0 disables */
	stls_lowmem_set_budget(1ull << 50);
	CHECK(stls_lowmem_get_available() > (1ull << 49));
	CHECK(!stls_lowmem_is_low(-1, 1));
	CHECK(!stls_lowmem_is_low(-1, 2));
	stls_lowmem_set_budget(0);
	/* Without a budget: cgroup or MemAvailable, never zero here. */
	CHECK(stls_lowmem_get_available() > 0);
}

TEST(lowmem_threshold_formula)
{
	long cpus = stls_cpus_usable(); /* affinity and cgroup quota */
	uint64_t def = 512ull * 1024 * (uint64_t)(cpus < 4 ? 4 : cpus);

	CHECK_EQ(stls_lowmem_threshold_bytes(0, 1), 0);
	CHECK_EQ(stls_lowmem_threshold_bytes(2048, 1), 2048 * 1024);
	CHECK_EQ(stls_lowmem_threshold_bytes(-1, 1), def);
	CHECK_EQ(stls_lowmem_threshold_bytes(-1, 2), def / 2);
	CHECK_EQ(stls_lowmem_threshold_bytes(-7, 2), 0);
}

/* The value is cached for 100 ms: a budget change clears the cache. */
TEST(lowmem_cached)
{
	uint64_t a, b;

	stls_lowmem_set_budget(1ull << 40);
	a = stls_lowmem_get_available();
	b = stls_lowmem_get_available();
	CHECK_EQ(a, b);
	stls_lowmem_set_budget(0);
}

/* Resident bytes of this process as the probe sees them (a budget less
 * what is available under it: a new budget reads afresh), or 0. */
static uint64_t rss_bytes(void)
{
	const uint64_t big = 1ull << 50;
	uint64_t avail;

	stls_lowmem_set_budget(big);
	avail = stls_lowmem_get_available();
	stls_lowmem_set_budget(0);
	return big - avail;
}

/* Far above a threshold (16 times it or more) the figure is kept for a
 * second; near one it is read again after 100 ms. The budget makes the
 * process's own growth the change in available memory. */
TEST(lowmem_refresh_follows_headroom)
{
	const size_t grow = 64u << 20;
	uint64_t rss = rss_bytes();
	unsigned char *p;
	size_t i;

	if (!rss) {
		return; /* no /proc/self/statm: nothing to check */
	}
	stls_lowmem_set_budget(rss + (40u << 20));
	CHECK(!stls_lowmem_is_low(1024, 1)); /* 40 MB left, 1 MB threshold */
	p = malloc(grow);
	CHECK(p != NULL);
	for (i = 0; i < grow; i += 4096) {
		p[i] = 1; /* resident: now nothing is left */
	}
	usleep(150 * 1000);
	/* 40 MB cached is far above 1 MB: not read again yet. */
	CHECK(!stls_lowmem_is_low(1024, 1));
	/* ... but near 8 MB (40 < 16 x 8): read again, and low. */
	CHECK(stls_lowmem_is_low(8192, 1));
	/* The fresh figure now answers the 1 MB threshold too. */
	CHECK(stls_lowmem_is_low(1024, 1));
	free(p);
	stls_lowmem_set_budget(0);
}

/* Read syscalls made by this process so far (/proc/self/io), or -1. */
static long read_syscalls(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	long n = -1;

	if (!f) {
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "syscr: %ld", &n) == 1) {
			break;
		}
	}
	fclose(f);
	return n;
}

/* The default thresholds (-1) are needed at every engine operation: the
 * CPU count behind them is cached, not read from sysfs at each call. */
TEST(lowmem_default_threshold_reads_no_file)
{
	uint64_t first = stls_lowmem_threshold_bytes(-1, 1);
	long before, after;
	int i;

	before = read_syscalls();
	if (before < 0) {
		return; /* no /proc/self/io: nothing to check */
	}
	for (i = 0; i < 1000; i++) {
		CHECK_EQ(stls_lowmem_threshold_bytes(-1, 1), first);
	}
	after = read_syscalls();
	/* The two reads of /proc/self/io itself, and at most a few
	 * refreshes if the loop spans a 100 ms boundary. */
	CHECK(after - before < 50);
}

/* Writes <text> to <file> under the made-up tree <r> and returns the
 * room the probe then finds (a limit must be found). */
static uint64_t room_after(const char *r, const char *file, const char *text)
{
	uint64_t room = 0;

	cgf_put(r, file, text);
	CHECK(stls__lowmem_cgroup_room(r, &room));
	return room;
}

/* v2 on a made-up tree: the room is the limit (memory.high when lower)
 * less the working set (usage less the inactive file cache that is
 * neither dirty nor under writeback), the least over the cgroup and its
 * ancestors; "max" everywhere is no limit. */
TEST(lowmem_cgroup_v2_room)
{
	const char *r = test_tmp_dir();
	uint64_t room = 0;

	cgf_put(r, "proc/self/cgroup", "0::/slice/edge\n");
	cgf_put(r, "proc/self/mountinfo",
	    "40 30 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	cgf_put(r, "sys/fs/cgroup/slice/edge/cgroup.procs", "");
	cgf_put(r, "sys/fs/cgroup/slice/edge/memory.max", "max\n");
	cgf_put(r, "sys/fs/cgroup/slice/edge/memory.current", "1000\n");
	cgf_put(r, "sys/fs/cgroup/slice/memory.max", "max\n");
	CHECK(!stls__lowmem_cgroup_room(r, &room));

	cgf_put(r, "sys/fs/cgroup/slice/memory.max", "100000\n");
	CHECK_EQ(room_after(r, "sys/fs/cgroup/slice/memory.current",
			    "60000\n"), 40000);
	/* 30,000 of the 60,000 are inactive file cache: reclaimable. */
	CHECK_EQ(room_after(r, "sys/fs/cgroup/slice/memory.stat",
			    "anon 20000\nfile 40000\ninactive_file 30000\n"
			    "active_file 10000\n"), 70000);
	/* Cache that is dirty or under writeback must reach the disk
	 * first: not counted as free. */
	CHECK_EQ(room_after(r, "sys/fs/cgroup/slice/memory.stat",
			    "inactive_file 30000\nfile_dirty 5000\n"
			    "file_writeback 1000\n"), 64000);
	/* memory.high below memory.max: the kernel throttles there. */
	CHECK_EQ(room_after(r, "sys/fs/cgroup/slice/memory.high", "80000\n"),
		 44000);
	CHECK_EQ(room_after(r, "sys/fs/cgroup/slice/memory.high", "max\n"),
		 64000);
	/* A leaf with only memory.high is limited there. */
	CHECK_EQ(room_after(r, "sys/fs/cgroup/slice/edge/memory.high",
			    "31000\n"), 30000);
	/* A tighter leaf wins; usage above the limit is no room. */
	CHECK_EQ(room_after(r, "sys/fs/cgroup/slice/edge/memory.max", "900\n"),
		 0);
}

/* v1 on a made-up tree: the kernel's "unlimited" is no limit;
 * total_inactive_file less total_dirty (the subtree's, as its usage is;
 * not this cgroup's own inactive_file) is the cache that counts as
 * free. */
TEST(lowmem_cgroup_v1_room)
{
	const char *r = test_tmp_dir();
	uint64_t room = 0;

	cgf_put(r, "proc/self/cgroup", "4:memory:/pod\n0::/\n");
	cgf_put(r, "proc/self/mountinfo",
	    "34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
	cgf_put(r, "sys/fs/cgroup/memory/pod/cgroup.procs", "");
	cgf_put(r, "sys/fs/cgroup/memory/pod/memory.limit_in_bytes",
	    "9223372036854771712\n");
	cgf_put(r, "sys/fs/cgroup/memory/pod/memory.usage_in_bytes", "5000\n");
	cgf_put(r, "sys/fs/cgroup/memory/memory.limit_in_bytes",
	    "9223372036854771712\n");
	CHECK(!stls__lowmem_cgroup_room(r, &room));

	cgf_put(r, "sys/fs/cgroup/memory/pod/memory.limit_in_bytes", "268435456\n");
	CHECK_EQ(room_after(r, "sys/fs/cgroup/memory/pod/memory.stat",
			    "cache 4000\ninactive_file 100\n"
			    "total_inactive_file 3000\ntotal_dirty 500\n"),
		 268435456 - 2500);
}

/* A real memory cgroup: a child moved into a new cgroup limited to
 * 256 MiB sees at most that much available, through the probe itself
 * (the cgroup's room, not the machine's MemAvailable: the child also
 * checks the cgroup figure alone). Skipped, saying why, where no cgroup
 * can be made (cgroup_fixture.h). */
static int limited(void)
{
	const uint64_t limit = 256ull << 20;
	uint64_t v, room = 0;

	stls_lowmem_set_budget(0); /* a fresh read */
	v = stls_lowmem_get_available();
	if (!stls__lowmem_cgroup_room("", &room) || room > limit) {
		return 2;
	}
	return v > 0 && v <= limit ? 0 : 1;
}

TEST(lowmem_real_cgroup_limit)
{
	struct cg_fixture f;

	cgf_make(&f, "memory", "memory.limit_in_bytes", "268435456\n",
		 "memory.max", "268435456\n");
	CHECK_EQ(cgf_run(&f, limited), 0);
}
