/*
 * tenants: a hosted platform's TLS configuration at scale (issue 19).
 *
 * Makes one CA and N tenants, each an ECDSA P-256 certificate and a
 * [server:any] profile with its own server_name (every W-th a wildcard
 * "*.wI.tenants.example"), in a tls.cfg named by a siptlsd main config,
 * and measures, each the median of R repetitions:
 *
 *   load    stls_conf_load() + stls_profile_set_build() of the main
 *           config in a fresh child process, as siptlsd starts (wall and
 *           process CPU time; nothing parsed before);
 *   reload  then stls_conf_reload_profiles() + a new set while the old
 *           one is alive, as `tls.reload` does, the files unchanged;
 *   check   `siptlsd -c FILE --check` as a child process (wall, CPU from
 *           wait4(), peak RSS), when -s names the binary;
 *   memory  heap growth (mallinfo2) of the loaded conf and set (and the
 *           file cache), per profile: (heap with N tenants - heap with
 *           1) / (N - 1);
 *   hs      server CPU per full TLS 1.3 handshake (tenants_hs.c) against
 *           a set of 1 tenant and a set of N, the client naming a random
 *           tenant; batches of the two sets alternate. A third row: the
 *           1-tenant set without SNI (no profile switch).
 *
 * Prints a line for people and a "RESULT label=tenants/... " line for
 * bench/compare.sh per figure. Every loop is bounded by its counts.
 *
 * Usage: tenants [-n N] [-r REPS] [-H HANDSHAKES] [-w W] [-s SIPTLSD]
 *                [-t THREADS] [-D DIR] [--hs-only]
 * -t sets [tls] load_threads for load, reload and check (default: the
 * config's, 0 = one per CPU). -D keeps the generated files in DIR (reused
 * by the next run with the same N and W); --hs-only measures handshakes
 * only (with callgrind:
 * valgrind --tool=callgrind --collect-atstart=no --toggle-collect='srv_*').
 */
#include "bench.h"
#include "tenants.h"
#include "lib/tls/tenants_gen.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stls/conf.h"

#define MAX_REPS 15

/* -t: [tls] load_threads for every build; -1: the config's own. */
static int load_threads = -1;

struct opts {
	int n, reps, hs, every;
	const char *siptlsd, *dir;
	bool hs_only;
};

struct timing {
	double wall, cpu;
};

