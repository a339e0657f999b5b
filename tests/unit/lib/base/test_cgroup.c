/*
 * Unit tests for lib/base/cgroup.c: the cgroup directory found from
 * /proc/self/cgroup and mountinfo (v1, v2, a container's mount root, a
 * second mount) and the CPU quota, on trees made here, and on a real
 * cgroup when this test may make one.
 */
#include "test.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cgroup.h"
#include "lib/base/cgroup_fixture.h"
#include "stls/common.h"

#define MOUNT_V2 "40 30 0:37 / /sys/fs/cgroup rw,relatime shared:1 - cgroup2 cgroup2 rw\n"
#define MOUNT_V1 "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"

/* v2: the directory under the mount, and the smallest quota on the way
 * up ("max" is none), rounded up to whole CPUs. */
TEST(cgroup_v2_quota_walks_up)
{
	const char *r = test_tmp_dir();
	struct stls__cgroup cg;

	cgf_put(r, "proc/self/cgroup", "0::/system.slice/edge.service\n");
	cgf_put(r, "proc/self/mountinfo",
	    "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n" MOUNT_V2);
	cgf_put(r, "sys/fs/cgroup/system.slice/edge.service/cpu.max",
	    "max 100000\n");
	cgf_put(r, "sys/fs/cgroup/system.slice/cpu.max", "250000 100000\n");
	/* Above the mount point: not this hierarchy, never read. */
	cgf_put(r, "sys/fs/cpu.max", "100000 100000\n");
	/* Without its cgroup.procs the directory is not a cgroup. */
	CHECK_EQ(stls__cgroup_find(r, "cpu", &cg), -ENOENT);
	cgf_put(r, "sys/fs/cgroup/system.slice/edge.service/cgroup.procs", "");
	CHECK_OK(stls__cgroup_find(r, "cpu", &cg));
	CHECK(cg.v2);
	CHECK_STR_HAS(cg.dir, "/sys/fs/cgroup/system.slice/edge.service");
	CHECK_EQ(cg.top, strlen(r) + strlen("/sys/fs/cgroup"));
	CHECK_EQ(stls__cgroup_cpu_quota(r), 3); /* 2.5 CPUs */

	/* A tighter limit below wins; half a CPU is one. */
	cgf_put(r, "sys/fs/cgroup/system.slice/edge.service/cpu.max",
	    "50000 100000\n");
	CHECK_EQ(stls__cgroup_cpu_quota(r), 1);
}

/* No limit anywhere, or files that do not parse: no quota. */
TEST(cgroup_no_quota)
{
	const char *r = test_tmp_dir();

	cgf_put(r, "proc/self/cgroup", "0::/a\n");
	cgf_put(r, "proc/self/mountinfo", MOUNT_V2);
	cgf_put(r, "sys/fs/cgroup/a/cgroup.procs", "");
	CHECK_EQ(stls__cgroup_cpu_quota(r), 0); /* no cpu.max at all */
	cgf_put(r, "sys/fs/cgroup/a/cpu.max", "max 100000\n");
	CHECK_EQ(stls__cgroup_cpu_quota(r), 0);
	cgf_put(r, "sys/fs/cgroup/a/cpu.max", "lots 100000\n");
	CHECK_EQ(stls__cgroup_cpu_quota(r), 0);
	cgf_put(r, "sys/fs/cgroup/a/cpu.max", "100000 0\n");
	CHECK_EQ(stls__cgroup_cpu_quota(r), 0);
	cgf_put(r, "sys/fs/cgroup/a/cpu.max", "\n");
	CHECK_EQ(stls__cgroup_cpu_quota(r), 0);
}

/* v1 (and a hybrid system: the v1 hierarchy with the controller wins
 * over the unified one); -1 is no quota. */
TEST(cgroup_v1_quota)
{
	const char *r = test_tmp_dir();
	struct stls__cgroup cg;

	cgf_put(r, "proc/self/cgroup",
	    "5:memory:/m\n2:cpu,cpuacct:/pod/edge\n1:name=systemd:/x\n0::/u\n");
	cgf_put(r, "proc/self/mountinfo", MOUNT_V2 MOUNT_V1);
	cgf_put(r, "sys/fs/cgroup/cpu,cpuacct/pod/edge/cgroup.procs", "");
	cgf_put(r, "sys/fs/cgroup/u/cgroup.procs", "");
	cgf_put(r, "sys/fs/cgroup/cpu,cpuacct/pod/edge/cpu.cfs_quota_us", "-1\n");
	cgf_put(r, "sys/fs/cgroup/cpu,cpuacct/pod/edge/cpu.cfs_period_us",
	    "100000\n");
	cgf_put(r, "sys/fs/cgroup/cpu,cpuacct/pod/cpu.cfs_quota_us", "150000\n");
	cgf_put(r, "sys/fs/cgroup/cpu,cpuacct/pod/cpu.cfs_period_us", "100000\n");
	CHECK_OK(stls__cgroup_find(r, "cpu", &cg));
	CHECK(!cg.v2);
	CHECK_STR_HAS(cg.dir, "/sys/fs/cgroup/cpu,cpuacct/pod/edge");
	CHECK_EQ(stls__cgroup_cpu_quota(r), 2);
	/* memory's line is v1, but that hierarchy is not mounted here. */
	CHECK_EQ(stls__cgroup_find(r, "memory", &cg), -ENOENT);
	/* "cpuacct" names no other controller than itself. */
	cgf_put(r, "proc/self/cgroup", "3:cpuacct:/a\n0::/u\n");
	CHECK_OK(stls__cgroup_find(r, "cpu", &cg));
	CHECK(cg.v2);
	cgf_put(r, "proc/self/cgroup",
	    "5:memory:/m\n2:cpu,cpuacct:/pod/edge\n1:name=systemd:/x\n0::/u\n");
	/* A controller in no v1 hierarchy: the unified one. */
	CHECK_OK(stls__cgroup_find(r, "io", &cg));
	CHECK(cg.v2);
	CHECK_STR_HAS(cg.dir, "/sys/fs/cgroup/u");
}

