/*
 * The control plane's lifecycle and its reload path (see ctl.h).
 */
#include "ctl/ctl_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "script/script.h"
#include "stls/log.h"

unsigned stls__ctl_wait_ms(const struct stls_ctl *ctl)
{
	return ctl->c.worker_wait_ms ? ctl->c.worker_wait_ms
				     : STLS_CTL_WORKER_WAIT_MS;
}

int stls_ctl_new(const struct stls_ctl_conf *conf, struct stls_ctl **out)
{
	struct stls_ctl *ctl = calloc(1, sizeof(*ctl));
	int err;

	if (!ctl)
		return -ENOMEM;
	ctl->c = *conf;
	pthread_mutex_init(&ctl->lock, NULL);
	err = stls_rpc_new(&ctl->rpc);
	if (!err)
		err = stls_rpc_register(ctl->rpc, stls__ctl_tls_methods, ctl);
	if (!err)
		err = stls_rpc_register(ctl->rpc, stls__ctl_cfg_methods, ctl);
	if (!err)
		err = stls_rpc_register(ctl->rpc, stls__ctl_script_methods,
					ctl);
	if (err) {
		stls_ctl_free(ctl);
		return err;
	}
	*out = ctl;
	return 0;
}

/*
 * Creates every missing directory above <path> with mode 0750 (not the
 * last component: that is the socket). Existing directories are left as
 * they are.
 */
static int make_parent_dirs(const char *path)
{
	char buf[PATH_MAX];
	char *p;
	bool created = false, last;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	p = strrchr(buf, '/');
	if (!p || p == buf)
		return 0;
	*p = '\0';
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		last = *p == '\0';
		*p = '\0';
		if (mkdir(buf, 0750) == 0)
			created = true;
		else if (errno != EEXIST)
			return -errno;
		if (last)
			break;
		*p = '/';
	}
	if (created)
		STLS_NOTICE("control socket: created directory %s (0750)", buf);
	return 0;
}

int stls_ctl_start(struct stls_ctl *ctl)
{
	const struct stls_core_conf *core = ctl->c.core;
	struct stls_rpc_server_conf sc;
	int err;

	if (!core->rpc_socket) {
		STLS_NOTICE("control socket: off (no [core] rpc_socket)");
		return 0;
	}
	err = make_parent_dirs(core->rpc_socket);
	if (err) {
		STLS_ERR("control socket %s: cannot create its directory: %s",
			 core->rpc_socket, strerror(-err));
		return err;
	}
	memset(&sc, 0, sizeof(sc));
	sc.unix_path = core->rpc_socket;
	sc.unix_mode = (unsigned)core->rpc_socket_mode;
	sc.tcp = core->rpc_tcp;
	sc.tcp_allow_write = core->rpc_tcp_write != 0;
	err = stls_rpc_server_start(ctl->rpc, &sc, &ctl->srv);
	if (err)
		return err;
	STLS_NOTICE("control socket: %s (mode %04o)%s", core->rpc_socket,
		    sc.unix_mode ? sc.unix_mode : STLS_RPC_DEFAULT_MODE,
		    core->rpc_tcp ? ", and loopback TCP" : "");
	if (core->rpc_tcp)
		STLS_NOTICE("control socket: TCP port %u%s",
			    (unsigned)stls_rpc_server_tcp_port(ctl->srv),
			    sc.tcp_allow_write ? "" : " (read-only)");
	return 0;
}

void stls_ctl_free(struct stls_ctl *ctl)
{
	if (!ctl)
		return;
	stls_rpc_server_stop(ctl->srv);
	ctl->srv = NULL;
	stls_rpc_free(ctl->rpc);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}

uint16_t stls_ctl_tcp_port(const struct stls_ctl *ctl)
{
	return ctl->srv ? stls_rpc_server_tcp_port(ctl->srv) : 0;
}

int stls_ctl_reload(struct stls_ctl *ctl, struct stls_diag *diag,
		    uint64_t *generation, size_t *profiles)
{
	struct stls_profile_set *set;
	uint64_t gen = 0;
	int err;

	pthread_mutex_lock(&ctl->lock);
	err = stls_pstore_reload(ctl->c.ps, diag, &gen);
	pthread_mutex_unlock(&ctl->lock);
	if (err)
		return err;
	if (generation)
		*generation = gen;
	if (profiles) {
		set = stls_pstore_get(ctl->c.ps);
		*profiles = stls_profile_set_count(set);
		stls_profile_set_unref(set);
	}
	return 0;
}

int stls_ctl_reload_script(struct stls_ctl *ctl, struct stls_diag *diag,
			   uint64_t *generation)
{
	if (!ctl->c.script)
		return -ENOENT;
	return stls_script_reload(ctl->c.script, diag, generation);
}

int stls__ctl_reload_failed(struct stls_rpc_call *call,
			    const struct stls_diag *diag, const char *what,
			    const char *unchanged)
{
	json_t *data = json_array();
	char buf[1024], first[1024] = "";
	size_t i;
	int err = 0;

	for (i = 0; i < diag->n && !err; i++) {
		stls_diag_format(&diag->v[i], buf, sizeof(buf));
		if (!first[0] && diag->v[i].level == STLS_DIAG_ERROR)
			strcpy(first, buf);
		err = stls_rpc_arr_push(data, stls_rpc_str(buf));
	}
	if (err) {
		json_decref(data);
		return err;
	}
	return stls_rpc_fail_data(call, STLS_RPC_E_FAILED, data,
				  "%s not reloaded (%zu error%s, %s)%s%s", what,
				  diag->errors, diag->errors == 1 ? "" : "s",
				  unchanged, first[0] ? ": " : "", first);
}

int stls_ctl_reload_hook(void *arg)
{
	struct stls_ctl *ctl = arg;
	struct stls_diag diag;
	char buf[1024];
	size_t i;
	int err;

	stls_diag_init(&diag);
	err = stls_ctl_reload(arg, &diag, NULL, NULL);
	if (ctl->c.script) {
		int serr = stls_ctl_reload_script(ctl, &diag, NULL);

		err = err ? err : serr;
	}
	for (i = 0; i < diag.n; i++)
		stls_log(diag.v[i].level == STLS_DIAG_ERROR ? STLS_L_ERR
							    : STLS_L_WARN,
			 "reload: %s",
			 stls_diag_format(&diag.v[i], buf, sizeof(buf)));
	stls_diag_fini(&diag);
	return err;
}