static double proc_cpu(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static double median(double *v, int n)
{
	return bench_percentile(v, (size_t)n, 50);
}

/* Generates <d> unless a marker says it holds this configuration. */
static int make_dir(struct tenants_dir *d)
{
	struct tenants_spec s = { d->path, d->n, "tenants.example",
				  d->every_wildcard, 5061 };
	char mark[512];
	double t0 = bench_now();
	struct stat st;
	FILE *f;
	int err;

	snprintf(mark, sizeof(mark), "%s/.tenants-%d-%d", d->path, d->n,
		 d->every_wildcard);
	if (stat(mark, &st) == 0) {
		return 0;
	}
	if (mkdir(d->path, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "tenants: %s: %s\n", d->path, strerror(errno));
		return -errno;
	}
	err = tenants_gen(&s);
	if (err) {
		return err;
	}
	f = fopen(mark, "w");
	if (f) {
		fclose(f);
	}
	printf("generated %d tenants in %.1f s (%s)\n", d->n,
	       bench_now() - t0, d->path);
	printf("RESULT label=tenants/gen n=%d s=%.2f\n", d->n,
	       bench_now() - t0);
	return 0;
}

/* Loads <d> as siptlsd does; *conf and *set stay loaded. */
static int load(const struct tenants_dir *d, struct stls_conf **conf,
		struct stls_profile_set **set, struct timing *t)
{
	char path[512];
	struct stls_diag diag;
	double w0 = bench_now(), c0 = proc_cpu();
	int err;

	snprintf(path, sizeof(path), "%s/siptlsd.conf", d->path);
	stls_diag_init(&diag);
	err = stls_conf_load(path, conf, &diag);
	if (!err && load_threads >= 0) {
		(*conf)->tls.load_threads = load_threads;
	}
	if (!err) {
		err = stls_profile_set_build(&(*conf)->tls, (*conf)->profiles,
					     &diag, set);
	}
	t->wall = bench_now() - w0;
	t->cpu = proc_cpu() - c0;
	if (err || diag.warnings) {
		stls_diag_print(&diag, stderr);
	}
	stls_diag_fini(&diag);
	if (err && !*set) {
		stls_conf_free(*conf);
		*conf = NULL;
	}
	return err;
}

/* A reload of <conf>'s profiles while *set is alive; *set is replaced. */
static int reload(struct stls_conf *conf, struct stls_profile_set **set,
		  struct timing *t)
{
	struct stls_profile_conf *list = NULL;
	struct stls_profile_set *next = NULL;
	struct stls_diag diag;
	double w0 = bench_now(), c0 = proc_cpu();
	int err;

	stls_diag_init(&diag);
	err = stls_conf_reload_profiles(conf, &conf->tls, &list, &diag);
	if (!err) {
		err = stls_profile_set_build(&conf->tls, list, &diag, &next);
	}
	stls_profile_conf_list_free(list);
	if (!err) {
		stls_profile_set_unref(*set);
		*set = next;
	}
	t->wall = bench_now() - w0;
	t->cpu = proc_cpu() - c0;
	if (err) {
		stls_diag_print(&diag, stderr);
	}
	stls_diag_fini(&diag);
	return err;
}

/*
 * A copy of main config <conf> with load_threads = <n> (its last section
 * is [tls]); <conf> becomes the copy's path.
 */
static int with_threads(char *conf, size_t len, int n)
{
	size_t at = strlen(conf), got;
	char buf[4096];
	FILE *in, *out;

	in = at + 16 < len ? fopen(conf, "r") : NULL;
	if (!in) {
		return -EIO;
	}
	got = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	snprintf(conf + at, len - at, "-t%d", n);
	out = fopen(conf, "w");
	if (!out) {
		return -EIO;
	}
	fwrite(buf, 1, got, out);
	fprintf(out, "load_threads = %d\n", n);
	return fclose(out) == 0 ? 0 : -EIO;
}

/* `siptlsd -c DIR/siptlsd.conf --check`, timed from outside. */
static int check(const char *siptlsd, const struct tenants_dir *d,
		 struct timing *t, long *maxrss_kb)
{
	char conf[512];
	struct rusage ru;
	double w0 = bench_now();
	int status;
	pid_t pid;

	snprintf(conf, sizeof(conf), "%s/siptlsd.conf", d->path);
	if (load_threads >= 0 &&
	    with_threads(conf, sizeof(conf), load_threads) != 0) {
		return -EIO;
	}
	fflush(stdout); /* the child must not print our buffer again */
	pid = fork();
	if (pid < 0) {
		return -errno;
	}
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout)) {
			_exit(126);
		}
		execl(siptlsd, siptlsd, "-c", conf, "--check", (char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid) {
		return -errno;
	}
	t->wall = bench_now() - w0;
	t->cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	*maxrss_kb = ru.ru_maxrss;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EINVAL;
}

static void report(const char *what, int n, const double *wall,
		   const double *cpu, int reps)
{
	double w[MAX_REPS], c[MAX_REPS];

	memcpy(w, wall, sizeof(double) * (size_t)reps);
	memcpy(c, cpu, sizeof(double) * (size_t)reps);
	printf("%-7s %6d profiles: %.3f s wall, %.3f s CPU (median of %d)\n",
	       what, n, median(w, reps), median(c, reps), reps);
	printf("RESULT label=tenants/%s n=%d wall_s=%.3f cpu_s=%.3f "
	       "reps=%d\n", what, n, median(w, reps), median(c, reps), reps);
}

/* What one cold run measures (see run_cold()). */
struct cold {
	struct timing load, reload;
	size_t heap1, heapn; /* heap of the loaded conf + set */
	int err;
};

