/*
 * The one reload path (ctl.h): tls.reload, SIGHUP and script.reload all
 * come here, one at a time under the control plane's lock, and so does
 * the reply a method gives when a reload is refused. The lowest file of
 * the room: the method files call it, it calls none of them.
 */
#include "ctl/ctl_int.h"

#include <errno.h>
#include <string.h>

#include "script/script.h"
#include "stls/log.h"

unsigned stls__ctl_wait_ms(const struct stls_ctl *ctl)
{
	return ctl->c.worker_wait_ms ? ctl->c.worker_wait_ms
				     : STLS_CTL_WORKER_WAIT_MS;
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
