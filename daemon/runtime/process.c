/*
 * Process-level chores (see process.h).
 */
#include "runtime/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <syslog.h>
#include <unistd.h>

#include "stls/log.h"

long stls_process_nofile_needed(int max_connections, size_t n_listen,
				unsigned workers)
{
	return (long)max_connections + (long)(n_listen * workers) +
	       4L * workers + 64;
}

long stls_process_raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -errno;
	if (rl.rlim_cur >= (rlim_t)want) {
		STLS_INFO("open files limit %ld (need %ld)", (long)rl.rlim_cur,
			  want);
		return (long)rl.rlim_cur;
	}
	if (rl.rlim_max < (rlim_t)want) {
		struct rlimit hard = { (rlim_t)want, (rlim_t)want };

		/* Only a privileged process may raise the hard limit. */
		if (setrlimit(RLIMIT_NOFILE, &hard) == 0)
			rl = hard;
	}
	if (rl.rlim_cur < (rlim_t)want) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max
							 : (rlim_t)want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < (rlim_t)want)
		STLS_WARN("open files limit %ld, below the %ld that "
			  "max_connections needs: accepts will back off when "
			  "descriptors run out", (long)rl.rlim_cur, want);
	else
		STLS_INFO("open files limit raised to %ld", (long)rl.rlim_cur);
	return (long)rl.rlim_cur;
}

static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long v;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	v = strtol(buf, NULL, 10);
	return v > 0 && v < (1L << 22) ? (pid_t)v : 0;
}

/* The open pid file, locked for the life of the process; -1: none. */
static int pid_fd = -1;

int stls_pidfile_write(const char *path, pid_t *holder)
{
	char buf[32];
	int fd, n, err;

	if (pid_fd >= 0)
		return -EALREADY;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/*
	 * The lock, not the number in the file, says whether a siptlsd runs:
	 * a file left by a crash names a pid the system may have given to
	 * any other process since, and it is unlocked.
	 */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		err = errno == EWOULDBLOCK ? -EEXIST : -errno;
		*holder = read_pid(fd);
		close(fd);
		return err;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		err = -errno;
		close(fd);
		return err;
	}
	pid_fd = fd;
	return 0;
}

void stls_pidfile_remove(const char *path)
{
	if (pid_fd < 0)
		return;
	/* Still ours (nobody replaced the file): remove it, then unlock. */
	if (read_pid(pid_fd) == getpid() && unlink(path) != 0)
		STLS_WARN("pid file %s: cannot remove: %s", path,
			  strerror(errno));
	close(pid_fd);
	pid_fd = -1;
}

/* A number, or a name looked up with <lookup>. */
static int parse_id(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return !errno && *s && !*end && *out >= 0 ? 0 : -EINVAL;
}

static int find_user(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	long v;

	errno = 0;
	pw = parse_id(user, &v) == 0 ? getpwuid((uid_t)v) : getpwnam(user);
	if (pw) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		return 0;
	}
	if (parse_id(user, &v) == 0) {
		*uid = (uid_t)v;
		*gid = (gid_t)v;
		return 0;
	}
	return -ENOENT;
}

static int find_group(const char *group, gid_t *gid)
{
	struct group *gr;
	long v;

	if (parse_id(group, &v) == 0) {
		*gid = (gid_t)v;
		return 0;
	}
	gr = getgrnam(group);
	if (!gr)
		return -ENOENT;
	*gid = gr->gr_gid;
	return 0;
}

int stls_process_drop_privileges(const char *user, const char *group)
{
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (!user && !group)
		return 0;
	if (user && find_user(user, &uid, &gid) != 0) {
		STLS_ERR("user %s: no such user", user);
		return -ENOENT;
	}
	if (group && find_group(group, &gid) != 0) {
		STLS_ERR("group %s: no such group", group);
		return -ENOENT;
	}
	if ((geteuid() == 0 && setgroups(1, &gid) != 0) || setgid(gid) != 0 ||
	    setuid(uid) != 0) {
		STLS_ERR("switching to uid %ld gid %ld: %s", (long)uid,
			 (long)gid, strerror(errno));
		return -EPERM;
	}
	/* A drop that can be undone is no drop. */
	if (uid != 0 && setuid(0) == 0) {
		STLS_ERR("privileges could be regained after the drop");
		return -EPERM;
	}
	STLS_INFO("running as uid %ld gid %ld", (long)getuid(),
		  (long)getgid());
	return 0;
}

static void syslog_sink(int level, const char *msg, void *arg)
{
	int prio;

	(void)arg;
	if (level <= STLS_L_CRIT)
		prio = LOG_CRIT;
	else if (level == STLS_L_ERR)
		prio = LOG_ERR;
	else if (level == STLS_L_WARN)
		prio = LOG_WARNING;
	else if (level == STLS_L_NOTICE)
		prio = LOG_NOTICE;
	else if (level == STLS_L_INFO)
		prio = LOG_INFO;
	else
		prio = LOG_DEBUG;
	syslog(prio, "%s", msg);
}

void stls_process_log_syslog(bool on)
{
	if (on) {
		openlog("siptlsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		stls_log_set_sink(syslog_sink, NULL);
	} else {
		stls_log_set_sink(NULL, NULL);
		closelog();
	}
}
