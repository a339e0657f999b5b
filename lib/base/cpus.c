/*
 * The CPUs this process may run on: its affinity mask (taskset, a
 * cpuset cgroup, systemd's CPUAffinity=), not the machine's count, and
 * at most its cgroup's CPU quota rounded up (a container's CPU limit,
 * systemd's CPUQuota=). What "auto" thread counts follow: on a daemon
 * pinned to one CPU of eight, or allowed one CPU's time of eight, eight
 * workers would only take turns.
 */
#include <sched.h>
#include <unistd.h>

#include "base/cgroup.h"
#include "stls/common.h"

long stls_cpus_usable(void)
{
	struct stls__cgroup cg;
	cpu_set_t set;
	long n = 0, q;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		n = CPU_COUNT(&set);
	}
	if (n < 1) {
		/* More CPUs than a cpu_set_t holds (1024), or no mask: all. */
		n = sysconf(_SC_NPROCESSORS_ONLN);
	}
	q = stls__cgroup_self("cpu", &cg) ? stls__cgroup_cpu_quota_of(&cg) : 0;
	if (q > 0 && q < n) {
		n = q;
	}
	return n < 1 ? 1 : n;
}