/* Inside a container without a cgroup namespace the mount's root is the
 * container's cgroup, and /proc/self/cgroup names it in full: the mount
 * point is that cgroup. A path outside the mount's root is not found. */
TEST(cgroup_mount_root)
{
	const char *r = test_tmp_dir();
	struct stls__cgroup cg;

	cgf_put(r, "proc/self/cgroup", "0::/kubepods/pod1/c1\n");
	cgf_put(r, "proc/self/mountinfo",
	    "900 800 0:37 /kubepods/pod1/c1 /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw\n");
	cgf_put(r, "sys/fs/cgroup/cpu.max", "200000 100000\n");
	cgf_put(r, "sys/fs/cgroup/cgroup.procs", "");
	CHECK_OK(stls__cgroup_find(r, "cpu", &cg));
	CHECK_EQ(strlen(cg.dir), cg.top);
	CHECK_EQ(stls__cgroup_cpu_quota(r), 2);

	cgf_put(r, "proc/self/cgroup", "0::/kubepods/pod10\n");
	CHECK_EQ(stls__cgroup_find(r, "cpu", &cg), -ENOENT);
	CHECK_EQ(stls__cgroup_cpu_quota(r), 0);
	/* Outside our cgroup namespace the kernel writes "/..": refused. */
	cgf_put(r, "proc/self/cgroup", "0::/kubepods/pod1/c1/../../x\n");
	CHECK_EQ(stls__cgroup_find(r, "cpu", &cg), -ENOENT);
}

/* A hierarchy mounted twice, the first mount's directory gone (mounted
 * over, or stale): the next mount serves. */
TEST(cgroup_second_mount)
{
	const char *r = test_tmp_dir();
	struct stls__cgroup cg;

	cgf_put(r, "proc/self/cgroup", "0::/a\n");
	cgf_put(r, "proc/self/mountinfo",
		"40 30 0:37 / /old rw - cgroup2 cgroup2 rw\n"
		"41 30 0:37 / /new rw - cgroup2 cgroup2 rw\n");
	cgf_put(r, "new/a/cgroup.procs", "");
	cgf_put(r, "new/a/cpu.max", "300000 100000\n");
	CHECK_OK(stls__cgroup_find(r, "cpu", &cg));
	CHECK_STR_HAS(cg.dir, "/new/a");
	CHECK_EQ(stls__cgroup_cpu_quota(r), 3);
}

/* Mount points with escaped spaces; lines of other shapes are skipped;
 * no cgroup files at all is -ENOENT, not a crash. */
TEST(cgroup_odd_files)
{
	const char *r = test_tmp_dir();
	struct stls__cgroup cg;

	CHECK_EQ(stls__cgroup_find(r, "cpu", &cg), -ENOENT);
	cgf_put(r, "proc/self/cgroup", "garbage\n0::/a\n");
	CHECK_EQ(stls__cgroup_find(r, "cpu", &cg), -ENOENT); /* no mountinfo */
	cgf_put(r, "proc/self/mountinfo",
	    "short line\n1 2 3 4 5 6 no-dash-at-all\n"
	    "40 30 0:37 / /my\\040cg rw - cgroup2 cgroup2 rw\n");
	cgf_put(r, "my cg/a/cpu.max", "100000 100000\n");
	cgf_put(r, "my cg/a/cgroup.procs", "");
	CHECK_OK(stls__cgroup_find(r, "cpu", &cg));
	CHECK_STR_HAS(cg.dir, "/my cg/a");
	CHECK_EQ(stls__cgroup_cpu_quota(r), 1);
}

/* A real cgroup: a child moved into a new cgroup with one CPU's quota
 * counts one usable CPU (cgroup_fixture.h: skipped, saying why, where
 * no cgroup can be made). */
static int usable(void)
{
	return (int)stls_cpus_usable();
}

TEST(cgroup_real_quota_limits_usable_cpus)
{
	struct cg_fixture f;

	cgf_make(&f, "cpu", "cpu.cfs_quota_us", "100000\n", "cpu.max",
		 "100000 100000\n");
	CHECK_EQ(cgf_run(&f, usable), 1);
}
