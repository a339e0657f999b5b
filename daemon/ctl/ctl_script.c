/*
 * The control methods of the Lua hooks: script.reload (the script alone,
 * as SIGHUP and tls.reload do after the profiles) and script.info (what
 * runs and what it did).
 */
#include "ctl/ctl_int.h"

#include <errno.h>

#include "script/script.h"
#include "stls/log.h"

static int no_script(struct stls_rpc_call *call)
{
	return stls_rpc_fail(call, STLS_RPC_E_NOT_FOUND,
			     "no script: [core] script is not set");
}

static int script_reload(struct stls_rpc_call *call, void *arg)
{
	struct stls_ctl *ctl = arg;
	struct stls_diag diag;
	uint64_t gen = 0;
	json_t *o;
	int err;

	if (!ctl->c.script)
		return no_script(call);
	stls_diag_init(&diag);
	err = stls_ctl_reload_script(ctl, &diag, &gen);
	if (err && err != -ENOMEM) {
		STLS_WARN("script.reload: refused (%zu errors); running "
			  "script unchanged", diag.errors);
		err = stls__ctl_reload_failed(call, &diag, "script",
					      "running script unchanged");
	}
	stls_diag_fini(&diag);
	if (err)
		return err;
	o = json_object();
	err = stls_rpc_obj_set_str(o, "message", "Ok. Script reloaded.");
	if (!err)
		err = stls_rpc_obj_set_str(o, "file",
					   stls_script_path(ctl->c.script));
	if (!err)
		err = stls_rpc_obj_set_int(o, "generation", (int64_t)gen);
	if (err) {
		json_decref(o);
		return err;
	}
	return stls_rpc_reply(call, o);
}

int stls__ctl_script_counters(json_t *o, const struct stls_script *s)
{
	struct stls_script_stats st;
	const struct {
		const char *name;
		const uint64_t *v;
	} counters[] = {
		{ "requests", &st.requests },
		{ "events", &st.events },
		{ "errors", &st.errors },
		{ "budget", &st.budget },
		{ "memory", &st.memory },
		{ "replies", &st.replies },
		{ "drops", &st.drops },
		{ "conn_dropped", &st.conn_dropped },
		{ "rebuilds", &st.rebuilds },
		{ "reloads", &st.reloads },
		{ "reload_failures", &st.reload_failures },
		{ "memory_used", &st.memory_used },
	};
	size_t i;
	int err;

	stls_script_stats(s, &st);
	err = stls_rpc_obj_set_str(o, "file", stls_script_path(s));
	if (!err)
		err = stls_rpc_obj_set_int(o, "generation",
					   (int64_t)stls_script_generation(s));
	for (i = 0; !err && i < STLS_ARRAY_SIZE(counters); i++)
		err = stls_rpc_obj_set_int(o, counters[i].name,
					   (int64_t)*counters[i].v);
	return err;
}

static int script_info(struct stls_rpc_call *call, void *arg)
{
	struct stls_ctl *ctl = arg;
	json_t *o;
	int err;

	if (!ctl->c.script)
		return no_script(call);
	o = json_object();
	err = stls__ctl_script_counters(o, ctl->c.script);
	if (err) {
		json_decref(o);
		return err;
	}
	return stls_rpc_reply(call, o);
}

const struct stls_rpc_method stls__ctl_script_methods[] = {
	{ "script.reload", script_reload, "",
	  "Read [core] script again and, when it loads (compiles, runs, "
	  "defines every configured callback), run it on every worker; a "
	  "failure keeps the running script and lists every FILE:LINE: "
	  "problem.", STLS_RPC_F_WRITE },
	{ "script.info", script_info, "",
	  "The script file, its generation, and the hooks' counters: "
	  "requests, events, errors (budget, memory), replies, drops, "
	  "conn_dropped, rebuilds, reloads, reload_failures, memory_used "
	  "(bytes of the workers' states). core.stats has them too, as "
	  "\"script\".", 0 },
	STLS_RPC_METHOD_END
};