static void cold_child(const struct tenants_dir *d1,
		       const struct tenants_dir *dn, struct cold *c)
{
	struct stls_profile_set *set = NULL;
	struct stls_conf *conf = NULL;
	struct timing t;
	size_t h0;

	/* One tenant first: OpenSSL's own start-up, and the heap of one. */
	h0 = heap_bytes();
	c->err = load(d1, &conf, &set, &t);
	c->heap1 = heap_bytes() - h0;
	stls_profile_set_unref(set);
	stls_conf_free(conf);
	set = NULL;
	conf = NULL;
	h0 = heap_bytes();
	c->err = c->err ? c->err : load(dn, &conf, &set, &c->load);
	c->heapn = heap_bytes() - h0;
	c->err = c->err ? c->err : reload(conf, &set, &c->reload);
	stls_profile_set_unref(set);
	stls_conf_free(conf);
}

/*
 * Load, reload and memory in a child process: a fresh process has parsed
 * no file yet (the process-wide file cache is empty), as siptlsd when it
 * starts; the reload that follows finds the files unchanged.
 */
static int run_cold(const struct tenants_dir *d1, const struct tenants_dir *dn,
		    struct cold *c)
{
	int fd[2], status;
	pid_t pid;

	fflush(stdout);
	if (pipe(fd) != 0 || (pid = fork()) < 0) {
		return -errno;
	}
	if (pid == 0) {
		struct cold r = { .err = 0 };

		close(fd[0]);
		cold_child(d1, dn, &r);
		_exit(write(fd[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0
									: 1);
	}
	close(fd[1]);
	c->err = read(fd[0], c, sizeof(*c)) == (ssize_t)sizeof(*c) ? c->err
								   : -EIO;
	close(fd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		return -EIO;
	}
	return c->err;
}

/* Load, reload and memory with N tenants; the heap figure of 1. */
static int measure_load(const struct opts *o, const struct tenants_dir *d1,
			const struct tenants_dir *dn)
{
	double lw[MAX_REPS], lc[MAX_REPS], rw[MAX_REPS], rc[MAX_REPS];
	double kb;
	struct cold c;
	int i;

	for (i = 0; i < o->reps; i++) {
		if (run_cold(d1, dn, &c) != 0) {
			fprintf(stderr, "tenants: load failed\n");
			return 1;
		}
		lw[i] = c.load.wall;
		lc[i] = c.load.cpu;
		rw[i] = c.reload.wall;
		rc[i] = c.reload.cpu;
	}
	report("load", dn->n, lw, lc, o->reps);
	report("reload", dn->n, rw, rc, o->reps);
	kb = ((double)c.heapn - (double)c.heap1) / 1024.0 / (dn->n - 1);
	printf("memory: %.1f KB per profile (conf + set; heap %.1f MB with "
	       "%d tenants, %.1f MB with 1)\n", kb, c.heapn / 1048576.0,
	       dn->n, c.heap1 / 1048576.0);
	printf("RESULT label=tenants/mem n=%d kb_per_profile=%.2f "
	       "heap_mb=%.1f\n", dn->n, kb, c.heapn / 1048576.0);
	return 0;
}

static int measure_check(const struct opts *o, const struct tenants_dir *dn)
{
	double w[MAX_REPS], c[MAX_REPS];
	struct timing t = { 0, 0 };
	long rss = 0;
	int i;

	for (i = 0; i < o->reps; i++) {
		if (check(o->siptlsd, dn, &t, &rss) != 0) {
			fprintf(stderr, "tenants: %s --check failed\n",
				o->siptlsd);
			return 1;
		}
		w[i] = t.wall;
		c[i] = t.cpu;
	}
	report("check", dn->n, w, c, o->reps);
	printf("RESULT label=tenants/check_rss n=%d maxrss_kb=%ld\n", dn->n,
	       rss);
	return 0;
}

/* Handshakes: batches alternate between the 1-tenant and N-tenant sets. */
static int measure_hs(const struct opts *o, const struct tenants_dir *d1,
		      const struct tenants_dir *dn)
{
	struct stls_profile_set *s1 = NULL, *sn = NULL;
	struct stls_conf *c1 = NULL, *cn = NULL;
	double one[MAX_REPS], many[MAX_REPS], bare[MAX_REPS];
	unsigned seed = 19;
	struct timing t;
	int i, bad = 0;

	if (load(d1, &c1, &s1, &t) != 0 || load(dn, &cn, &sn, &t) != 0) {
		return 1;
	}
	/* Warm-up: lazy initialisation in OpenSSL and the engine. */
	bad |= tenants_hs_run(s1, d1, 20, true, false, &seed) < 0;
	bad |= tenants_hs_run(sn, dn, 20, true, true, &seed) < 0;
	for (i = 0; i < o->reps && !bad; i++) {
		bare[i] = tenants_hs_run(s1, d1, o->hs, false, false, &seed);
		one[i] = tenants_hs_run(s1, d1, o->hs, true, false, &seed);
		many[i] = tenants_hs_run(sn, dn, o->hs, true, true, &seed);
		bad |= bare[i] < 0 || one[i] < 0 || many[i] < 0;
	}
	if (!bad) {
		double m1 = median(one, o->reps), mn = median(many, o->reps);
		double mb = median(bare, o->reps);

		printf("handshake TLS 1.3, server CPU: %.1f us (1 profile, no "
		       "SNI), %.1f us (1 tenant, SNI), %.1f us (%d tenants, "
		       "SNI, random tenant): x%.3f\n",
		       mb, m1, mn, dn->n, mn / m1);
		printf("RESULT label=tenants/hs profiles=1 sni=0 "
		       "server_cpu_us_per_hs=%.1f\n", mb);
		printf("RESULT label=tenants/hs profiles=1 sni=1 "
		       "server_cpu_us_per_hs=%.1f\n", m1);
		printf("RESULT label=tenants/hs profiles=%d sni=1 "
		       "server_cpu_us_per_hs=%.1f ratio=%.3f\n", dn->n, mn,
		       mn / m1);
	}
	stls_profile_set_unref(s1);
	stls_profile_set_unref(sn);
	stls_conf_free(c1);
	stls_conf_free(cn);
	return bad;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int i;

	*o = (struct opts){ 10000, 3, 200, 10, NULL, NULL, false };
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--hs-only") == 0) {
			o->hs_only = true;
			continue;
		}
		if (!v || a[0] != '-' || a[2] != '\0') {
			return -1;
		}
		i++;
		switch (a[1]) {
		case 'n': o->n = atoi(v); break;
		case 'r': o->reps = atoi(v); break;
		case 'H': o->hs = atoi(v); break;
		case 'w': o->every = atoi(v); break;
		case 's': o->siptlsd = v; break;
		case 't': load_threads = atoi(v); break;
		case 'D': o->dir = v; break;
		default: return -1;
		}
	}
	return o->n >= 2 && o->n <= 200000 && o->reps >= 1 &&
			       o->reps <= MAX_REPS && o->hs >= 1 &&
			       o->hs <= 100000 && o->every >= 0
		       ? 0
		       : -1;
}

