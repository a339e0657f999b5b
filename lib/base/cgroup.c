/*
 * The cgroup this process is in and the CPU quota it sets (cgroup.h).
 * Finding the cgroup parses mountinfo: done once per process
 * (stls__cgroup_self()); a refresh then reads only the few small limit
 * files on the way up.
 */
#include "base/cgroup.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096

/* <root><rel> into buf; false when it does not fit. */
static bool join(char *buf, size_t len, const char *root, const char *rel)
{
	int n = snprintf(buf, len, "%s%s", root, rel);

	return n >= 0 && (size_t)n < len;
}

/* True when the comma-separated <list> holds <name>. */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p) {
		size_t w = strcspn(p, ",");

		if (w == n && strncmp(p, name, n) == 0) {
			return true;
		}
		p += w;
		if (*p == ',') {
			p++;
		}
	}
	return false;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo: undo it
 * in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* The next line of <f> into <buf>. A line longer than <buf> is passed
 * over whole and given as an empty line; false at the end. */
static bool next_line(FILE *f, char *buf, size_t len)
{
	int c;

	if (!fgets(buf, (int)len, f)) {
		return false;
	}
	if (!strchr(buf, '\n') && !feof(f)) {
		while ((c = fgetc(f)) != EOF && c != '\n')
			;
		buf[0] = '\0';
	}
	return true;
}

/* This process's path in the hierarchy of <controller>: the v1 line that
 * names it (*v2 false), else the "0::" line (*v2 true). */
static int self_path(const char *root, const char *controller, char *path,
		     size_t len, bool *v2)
{
	char file[512], line[LINE_MAX_LEN], unified[LINE_MAX_LEN] = "";
	FILE *f;
	bool found = false;

	if (!join(file, sizeof(file), root, "/proc/self/cgroup")) {
		return -ENAMETOOLONG;
	}
	f = fopen(file, "re");
	if (!f) {
		return -errno;
	}
	while (!found && next_line(f, line, sizeof(line))) {
		char *ctrls = strchr(line, ':'), *p;

		line[strcspn(line, "\n")] = '\0';
		if (!ctrls || !(p = strchr(ctrls + 1, ':'))) {
			continue;
		}
		*ctrls++ = '\0';
		*p++ = '\0';
		if (strcmp(line, "0") == 0 && *ctrls == '\0') {
			snprintf(unified, sizeof(unified), "%s", p);
		} else if (in_list(ctrls, controller)) {
			if (strlen(p) >= len) {
				fclose(f);
				return -ENAMETOOLONG;
			}
			memcpy(path, p, strlen(p) + 1);
			*v2 = false;
			found = true;
		}
	}
	fclose(f);
	if (found) {
		return 0;
	}
	if (unified[0] == '/' && strlen(unified) < len) {
		memcpy(path, unified, strlen(unified) + 1);
		*v2 = true;
		return 0;
	}
	return -ENOENT;
}

/* Split a mountinfo line: its root, its mount point, its type and its
 * super options. False for a line of another shape. */
static bool mount_fields(char *line, char **mroot, char **mpoint,
			 char **type, char **sopts)
{
	char *f[6], *save = NULL, *t;
	int i;

	for (i = 0, t = strtok_r(line, " \n", &save); t && i < 6;
	     t = strtok_r(NULL, " \n", &save)) {
		f[i++] = t;
	}
	if (i < 6) {
		return false;
	}
	while (t && strcmp(t, "-") != 0) { /* optional fields */
		t = strtok_r(NULL, " \n", &save);
	}
	if (!t || !(*type = strtok_r(NULL, " \n", &save)) ||
	    !strtok_r(NULL, " \n", &save) ||
	    !(*sopts = strtok_r(NULL, " \n", &save))) {
		return false;
	}
	*mroot = f[3];
	*mpoint = f[4];
	unescape(*mroot);
	unescape(*mpoint);
	return true;
}

/* The directory for <path> under a mount of root <mroot> at <mpoint>,
 * when it exists: 0, -ENOENT (outside that mount's root, or no such
 * directory), -ENAMETOOLONG. */
static int map_dir(const char *root, const char *mroot, const char *mpoint,
		   const char *path, struct stls__cgroup *out)
{
	char probe[sizeof(out->dir) + 16];
	size_t rl = strlen(mroot), ml = strlen(mpoint);
	const char *rel = path;
	int n;

	if (strcmp(mroot, "/") != 0) {
		if (strncmp(path, mroot, rl) != 0 ||
		    (path[rl] != '\0' && path[rl] != '/')) {
			return -ENOENT;
		}
		rel = path + rl;
	}
	if (strcmp(rel, "/") == 0) {
		rel = "";
	}
	if (ml > 0 && mpoint[ml - 1] == '/') {
		ml--; /* "/" itself */
	}
	n = snprintf(out->dir, sizeof(out->dir), "%s%.*s%s", root, (int)ml,
		     mpoint, rel);
	if (n < 0 || (size_t)n >= sizeof(out->dir)) {
		return -ENAMETOOLONG;
	}
	/* A hierarchy mounted over, or a stale mount: try the next. */
	snprintf(probe, sizeof(probe), "%s/cgroup.procs", out->dir);
	if (access(probe, F_OK) != 0) {
		return -ENOENT;
	}
	out->top = strlen(root) + ml;
	return 0;
}

int stls__cgroup_find(const char *root, const char *controller,
		     struct stls__cgroup *out)
{
	char file[512], line[LINE_MAX_LEN], path[LINE_MAX_LEN];
	FILE *f;
	bool v2 = false;
	int rc;

