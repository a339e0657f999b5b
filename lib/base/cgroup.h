/*
 * The cgroup this process is in, found as the kernel shows it: the line
 * of /proc/self/cgroup for a controller (cgroup v1: "N:cpu,cpuacct:/p";
 * v2: "0::/p") and the mount of that hierarchy in /proc/self/mountinfo
 * (whose root may be a part of the path, inside a container without a
 * cgroup namespace). Internal to the library.
 */
#ifndef STLS_BASE_CGROUP_H
#define STLS_BASE_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

#pragma GCC visibility push(hidden)

/* Where a controller's files are for this process. */
struct stls__cgroup {
	char dir[512];   /* the process's cgroup directory, <root> first */
	size_t top;      /* strlen of <root> and the mount point: the
			  * hierarchy's own root is dir[0..top) */
	bool v2;         /* the unified hierarchy (else v1) */
};

/*
 * Find the cgroup directory of <controller> ("cpu", "memory"): in the v1
 * hierarchy that has it, else in the unified one (v2); the first mount
 * of that hierarchy whose directory for us exists. <root> prefixes every
 * path read ("" for the system; tests give a tree of their own).
 * 0; -errno of /proc/self/cgroup or mountinfo; -ENOENT (no such
 * hierarchy, or our path is outside every mount of it, or climbs out
 * with ".."); -ENAMETOOLONG.
 */
int stls__cgroup_find(const char *root, const char *controller,
		      struct stls__cgroup *out);

/*
 * Call <fn> on <cg>'s directory, then on each parent up to and including
 * the mount point: limits set higher up apply too. Above the mount point
 * nothing is visible (a container's cgroup is its mount's root).
 */
void stls__cgroup_walk_up(const struct stls__cgroup *cg,
			  void (*fn)(const char *dir, bool v2, void *arg),
			  void *arg);

/*
 * The first line of <dir>/<name> into <buf> without its newline. False
 * (and <buf> empty) when the file cannot be opened or read, or the path
 * does not fit.
 */
bool stls__cgroup_read(const char *dir, const char *name, char *buf,
		       size_t len);

/*
 * This process's cgroup of <controller> ("cpu" or "memory"; any other is
 * not found), found once per process and copied to <out>: the lookup
 * parses mountinfo, the callers refresh limits often. False when there
 * is none. Any thread.
 */
bool stls__cgroup_self(const char *controller, struct stls__cgroup *out);

/* The CPU quota of <cg> and its ancestors, as below. */
long stls__cgroup_cpu_quota_of(const struct stls__cgroup *cg);

/*
 * The CPU quota of this process's cgroup and its ancestors up to the
 * mount point, in CPUs rounded up (the smallest quota on the way): v2's
 * cpu.max ("QUOTA PERIOD" or "max PERIOD"), v1's cpu.cfs_quota_us and
 * cpu.cfs_period_us (-1: none). 0 when there is none, or no cgroup,
 * or a file does not parse. <root> as above.
 */
long stls__cgroup_cpu_quota(const char *root);

#pragma GCC visibility pop

#endif
