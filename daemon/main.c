/*
 * siptlsd: the SIP TLS edge daemon (docs/daemon.md).
 *
 * Start-up order: read the config, apply [core], set up logging, raise the
 * open-files limit, bind every listener, write the pid file, drop
 * privileges, install the signal handlers, start the workers. The main
 * thread then only waits for signals:
 *   SIGTERM, SIGINT  stop accepting, let connections flush (up to
 *                    shutdown_timeout), close them, exit 0;
 *   SIGHUP           call the reload hook;
 *   SIGUSR1          log the counters, per worker and in total.
 * The daemon always runs in the foreground (-f is accepted and implied);
 * a service manager does the rest: it hears READY, RELOADING, STOPPING
 * and the watchdog through sd_notify (notify/notify.h) when it set
 * NOTIFY_SOCKET. [core] metrics starts the /metrics endpoint
 * (metrics/metrics.h) once the workers run.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "config/core_conf.h"
#include "ctl/ctl.h"
#include "dbsrc/dbsrc.h"
#include "dial/backend.h"
#include "dns/dns_part.h"
#include "metrics/metrics.h"
#include "notify/notify.h"
#include "runtime/daemon.h"
#include "runtime/handler_echo.h"
#include "runtime/process.h"
#include "tlsx/pstore.h"
#include "tlsx/refresh.h"
#include "tlsx/watch.h"
#include "relay/relay.h"
#include "tlsx/tlsx.h"
#include "runtime/stats.h"
#include "script/script.h"
#include "stls/hsm.h"
#include "stls/log.h"
#include "stls/revoc.h"

/* A reload request (SIGHUP). Returns 0 or -errno; runs on the main
 * thread. */
typedef int stls_reload_fn(void *arg);

static int reload_not_wired(void *arg)
{
	(void)arg;
	STLS_NOTICE("SIGHUP: reload hook called (profile reload not wired "
		    "yet)");
	return 0;
}

/* Wired by the lead to the profile-set reload (build, then swap). */
static stls_reload_fn *reload_hook = reload_not_wired;
static void *reload_arg;

