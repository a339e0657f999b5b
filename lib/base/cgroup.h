/*
 * The cgroup this process is in, found as the kernel shows it: the line
 * of /proc/self/cgroup for a controller (cgroup v1: "N:cpu,cpuacct:/p";
 * v2: "0::/p") and the mount of that hierarchy in /proc/self/mountinfo
 * (whose root may be a part of the path, inside a cgroup namespace).
 */
#ifndef STLS_BASE_CGROUP_H
#define STLS_BASE_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

/* Where a controller's files are for this process. */
struct stls_cgroup {
	char dir[512];   /* the process's cgroup directory */
	size_t top;      /* strlen of the mount point: dir[0..top) */
	bool v2;         /* the unified hierarchy (else v1) */
};

/*
 * Find the cgroup directory of <controller> ("cpu", "memory"): the v1
 * hierarchy that has it, else the unified one (v2). <root> prefixes
 * every path read ("" for the system; tests give a tree of their own).
 * 0, or -ENOENT (no cgroup file, no such hierarchy mounted, or a path
 * outside the mount), -ENAMETOOLONG.
 */
int stls_cgroup_find(const char *root, const char *controller,
		     struct stls_cgroup *out);

/*
 * Call <fn> on <cg>'s directory, then on each parent up to and including
 * the mount point (the hierarchy's root): limits set higher up apply too.
 */
void stls_cgroup_walk_up(const struct stls_cgroup *cg,
			 void (*fn)(const char *dir, bool v2, void *arg),
			 void *arg);

/*
 * The CPU quota of this process's cgroup and its ancestors up to the
 * mount point, in CPUs rounded up (the smallest quota on the way): v2's
 * cpu.max ("QUOTA PERIOD" or "max PERIOD"), v1's cpu.cfs_quota_us and
 * cpu.cfs_period_us (-1: none). 0 when there is none, or no cgroup,
 * or a file does not parse. <root> as above.
 */
long stls_cgroup_cpu_quota(const char *root);

#endif
