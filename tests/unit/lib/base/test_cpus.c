/*
 * Unit tests for lib/base/cpus.c: the usable CPUs follow the affinity
 * mask, as taskset sets it.
 */
#include "test.h"

#include <sched.h>
#include <unistd.h>

#include "stls/common.h"

/* Unpinned: the mask's count, at most the online CPUs, at least 1. */
TEST(cpus_usable_is_the_mask)
{
	cpu_set_t set;
	long n = stls_cpus_usable();

	CHECK(n >= 1);
	CHECK(n <= sysconf(_SC_NPROCESSORS_ONLN));
	CHECK_OK(sched_getaffinity(0, sizeof(set), &set));
	CHECK_EQ(n, CPU_COUNT(&set));
}

/* Pinned to one CPU (what taskset -c does): 1; the mask back: as before. */
TEST(cpus_usable_follows_pinning)
{
	cpu_set_t was, one;
	long before = stls_cpus_usable();
	int cpu;

	CHECK_OK(sched_getaffinity(0, sizeof(was), &was));
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &was); cpu++)
		;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	CHECK_OK(sched_setaffinity(0, sizeof(one), &one));
	CHECK_EQ(stls_cpus_usable(), 1);
	CHECK_OK(sched_setaffinity(0, sizeof(was), &was));
	CHECK_EQ(stls_cpus_usable(), before);
}