struct run {
	const char *conf_path;
	bool check;
	struct stls_conf *conf;      /* the main config, as loaded */
	struct stls_core_conf core;  /* its [core] section, applied */
	struct stls_pstore *ps;      /* the published TLS profile set */
	struct stls_dbsrc *dbsrc;    /* profiles from a database, or NULL */
	struct stls_relay_settings relay_conf; /* [relay], applied */
	struct stls_relay *relay;    /* handler relay only */
	struct stls_tlsx *tlsx;      /* the TLS transform (tls: listeners) */
	struct stls_daemon *d;
	struct stls_ctl *ctl;        /* control plane (RPC, reload) */
	struct stls_script *script;  /* [core] script, or NULL */
	struct stls_metrics *metrics; /* /metrics, when [core] metrics */
	struct stls_notify *notify;  /* sd_notify and the watchdog */
	struct stls_dns_conf dns;    /* the workers' resolvers ([core] dns_*) */
	struct stls_refresher *refresher; /* OCSP and CRL fetches */
	struct stls_watch *watch;    /* watch_files */
	uv_loop_t loop;
	uv_signal_t sig[4];
	int n_sig;          /* signal handles initialised */
	bool loop_ok;
	bool pid_written;
	bool stopping;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: siptlsd -c FILE [--check] [-f]\n"
		   "  -c, --config FILE  main configuration file\n"
		   "      --check        check the configuration and exit "
		   "(0: good, 1: problems printed as FILE:LINE: message)\n"
		   "  -f, --foreground   run in the foreground (the default "
		   "and only mode)\n"
		   "  -V, --version      print the version\n"
		   "  -h, --help         this text\n");
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct run *r)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:fVh", longs, NULL)) != -1) {
		switch (ch) {
		case 'c':
			r->conf_path = optarg;
			break;
		case 'C':
			r->check = true;
			break;
		case 'f':
			break;
		case 'V':
			printf("siptlsd %s\n", STLS_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!r->conf_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

static const struct stls_section *find_section(const struct stls_conf *c,
						const char *name)
{
	const struct stls_section *sec;

	for (sec = c->sections; sec; sec = sec->next) {
		if (strcmp(sec->name, name) == 0)
			return sec;
	}
	return NULL;
}

/* [core] script: loaded (and checked) once here, before the workers. */
static int load_script(struct run *r, struct stls_diag *diag)
{
	static char path[PATH_MAX];
	struct stls_script_conf sc;
	const struct stls_settings *tls = &r->conf->tls;

	if (!r->core.script)
		return 0;
	if (stls_script_conf_from(&r->core, tls->event_callback,
				  tls->xavp_cfg, r->conf->base_dir, path,
				  &sc) != 0) {
		stls_diag_err(diag, NULL, 0, "script: path too long");
		return -ENAMETOOLONG;
	}
	return stls_script_new(&sc, (unsigned)r->core.workers, diag,
			       &r->script);
}

/*
 * `config` names a database (docs/database.md): the profile store builds
 * from its rows (or, at start with the database away, from the snapshot
 * in state_dir; never for --check).
 */
static int load_db(struct run *r, struct stls_diag *diag)
{
	struct stls_dbsrc_conf dc = {
		.conf = r->conf,
		.live = &r->conf->tls,
		.core = &r->core,
		.no_snapshot = r->check,
	};
	struct stls_pstore_src src;
	int err;

	err = stls_dbsrc_new(&dc, diag, &r->dbsrc);
	if (err)
		return err;
	stls_dbsrc_pstore_src(r->dbsrc, &src);
	return stls_pstore_new_src(r->conf, &r->conf->tls, &r->core, &src,
				   diag, &r->ps);
}

/*
 * Loads everything the daemon needs before it binds: the main config (and
 * the tls.cfg it names), [core], and the TLS profile set (every
 * certificate, key, CA list and CRL read and checked, every [server:IP:port]
 * matched to a TLS listener). Every problem goes to <diag>.
 */
static int load_conf(struct run *r, struct stls_diag *diag)
{
	struct stls_hsm_conf hc;
	int err;

	err = stls_conf_load_ex(r->conf_path, STLS_CONF_LOAD_DB, &r->conf,
				diag);
	if (err)
		return err;
	err = stls_core_conf_apply(find_section(r->conf, "core"),
				   &r->conf->tls, &r->core, diag);
	/* Profile contexts are prepared for the hand-off only when on. */
	r->conf->tls.record_handoff = r->core.tls_record_handoff;
	if (!err)
		err = stls_relay_settings_apply(find_section(r->conf, "relay"),
						&r->core, &r->relay_conf, diag);
	if (err || diag->errors)
		return err ? err : -EINVAL;
	err = load_script(r, diag);
	if (err)
		return err;
	/* HSM keys: the engine starts once, here, before any worker. */
	stls_hsm_conf_from_conf(r->conf, &hc);
	err = stls_hsm_init(&hc, diag);
	if (err)
		return err;
	if (stls_conf_src_is_db(r->conf->tls.config))
		return load_db(r, diag);
	return stls_pstore_new(r->conf, &r->conf->tls, &r->core, diag,
			       &r->ps);
}

static void revoc_opts(const struct run *r, struct stls_revoc_opts *o)
{
	o->timeout = r->conf->tls.fetch_timeout;
	o->crl_interval = r->conf->tls.crl_refresh_interval;
}

/*
 * --check fetches the OCSP responses and CRLs once (as the daemon would
 * at start) and warns about must-staple certificates with nothing good
 * to staple.
 */
static void check_revocation(struct run *r, struct stls_diag *diag)
{
	struct stls_revoc_opts o;
	struct stls_profile_set *set;

	revoc_opts(r, &o);
	(void)stls_revoc_refresh(&o, time(NULL));
	set = stls_pstore_get(r->ps);
	(void)stls_profile_set_staple_warnings(set, time(NULL), diag);
	stls_profile_set_unref(set);
}

/* --check: everything was loaded (or not); report and exit. */
static int check_only(struct run *r, struct stls_diag *diag, int err)
{
	struct stls_profile_set *set;

	if (!err && !diag->errors)
		check_revocation(r, diag);
	stls_diag_print(diag, stderr);
	if (err || diag->errors) {
		if (!diag->errors)
			fprintf(stderr, "%s: %s\n", r->conf_path,
				strerror(-err));
		return 1;
	}
	set = stls_pstore_get(r->ps);
	printf("%s: configuration OK (%zu TLS profiles, %zu warnings)\n",
	       r->conf_path, stls_profile_set_count(set), diag->warnings);
	stls_profile_set_unref(set);
	return 0;
}

static const struct stls_handler_ops *pick_handler(int kind)
{
	switch (kind) {
	case STLS_HANDLER_ECHO:
		return &stls_echo_handler;
	case STLS_HANDLER_DISCARD:
		return &stls_discard_handler;
	default:
		return NULL; /* the relay: installed by start() */
	}
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct run *r = h->data;

	switch (signum) {
	case SIGTERM:
	case SIGINT:
		if (r->stopping)
			return;
		r->stopping = true;
		STLS_NOTICE("%s: shutting down", strsignal(signum));
		stls_notify_stopping(r->notify);
		stls_daemon_stop(r->d);
		uv_stop(&r->loop);
		break;
	case SIGHUP:
		stls_notify_reloading(r->notify);
		if (reload_hook(reload_arg) != 0)
			STLS_ERR("SIGHUP: reload failed; configuration "
				 "unchanged");
		stls_notify_ready(r->notify, NULL);
		break;
	case SIGUSR1:
		stls_daemon_stats_log(r->d);
		stls_tlsx_stats_log(r->tlsx);
		if (r->relay)
			stls_relay_stats_log(r->relay);
		stls_script_stats_log(r->script);
		if (r->dns.counters)
			stls_dns_stats_log(r->dns.counters,
					   (size_t)r->core.workers);
		break;
	}
}

static int setup_signals(struct run *r)
{
	static const int sigs[4] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	int i;

	if (uv_loop_init(&r->loop) != 0)
		return -ENOMEM;
	r->loop_ok = true;
	for (i = 0; i < 4; i++) {
		if (uv_signal_init(&r->loop, &r->sig[i]) != 0)
			return -EINVAL;
		r->sig[i].data = r;
		r->n_sig++;
		if (uv_signal_start(&r->sig[i], on_signal, sigs[i]) != 0)
			return -EINVAL;
	}
	return 0;
}

static int setup_process(struct run *r)
{
	const struct stls_core_conf *c = &r->core;
	pid_t holder = 0;
	int err;

	if (c->pid_file) {
		err = stls_pidfile_write(c->pid_file, &holder);
		if (err == -EEXIST) {
			STLS_ERR("pid file %s: held by running process %ld",
				 c->pid_file, (long)holder);
			return err;
		}
		if (err) {
			STLS_ERR("pid file %s: %s", c->pid_file,
				 strerror(-err));
			return err;
		}
		r->pid_written = true;
	}
	err = stls_process_drop_privileges(c->user, c->group);
	if (err)
		return err;
	if (c->refuse_root && (getuid() == 0 || geteuid() == 0)) {
		STLS_ERR("refuse_root = 1 and running as root: set user");
		return -EPERM;
	}
	return 0;
}

static int db_reload(void *arg, struct stls_diag *diag)
{
	return stls_ctl_reload(arg, diag, NULL, NULL);
}

/*
 * The control plane: JSON-RPC methods and socket, and the reload that
 * SIGHUP and tls.reload share. After the workers run; before they stop.
 */
static int control_start(struct run *r)
{
	struct stls_ctl_conf cc;
	int err;

	memset(&cc, 0, sizeof(cc));
	cc.d = r->d;
	cc.ps = r->ps;
	cc.live = &r->conf->tls;
	cc.core = &r->core;
	cc.base_dir = r->conf->base_dir;
	cc.tlsx = r->tlsx;
	cc.dbsrc = r->dbsrc;
	cc.script = r->script;
	err = stls_ctl_new(&cc, &r->ctl);
	if (!err)
		err = stls_ctl_start(r->ctl);
	/* A database change reloads as tls.reload does. */
	if (!err && r->dbsrc)
		err = stls_dbsrc_start(r->dbsrc, db_reload, r->ctl);
	if (err)
		return err;
	reload_hook = stls_ctl_reload_hook;
	reload_arg = r->ctl;
	return 0;
}

static int watch_reload(void *arg)
{
	(void)arg;
	return reload_hook(reload_arg);
}

/* The refresh thread of revocation data and watch_files. After the
 * control plane (the reload hook is wired). */
static int revoc_start(struct run *r)
{
	const struct stls_settings *t = &r->conf->tls;
	struct stls_revoc_opts o;
	int err;

	revoc_opts(r, &o);
	err = stls_refresher_start(&o, &r->refresher);
	if (err)
		return err;
	stls_pstore_set_refresher(r->ps, r->refresher);
	if (!t->watch_files)
		return 0;
	return stls_watch_new(&r->loop, r->ps, t, t->watch_delay,
			      watch_reload, NULL, &r->watch);
}

static void revoc_stop(struct run *r)
{
	stls_watch_free(r->watch);
	r->watch = NULL;
	if (r->ps)
		stls_pstore_set_refresher(r->ps, NULL);
	stls_refresher_stop(r->refresher);
	r->refresher = NULL;
}

static void control_stop(struct run *r)
{
	reload_hook = reload_not_wired;
	stls_dbsrc_stop(r->dbsrc);
	stls_ctl_free(r->ctl);
	r->ctl = NULL;
}

/* The TLS transform for tls: listeners and outbound TLS. */
static int start_tls(struct run *r, struct stls_daemon_opts *o)
{
	struct stls_tlsx_conf tc = {
		.ps = r->ps,
		.live = &r->conf->tls,
		/* The relay's connection-out rules ([relay]). */
		.conn_out = r->relay ? stls_relay_conn_out : NULL,
		.conn_out_arg = r->relay,
		.keep_ssl = !r->core.tls_record_handoff,
		.workers = (unsigned)r->core.workers,
	};
	int err;

	err = stls_tlsx_new(&tc, &r->tlsx);
	if (err)
		return err;
	stls_tlsx_install(r->tlsx, o);
	return 0;
}

/* /metrics ([core] metrics) and the service manager. After the workers
 * and the control plane. */
static int start_ops(struct run *r)
{
	struct stls_metrics_src src = {
		.d = r->d,
		.core = &r->core,
		.ps = r->ps,
		.tlsx = r->tlsx,
		.relay = r->relay,
		.live = &r->conf->tls,
	};
	int err = 0;

	if (r->core.metrics_ep.on)
		err = stls_metrics_start(&r->core.metrics_ep, &src,
					 &r->metrics);
	if (!err)
		err = stls_notify_new(r->d, &r->loop, &r->notify);
	return err;
}

static int start(struct run *r)
{
	const struct stls_core_conf *c = &r->core;
	struct stls_daemon_opts o;
	int err;

	if (c->log_target == STLS_LOG_SYSLOG)
		stls_process_log_syslog(true);
	stls_log_set_level(c->debug);
	stls_process_raise_nofile(stls_process_nofile_needed(
		c->max_connections, c->n_listen, (unsigned)c->workers));
	stls_daemon_opts_from_conf(c, &o);
	o.parts[0] = &stls_backend_part;
	o.handler = pick_handler(c->handler);
	if (!o.handler) {
		/* Each worker's resolver (RFC 3263 for the relay's targets):
		 * only the relay needs one. */
		r->dns.servers = c->dns_servers;
		r->dns.n_servers = c->n_dns_servers;
		r->dns.timeout_ms = c->dns_timeout;
		r->dns.tries = c->dns_tries;
		r->dns.cache_size = (size_t)c->dns_cache_size;
		r->dns.counters = calloc((size_t)c->workers,
					 sizeof(*r->dns.counters));
		if (!r->dns.counters)
			return -ENOMEM;
		o.dns = &r->dns;
		o.parts[1] = &stls_dns_part;
		err = stls_relay_new(&r->relay_conf, c, &r->conf->tls,
				     &r->relay);
		if (err)
			return err;
		stls_relay_install(r->relay, &o);
	}
	err = start_tls(r, &o);
	if (err)
		return err;
	if (r->relay) {
		stls_relay_set_tlsx(r->relay, r->tlsx);
		stls_relay_set_script(r->relay, r->script);
	} else if (r->script) {
		STLS_WARN("[core] script: no hooks run with handler %s",
			  o.handler->name);
	}
	err = stls_daemon_new(&o, &r->d);
	if (!err && r->relay)
		err = stls_relay_attach(r->relay, r->d);
	if (err)
		return err;
	err = setup_process(r);
	if (!err)
		err = setup_signals(r);
	if (!err)
		err = stls_daemon_start(r->d);
	if (!err && r->script)
		stls_script_attach(r->script, r->d);
	if (!err)
		err = control_start(r);
	if (!err)
		err = start_ops(r);
	if (!err)
		err = revoc_start(r);
	if (!err) {
		STLS_NOTICE("siptlsd %s ready: %d workers, %zu listeners, "
			    "max_connections %d, handler %s", STLS_VERSION,
			    c->workers, c->n_listen, c->max_connections,
			    o.handler->name);
		stls_notify_ready(r->notify, "serving");
	}
	return err;
}

static void finish(struct run *r)
{
	int i;

	stls_metrics_free(r->metrics);
	r->metrics = NULL;
	/* The control thread first: no reload (tls.reload) may run while
	 * watch_files and the refresher go. */
	control_stop(r);
	revoc_stop(r);
	if (r->d) {
		stls_daemon_stop(r->d);
		stls_daemon_join(r->d);
		stls_daemon_stats_log(r->d);
		stls_daemon_free(r->d);
		r->d = NULL;
	}
	if (r->relay) {
		stls_relay_stats_log(r->relay);
		stls_script_stats_log(r->script);
	}
	if (r->dns.counters)
		stls_dns_stats_log(r->dns.counters, (size_t)r->core.workers);
	free(r->dns.counters);
	stls_relay_free(r->relay);
	stls_script_free(r->script);
	stls_relay_settings_fini(&r->relay_conf);
	if (r->pid_written)
		stls_pidfile_remove(r->core.pid_file);
	/* Its timer handle closes with the loop's last run below. */
	stls_notify_free(r->notify);
	r->notify = NULL;
	if (r->loop_ok) {
		for (i = 0; i < r->n_sig; i++)
			uv_close((uv_handle_t *)&r->sig[i], NULL);
		uv_run(&r->loop, UV_RUN_DEFAULT);
		uv_loop_close(&r->loop);
	}
	if (r->core.log_target == STLS_LOG_SYSLOG)
		stls_process_log_syslog(false);
	stls_core_conf_fini(&r->core);
	stls_tlsx_free(r->tlsx);
	stls_pstore_free(r->ps);
	stls_dbsrc_free(r->dbsrc);
	stls_hsm_fini();
	stls_conf_free(r->conf);
}

int main(int argc, char **argv)
{
	struct run r;
	struct stls_diag diag;
	int rc, err;

	memset(&r, 0, sizeof(r));
	rc = parse_args(argc, argv, &r);
	if (rc >= 0)
		return rc;
	stls_diag_init(&diag);
	err = load_conf(&r, &diag);
	if (r.check) {
		rc = check_only(&r, &diag, err);
		goto out;
	}
	stls_diag_print(&diag, stderr);
	rc = 1;
	if (err)
		goto out;
	err = start(&r);
	if (err) {
		STLS_ERR("siptlsd: cannot start: %s", strerror(-err));
		goto out;
	}
	uv_run(&r.loop, UV_RUN_DEFAULT);
	rc = 0;
out:
	finish(&r);
	stls_diag_fini(&diag);
	return rc;
}
