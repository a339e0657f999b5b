/*
 * The control plane's lifecycle (see ctl.h): it registers the method
 * tables of ctl_tls.c, ctl_cfg.c and ctl_script.c and runs the control
 * socket. The reload path they share is ctl_reload.c.
 */
#include "ctl/ctl_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stls/log.h"

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
