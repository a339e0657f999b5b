/*
 * Unit tests for lib/tls/lowmem.c: budget, threshold formula, caching,
 * a real memory cgroup's limit.
 */
#include "test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cgroup.h"
#include "stls/conn.h"

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
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
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

/* A real memory cgroup: a child moved into a new cgroup limited to
 * 256 MiB sees at most that much available (the cgroup's room, not the
 * machine's MemAvailable). Needs a writable memory hierarchy (root, v1,
 * or v2 with the controller delegated); skipped, saying why, without. */
TEST(lowmem_real_cgroup_limit)
{
	const uint64_t limit = 256ull << 20;
	struct stls_cgroup cg;
	char dir[600], file[700];
	FILE *f;
	pid_t pid;
	int st;

	if (stls_cgroup_find("", "memory", &cg) < 0) {
		test_skip("no cgroup hierarchy with the memory controller");
	}
	snprintf(dir, sizeof(dir), "%s/stls-test-%d", cg.dir, (int)getpid());
	if (mkdir(dir, 0755) != 0) {
		test_skip("cannot make a cgroup (not root, or not delegated)");
	}
	snprintf(file, sizeof(file), "%s/%s", dir,
		 cg.v2 ? "memory.max" : "memory.limit_in_bytes");
	f = fopen(file, "w");
	if (!f) {
		rmdir(dir);
		test_skip("the new cgroup has no memory limit file");
	}
	fprintf(f, "%" PRIu64 "\n", limit);
	CHECK_OK(fclose(f));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		uint64_t v;

		snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
		f = fopen(file, "w");
		if (!f || fputs("0\n", f) < 0 || fclose(f) != 0) {
			_exit(100);
		}
		stls_lowmem_set_budget(0); /* a fresh read */
		v = stls_lowmem_get_available();
		_exit(v > 0 && v <= limit ? 0 : 1);
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_OK(rmdir(dir));
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
}
