/*
 * Unit tests for daemon/runtime/process.c: fd limit, pid file, privilege drop.
 * Each case runs in its own forked process.
 */
#include "test.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/process.h"

TEST(process_nofile_raised_within_hard_limit)
{
	struct rlimit rl;
	long got;

	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = 64;
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
	got = stls_process_raise_nofile(200);
	CHECK_EQ(got, rl.rlim_max < 200 ? (long)rl.rlim_max : 200);
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	CHECK_EQ((long)rl.rlim_cur, got);
	/* Already enough: left alone. */
	CHECK_EQ(stls_process_raise_nofile(10), got);
	CHECK(stls_process_nofile_needed(1000, 2, 4) > 1000 + 8);
}

/* Over the hard limit: raised as far as allowed (all the way only with
 * CAP_SYS_RESOURCE), and the result is what is in force. */
TEST(process_nofile_over_hard_limit)
{
	struct rlimit rl = { 100, 100 };
	long got;

	CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
	got = stls_process_raise_nofile(300);
	CHECK(got == 100 || got == 300);
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	CHECK_EQ((long)rl.rlim_cur, got);
}

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	CHECK_NOT_NULL(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

TEST(process_pidfile_written_and_removed)
{
	char path[512], buf[32], want[32];
	pid_t holder = 0;

	snprintf(path, sizeof(path), "%s/d.pid", test_tmp_dir());
	CHECK_OK(stls_pidfile_write(path, &holder));
	read_file(path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	CHECK_STR_EQ(buf, want);
	CHECK_EQ(stls_pidfile_write(path, &holder), -EALREADY);
	stls_pidfile_remove(path);
	CHECK(access(path, F_OK) != 0);
	/* Removed means released: it can be taken again. */
	CHECK_OK(stls_pidfile_write(path, &holder));
	stls_pidfile_remove(path);
}

TEST(process_pidfile_refuses_a_running_holder)
{
	char path[512], c;
	pid_t child, holder = 0;
	int p[2], st;

	snprintf(path, sizeof(path), "%s/d.pid", test_tmp_dir());
	CHECK_OK(pipe(p));
	child = fork();
	if (child == 0) {
		pid_t h;

		/* A second siptlsd: it takes the file and runs on. */
		if (stls_pidfile_write(path, &h) != 0)
			_exit(1);
		(void)!write(p[1], "k", 1);
		pause();
		_exit(0);
	}
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(stls_pidfile_write(path, &holder), -EEXIST);
	CHECK_EQ(holder, child);
	/* Not ours: never removed by us. */
	stls_pidfile_remove(path);
	CHECK_OK(access(path, F_OK));
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	close(p[0]);
	close(p[1]);
	/* Its holder died without removing it: the lock went with it. */
	CHECK_OK(stls_pidfile_write(path, &holder));
	stls_pidfile_remove(path);
}

TEST(process_pidfile_stale_even_when_its_pid_is_alive)
{
	char path[512];
	pid_t child, holder = 0;
	FILE *f;
	int st;

	/* A crash left the file; its pid now belongs to another program. */
	snprintf(path, sizeof(path), "%s/d.pid", test_tmp_dir());
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	f = fopen(path, "w");
	fprintf(f, "%ld\n", (long)child);
	fclose(f);
	CHECK_OK(stls_pidfile_write(path, &holder));
	stls_pidfile_remove(path);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
}

TEST(process_pidfile_bad_dir)
{
	pid_t holder;

	CHECK_EQ(stls_pidfile_write("/nonexistent-dir/x.pid", &holder),
		 -ENOENT);
}

TEST(process_drop_privileges)
{
	CHECK_OK(stls_process_drop_privileges(NULL, NULL));
	CHECK_EQ(stls_process_drop_privileges("no-such-user-xyz", NULL),
		 -ENOENT);
	CHECK_EQ(stls_process_drop_privileges(NULL, "no-such-group-xyz"),
		 -ENOENT);
	if (geteuid() != 0)
		test_skip("not root: cannot test the switch itself");
	CHECK_OK(stls_process_drop_privileges("nobody", NULL));
	CHECK_NE(getuid(), 0);
	CHECK_NE(geteuid(), 0);
	CHECK(setuid(0) != 0);
}

TEST(process_drop_to_numeric_ids)
{
	if (geteuid() != 0)
		test_skip("not root");
	CHECK_OK(stls_process_drop_privileges("65534", "65534"));
	CHECK_EQ(getuid(), 65534);
	CHECK_EQ(getgid(), 65534);
}
