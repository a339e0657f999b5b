/*
 * Unit tests for lib/base/cgroup.c: the cgroup directory found from
 * /proc/self/cgroup and mountinfo (v1, v2, a namespace's mount root),
 * and the CPU quota, on trees made here and on a real cgroup when this
 * test may make one.
 */
#include "test.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cgroup.h"
#include "stls/common.h"

/* <root>/<rel> holds <text>; the directories on the way are made. */
static void put(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		CHECK(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	f = fopen(path, "w");
	CHECK_NOT_NULL(f);
	fputs(text, f);
	CHECK_OK(fclose(f));
}

#define MOUNT_V2 "40 30 0:37 / /sys/fs/cgroup rw,relatime shared:1 - cgroup2 cgroup2 rw\n"
#define MOUNT_V1 "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"

/* v2: the directory under the mount, and the smallest quota on the way
 * up ("max" is none), rounded up to whole CPUs. */
TEST(cgroup_v2_quota_walks_up)
{
	const char *r = test_tmp_dir();
	struct stls_cgroup cg;

	put(r, "proc/self/cgroup", "0::/system.slice/edge.service\n");
	put(r, "proc/self/mountinfo",
	    "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n" MOUNT_V2);
	put(r, "sys/fs/cgroup/system.slice/edge.service/cpu.max",
	    "max 100000\n");
	put(r, "sys/fs/cgroup/system.slice/cpu.max", "250000 100000\n");
	CHECK_OK(stls_cgroup_find(r, "cpu", &cg));
	CHECK(cg.v2);
	CHECK_STR_HAS(cg.dir, "/sys/fs/cgroup/system.slice/edge.service");
	CHECK_EQ(cg.top, strlen(r) + strlen("/sys/fs/cgroup"));
	CHECK_EQ(stls_cgroup_cpu_quota(r), 3); /* 2.5 CPUs */

	/* A tighter limit below wins; half a CPU is one. */
	put(r, "sys/fs/cgroup/system.slice/edge.service/cpu.max",
	    "50000 100000\n");
	CHECK_EQ(stls_cgroup_cpu_quota(r), 1);
}

/* No limit anywhere, or files that do not parse: no quota. */
TEST(cgroup_no_quota)
{
	const char *r = test_tmp_dir();

	put(r, "proc/self/cgroup", "0::/a\n");
	put(r, "proc/self/mountinfo", MOUNT_V2);
	CHECK_EQ(stls_cgroup_cpu_quota(r), 0); /* no cpu.max at all */
	put(r, "sys/fs/cgroup/a/cpu.max", "max 100000\n");
	CHECK_EQ(stls_cgroup_cpu_quota(r), 0);
	put(r, "sys/fs/cgroup/a/cpu.max", "lots 100000\n");
	CHECK_EQ(stls_cgroup_cpu_quota(r), 0);
	put(r, "sys/fs/cgroup/a/cpu.max", "100000 0\n");
	CHECK_EQ(stls_cgroup_cpu_quota(r), 0);
	put(r, "sys/fs/cgroup/a/cpu.max", "\n");
	CHECK_EQ(stls_cgroup_cpu_quota(r), 0);
}

/* v1 (and a hybrid system: the v1 hierarchy with the controller wins
 * over the unified one); -1 is no quota. */
TEST(cgroup_v1_quota)
{
	const char *r = test_tmp_dir();
	struct stls_cgroup cg;

	put(r, "proc/self/cgroup",
	    "5:memory:/m\n2:cpu,cpuacct:/pod/edge\n1:name=systemd:/x\n0::/u\n");
	put(r, "proc/self/mountinfo", MOUNT_V2 MOUNT_V1);
	put(r, "sys/fs/cgroup/cpu,cpuacct/pod/edge/cpu.cfs_quota_us", "-1\n");
	put(r, "sys/fs/cgroup/cpu,cpuacct/pod/edge/cpu.cfs_period_us",
	    "100000\n");
	put(r, "sys/fs/cgroup/cpu,cpuacct/pod/cpu.cfs_quota_us", "150000\n");
	put(r, "sys/fs/cgroup/cpu,cpuacct/pod/cpu.cfs_period_us", "100000\n");
	CHECK_OK(stls_cgroup_find(r, "cpu", &cg));
	CHECK(!cg.v2);
	CHECK_STR_HAS(cg.dir, "/sys/fs/cgroup/cpu,cpuacct/pod/edge");
	CHECK_EQ(stls_cgroup_cpu_quota(r), 2);
	/* memory's line is v1, but that hierarchy is not mounted here. */
	CHECK_EQ(stls_cgroup_find(r, "memory", &cg), -ENOENT);
	/* "cpuacct" names no other controller than itself. */
	put(r, "proc/self/cgroup", "3:cpuacct:/a\n0::/u\n");
	CHECK_OK(stls_cgroup_find(r, "cpu", &cg));
	CHECK(cg.v2);
	put(r, "proc/self/cgroup",
	    "5:memory:/m\n2:cpu,cpuacct:/pod/edge\n1:name=systemd:/x\n0::/u\n");
	/* A controller in no v1 hierarchy: the unified one. */
	CHECK_OK(stls_cgroup_find(r, "io", &cg));
	CHECK(cg.v2);
	CHECK_STR_HAS(cg.dir, "/sys/fs/cgroup/u");
}

/* Inside a container without a cgroup namespace the mount's root is the
 * container's cgroup, and /proc/self/cgroup names it in full: the mount
 * point is that cgroup. A path outside the mount's root is not found. */
TEST(cgroup_mount_root)
{
	const char *r = test_tmp_dir();
	struct stls_cgroup cg;

	put(r, "proc/self/cgroup", "0::/kubepods/pod1/c1\n");
	put(r, "proc/self/mountinfo",
	    "900 800 0:37 /kubepods/pod1/c1 /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw\n");
	put(r, "sys/fs/cgroup/cpu.max", "200000 100000\n");
	CHECK_OK(stls_cgroup_find(r, "cpu", &cg));
	CHECK_EQ(strlen(cg.dir), cg.top);
	CHECK_EQ(stls_cgroup_cpu_quota(r), 2);

	put(r, "proc/self/cgroup", "0::/kubepods/pod10\n");
	CHECK_EQ(stls_cgroup_find(r, "cpu", &cg), -ENOENT);
	CHECK_EQ(stls_cgroup_cpu_quota(r), 0);
}

/* Mount points with escaped spaces; lines of other shapes are skipped;
 * no cgroup files at all is -ENOENT, not a crash. */
TEST(cgroup_odd_files)
{
	const char *r = test_tmp_dir();
	struct stls_cgroup cg;

	CHECK_EQ(stls_cgroup_find(r, "cpu", &cg), -ENOENT);
	put(r, "proc/self/cgroup", "garbage\n0::/a\n");
	CHECK_EQ(stls_cgroup_find(r, "cpu", &cg), -ENOENT); /* no mountinfo */
	put(r, "proc/self/mountinfo",
	    "short line\n1 2 3 4 5 6 no-dash-at-all\n"
	    "40 30 0:37 / /my\\040cg rw - cgroup2 cgroup2 rw\n");
	put(r, "my cg/a/cpu.max", "100000 100000\n");
	CHECK_OK(stls_cgroup_find(r, "cpu", &cg));
	CHECK_STR_HAS(cg.dir, "/my cg/a");
	CHECK_EQ(stls_cgroup_cpu_quota(r), 1);
}

/* A real cgroup: a child moved into a new cgroup with one CPU's quota
 * counts one usable CPU. Needs a writable cpu hierarchy (root, v1 or a
 * v2 cgroup with the cpu controller delegated); skipped, saying why,
 * where there is none. */
TEST(cgroup_real_quota_limits_usable_cpus)
{
	struct stls_cgroup cg;
	char dir[600], file[700];
	FILE *f;
	pid_t pid;
	int st;

	if (stls_cgroup_find("", "cpu", &cg) < 0) {
		test_skip("no cgroup hierarchy with the cpu controller");
	}
	snprintf(dir, sizeof(dir), "%s/stls-test-%d", cg.dir, (int)getpid());
	if (mkdir(dir, 0755) != 0) {
		test_skip("cannot make a cgroup (not root, or not delegated)");
	}
	snprintf(file, sizeof(file), "%s/%s", dir,
		 cg.v2 ? "cpu.max" : "cpu.cfs_quota_us");
	f = fopen(file, "w");
	if (!f) {
		rmdir(dir);
		test_skip("the new cgroup has no cpu quota file");
	}
	fputs(cg.v2 ? "100000 100000\n" : "100000\n", f);
	CHECK_OK(fclose(f));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
		f = fopen(file, "w");
		if (!f || fputs("0\n", f) < 0 || fclose(f) != 0) {
			_exit(100);
		}
		_exit((int)stls_cpus_usable());
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_OK(rmdir(dir));
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 1);
}
