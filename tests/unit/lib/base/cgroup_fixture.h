/*
 * A real cgroup for a test: made under this process's own cgroup of a
 * controller, one limit file written, a forked child moved into it. Used
 * by test_cgroup.c and lib/tls/test_lowmem.c. Needs a writable hierarchy:
 * root on cgroup v1, or on v2 a cgroup that may give its children the
 * controller (v2 lets only a cgroup without processes of its own do so:
 * in practice the root cgroup). Elsewhere the case is skipped, saying
 * why. The cgroup is removed before any check can fail the case.
 */
#ifndef STLS_TEST_CGROUP_FIXTURE_H
#define STLS_TEST_CGROUP_FIXTURE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cgroup.h"
#include "test.h"

/* <root>/<rel> holds <text>; the directories on the way are made (the
 * made-up trees of /proc and /sys/fs/cgroup). */
static inline void cgf_put(const char *root, const char *rel,
			   const char *text)
{
	char path[700];
	FILE *fp;
	char *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		CHECK(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	fp = fopen(path, "w");
	CHECK_NOT_NULL(fp);
	fputs(text, fp);
	CHECK_OK(fclose(fp));
}

struct cg_fixture {
	char dir[600];
};

/* Make the cgroup and write <v1_value> to its <v1_file>, or <v2_value>
 * to its <v2_file> (as the hierarchy is). Skips the case when it cannot. */
static inline void cgf_make(struct cg_fixture *f, const char *controller,
			    const char *v1_file, const char *v1_value,
			    const char *v2_file, const char *v2_value)
{
	struct stls__cgroup cg;
	char file[700];
	FILE *fp;
	bool ok;

	if (stls__cgroup_find("", controller, &cg) < 0) {
		test_skip("no cgroup hierarchy with the controller");
	}
	/* A cgroup left by a killed run of the same pid: a new name. */
	snprintf(f->dir, sizeof(f->dir), "%s/stls-test-%d-%ld", cg.dir,
		 (int)getpid(), (long)time(NULL));
	if (mkdir(f->dir, 0755) != 0) {
		test_skip(errno == EEXIST ? "the test's cgroup exists already"
					  : "cannot make a cgroup (not root)");
	}
	snprintf(file, sizeof(file), "%s/%s", f->dir,
		 cg.v2 ? v2_file : v1_file);
	fp = fopen(file, "w");
	ok = fp && fputs(cg.v2 ? v2_value : v1_value, fp) >= 0;
	if (fp && fclose(fp) != 0) {
		ok = false; /* e.g. v1: a quota above the parent's, EINVAL */
	}
	if (!ok) {
		rmdir(f->dir);
		test_skip("cannot set the limit in the new cgroup");
	}
}

/* Run <fn> in a child moved into the cgroup, then remove the cgroup
 * (retrying while the kernel still counts the child). Returns the
 * child's exit status, or -1 when it did not exit normally; skips the
 * case when the child could not join. */
static inline int cgf_run(struct cg_fixture *f, int (*fn)(void))
{
	struct timespec ms10 = { 0, 10 * 1000 * 1000 };
	char file[700];
	pid_t pid;
	int st = 0, i, rc;

	pid = fork();
	if (pid == 0) {
		FILE *fp;

		snprintf(file, sizeof(file), "%s/cgroup.procs", f->dir);
		fp = fopen(file, "w");
		if (!fp || fputs("0\n", fp) < 0 || fclose(fp) != 0) {
			_exit(100);
		}
		_exit(fn());
	}
	if (pid > 0) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	for (i = 0; (rc = rmdir(f->dir)) != 0 && errno == EBUSY && i < 100;
	     i++) {
		nanosleep(&ms10, NULL);
	}
	CHECK_OK(rc);
	CHECK(pid > 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 100) {
		test_skip("the child could not join the new cgroup");
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