	if (!root) {
		root = "";
	}
	rc = self_path(root, controller, path, sizeof(path), &v2);
	if (rc < 0) {
		return rc;
	}
	/* Outside our cgroup namespace the kernel shows "/../x". */
	for (const char *d = path; (d = strstr(d, "/..")); d += 3) {
		if (d[3] == '/' || d[3] == '\0') {
			return -ENOENT;
		}
	}
	if (!join(file, sizeof(file), root, "/proc/self/mountinfo")) {
		return -ENAMETOOLONG;
	}
	f = fopen(file, "re");
	if (!f) {
		return -errno;
	}
	rc = -ENOENT;
	while (rc < 0 && next_line(f, line, sizeof(line))) {
		char *mroot, *mpoint, *type, *sopts;

		if (!mount_fields(line, &mroot, &mpoint, &type, &sopts)) {
			continue;
		}
		if (v2 ? strcmp(type, "cgroup2") != 0
		       : strcmp(type, "cgroup") != 0 ||
				 !in_list(sopts, controller)) {
			continue;
		}
		rc = map_dir(root, mroot, mpoint, path, out);
	}
	fclose(f);
	if (rc == 0) {
		out->v2 = v2;
	}
	return rc;
}

bool stls__cgroup_read(const char *dir, const char *name, char *buf,
		       size_t len)
{
	char file[600];
	FILE *f;
	bool ok;

	buf[0] = '\0';
	if (snprintf(file, sizeof(file), "%s/%s", dir, name) >=
	    (int)sizeof(file)) {
		return false;
	}
	f = fopen(file, "re");
	if (!f) {
		return false;
	}
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!ok) {
		buf[0] = '\0';
		return false;
	}
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

/* The quota set in one directory, in CPUs rounded up; 0 for none. */
static long dir_quota(const char *dir, bool v2)
{
	char a[64], b[64], q[32], end;
	uint64_t quota, period;

	if (v2) {
		if (!stls__cgroup_read(dir, "cpu.max", a, sizeof(a)) ||
		    sscanf(a, "%31s %" SCNu64 " %c", q, &period, &end) != 2 ||
		    strcmp(q, "max") == 0 ||
		    sscanf(q, "%" SCNu64 "%c", &quota, &end) != 1) {
			return 0;
		}
	} else {
		int64_t sq;

		if (!stls__cgroup_read(dir, "cpu.cfs_quota_us", a, sizeof(a)) ||
		    !stls__cgroup_read(dir, "cpu.cfs_period_us", b, sizeof(b)) ||
		    sscanf(a, "%" SCNd64 " %c", &sq, &end) != 1 || sq <= 0 ||
		    sscanf(b, "%" SCNu64 " %c", &period, &end) != 1) {
			return 0;
		}
		quota = (uint64_t)sq;
	}
	if (period == 0 || quota == 0) {
		return 0;
	}
	quota = quota / period + (quota % period != 0);
	return quota > (uint64_t)LONG_MAX ? 0 : (long)quota;
}

void stls__cgroup_walk_up(const struct stls__cgroup *cg,
			 void (*fn)(const char *dir, bool v2, void *arg),
			 void *arg)
{
	char dir[sizeof(cg->dir)];
	size_t n = strlen(cg->dir);

	memcpy(dir, cg->dir, n + 1);
	for (;;) {
		fn(dir, cg->v2, arg);
		while (n > cg->top && dir[n - 1] != '/') {
			n--;
		}
		if (n <= cg->top) {
			break;
		}
		dir[--n] = '\0'; /* the parent */
	}
}

/* Keep the smallest quota seen, in *(long *)arg. */
static void min_quota(const char *dir, bool v2, void *arg)
{
	long *best = arg, q = dir_quota(dir, v2);

	if (q > 0 && (*best == 0 || q < *best)) {
		*best = q;
	}
}

long stls__cgroup_cpu_quota_of(const struct stls__cgroup *cg)
{
	long best = 0;

	stls__cgroup_walk_up(cg, min_quota, &best);
	return best;
}

long stls__cgroup_cpu_quota(const char *root)
{
	struct stls__cgroup cg;

	if (stls__cgroup_find(root, "cpu", &cg) < 0) {
		return 0;
	}
	return stls__cgroup_cpu_quota_of(&cg);
}

/* This process's cgroups of the two controllers asked for, each found
 * once per process (again in a forked child, which may live elsewhere;
 * a daemon does not move). */
static pthread_mutex_t self_lock = PTHREAD_MUTEX_INITIALIZER;
static struct self_cg {
	const char *controller;
	pid_t pid;                 /* who found it; 0: not yet */
	bool found;
	struct stls__cgroup cg;
} self_cgs[] = { { "cpu", 0, false, { "", 0, false } },
		 { "memory", 0, false, { "", 0, false } } };

bool stls__cgroup_self(const char *controller, struct stls__cgroup *out)
{
	pid_t me = getpid();
	bool found = false;
	size_t i;

	pthread_mutex_lock(&self_lock);
	for (i = 0; i < sizeof(self_cgs) / sizeof(self_cgs[0]); i++) {
		struct self_cg *e = &self_cgs[i];

		if (strcmp(e->controller, controller) != 0) {
			continue;
		}
		if (e->pid != me) {
			e->found = stls__cgroup_find("", controller, &e->cg) == 0;
			e->pid = me;
		}
		found = e->found;
		if (found) {
			*out = e->cg;
		}
		break;
	}
	pthread_mutex_unlock(&self_lock);
	return found;
}
