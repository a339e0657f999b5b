/*
 * Sampling a server's CPU time and memory from /proc, and small clock
 * helpers, for the benchmark programs.
 *
 * CPU is read from /proc/<pid>/stat (fields 14-17: utime, stime, cutime,
 * cstime, in clock ticks). For a multi-process server such as Kamailio the
 * whole tree of descendants is summed; cutime/cstime account for children
 * that exited and were reaped between two samples, so the difference of two
 * samples is the CPU the tree spent in between. Memory is VmRSS from
 * /proc/<pid>/status and Pss from /proc/<pid>/smaps_rollup (pages shared
 * between processes, such as Kamailio's shared memory, counted once).
 */
#include "bench.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 8192

struct pinfo {
	pid_t pid;
	pid_t ppid;
	double cpu_s;
};

static int read_stat(pid_t pid, struct pinfo *pi, double tick)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	long cut, cst;
	int ppid;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f) {
		return -ESRCH;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last
	 * ')' before counting fields. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%lu %lu %ld %ld", &ppid, &ut, &st, &cut, &cst) != 5) {
		return -EPROTO;
	}
	pi->pid = pid;
	pi->ppid = ppid;
	pi->cpu_s = (double)(ut + st + (unsigned long)cut +
			     (unsigned long)cst) / tick;
	return 0;
}

static long read_kb(const char *file, pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	if (!f) {
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0) {
			v = strtol(line + klen, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* Fills pis[] with every process on the system; returns how many. */
static size_t list_procs(struct pinfo *pis, size_t max, double tick)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d) {
		return 0;
	}
	while (n < max && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0])) {
			continue;
		}
		if (read_stat((pid_t)atoi(de->d_name), &pis[n], tick) == 0) {
			n++;
		}
	}
	closedir(d);
	return n;
}

int bench_proc_sample(pid_t pid, struct bench_proc *out)
{
	double tick = (double)sysconf(_SC_CLK_TCK);
	struct pinfo *pis;
	bool *in;
	size_t n, i;
	bool grew;
	int err = 0;

	memset(out, 0, sizeof(*out));
	pis = calloc(MAX_PROCS, sizeof(*pis));
	in = calloc(MAX_PROCS, sizeof(*in));
	if (!pis || !in) {
		err = -ENOMEM;
		goto out;
	}
	n = list_procs(pis, MAX_PROCS, tick);
	for (i = 0; i < n; i++) {
		in[i] = pis[i].pid == pid;
	}
	/* Mark descendants; each pass adds at least one level. */
	do {
		grew = false;
		for (i = 0; i < n; i++) {
			size_t j;

			for (j = 0; !in[i] && j < n; j++) {
				if (in[j] && pis[i].ppid == pis[j].pid) {
					in[i] = grew = true;
				}
			}
		}
	} while (grew);
	for (i = 0; i < n; i++) {
		if (!in[i]) {
			continue;
		}
		out->cpu_s += pis[i].cpu_s;
		out->rss_kb += read_kb("status", pis[i].pid, "VmRSS:");
		out->pss_kb += read_kb("smaps_rollup", pis[i].pid, "Pss:");
		out->nproc++;
	}
	if (out->nproc == 0) {
		err = -ESRCH;
	}
out:
	free(pis);
	free(in);
	return err;
}

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_percentile(double *v, size_t n, double p)
{
	size_t k;

	if (n == 0) {
		return 0;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	k = (size_t)(p / 100.0 * (double)n + 0.5);
	if (k > 0) {
		k--;
	}
	if (k >= n) {
		k = n - 1;
	}
	return v[k];
}