int main(int argc, char **argv)
{
	struct tenants_dir d1 = { "", 1, 0 }, dn = { "", 0, 0 };
	char tmp[] = "/tmp/stls-tenants.XXXXXX";
	const char *top;
	struct opts o;
	int bad = 0;

	if (parse(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: tenants [-n N] [-r REPS] [-H "
				"HANDSHAKES] [-w EVERY_WILDCARD] [-s SIPTLSD] "
				"[-t THREADS] [-D DIR] [--hs-only]\n");
		return 2;
	}
	top = o.dir ? o.dir : mkdtemp(tmp);
	if (!top || (mkdir(top, 0700) != 0 && errno != EEXIST)) {
		fprintf(stderr, "tenants: cannot make a directory\n");
		return 1;
	}
	dn.n = o.n;
	dn.every_wildcard = o.every;
	snprintf(d1.path, sizeof(d1.path), "%s/one", top);
	snprintf(dn.path, sizeof(dn.path), "%s/n%d-w%d", top, o.n, o.every);
	if (make_dir(&d1) != 0 || make_dir(&dn) != 0) {
		return 1;
	}
	if (!o.hs_only) {
		bad |= measure_load(&o, &d1, &dn);
	}
	if (!o.hs_only && o.siptlsd) {
		bad |= measure_check(&o, &dn);
	}
	bad |= measure_hs(&o, &d1, &dn);
	if (!o.dir) {
		char cmd[600];

		/* Our own mkdtemp() directory, nothing else. */
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		bad |= system(cmd) != 0;
	}
	return bad;
}
