/*
 * The CPUs this process may run on: its affinity mask (taskset, a
 * cpuset cgroup, systemd's CPUAffinity=), not the machine's count. What
 * "auto" thread counts follow: on a daemon pinned to one CPU of eight,
 * eight workers would only take turns on it.
 */
#include <sched.h>
#include <unistd.h>

#include "stls/common.h"

long stls_cpus_usable(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		n = CPU_COUNT(&set);
		if (n > 0) {
			return n;
		}
	}
	/* More CPUs than a cpu_set_t holds (1024), or no mask: all. */
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n;
}
