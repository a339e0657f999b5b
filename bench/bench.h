/*
 * Helpers shared by the benchmark programs under bench/: wall and CPU
 * clocks, percentiles, and sampling a server process tree from /proc.
 *
 * The benchmark programs are tools, not part of libsiptls: they link only
 * OpenSSL and libc, and every loop in them is bounded in time and count.
 */
#ifndef STLS_BENCH_H
#define STLS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stls/common.h"

/* One look at a process and all its descendants. */
struct bench_proc {
	double cpu_s; /* utime+stime of every live process in the tree, plus
		       * cutime+cstime (children already reaped) */
	long rss_kb;  /* sum of VmRSS */
	long pss_kb;  /* sum of Pss (smaps_rollup): shared pages split */
	int nproc;    /* processes found in the tree */
};

/*
 * Sample process <pid> and every descendant (found by walking the ppid
 * links of /proc/<n>/stat). /proc/<pid>/stat already sums all threads of a
 * process. Returns 0, or -ESRCH when <pid> does not exist. Thread: any.
 */
STLS_MUST_USE int bench_proc_sample(pid_t pid, struct bench_proc *out);

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);

/* CLOCK_THREAD_CPUTIME_ID in seconds. */
double bench_thread_cpu(void);

/*
 * Sorts v[0..n) in place and returns the p-th percentile (0..100, nearest
 * rank), or 0 when n is 0.
 */
double bench_percentile(double *v, size_t n, double p);

#endif
