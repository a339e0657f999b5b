/*
 * Runtime settings over JSON-RPC (cfg.get, cfg.set, cfg.set_now_int,
 * cfg.set_now_string: the seed's kamcmd commands, group `tls`) and the
 * daemon counters (core.stats).
 *
 * Only the seed's runtime variables can change (the settings table flags
 * them); each change is stored in the live settings with an atomic store,
 * which is how the engine sees it on its next use. Two need more:
 * connection_timeout is also handed to the daemon for new connections, and
 * `config` is a string swapped under the control plane's lock, the same
 * lock a reload holds while it reads it.
 */
#include "ctl/ctl_int.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "runtime/stats.h"
#include "stls/log.h"

/* What a change of each runtime variable affects (cfg.set's reply). */
static const struct {
	const char *name;
	const char *effect;
} effects[] = {
	{ "connection_timeout", "new connections" },
	{ "config", "next tls.reload" },
};

static const char *effect_of(const struct stls_setting_desc *d)
{
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(effects); i++) {
		if (strcmp(d->name, effects[i].name) == 0)
			return effects[i].effect;
	}
	return "now";
}

/* The setting named by params 0 (group) and 1 (name), or NULL (failed). */
static const struct stls_setting_desc *lookup(struct stls_rpc_call *call)
{
	const char *group = stls_rpc_param_str(call, 0);
	const char *name = stls_rpc_param_str(call, 1);
	const struct stls_setting_desc *d;

	if (strcasecmp(group, "tls") != 0) {
		stls_rpc_fail(call, STLS_RPC_E_NOT_FOUND,
			      "unknown configuration group \"%.64s\" (siptlsd "
			      "has one: tls)", group);
		return NULL;
	}
	d = stls_setting_find(name);
	if (!d) {
		stls_rpc_fail(call, STLS_RPC_E_NOT_FOUND,
			      "tls has no variable \"%.64s\"", name);
		return NULL;
	}
	return d;
}

/* The current value as JSON: a number for INT/BOOL, else text. */
static json_t *value_json(const struct stls_settings *s,
			  const struct stls_setting_desc *d,
			  pthread_mutex_t *lock)
{
	char buf[4096];
	int n;

	if (d->kind == STLS_SK_INT || d->kind == STLS_SK_BOOL)
		return json_integer(stls_settings_get_int(s, d));
	pthread_mutex_lock(lock);
	n = stls_settings_format(s, d, buf, sizeof(buf));
	pthread_mutex_unlock(lock);
	if (n < 0)
		return NULL;
	return stls_rpc_str(buf);
}

static int cfg_get(struct stls_rpc_call *call, void *arg)
{
	struct stls_ctl *ctl = arg;
	const struct stls_setting_desc *d = lookup(call);

	if (!d)
		return -EPROTO;
	return stls_rpc_reply(call, value_json(ctl->c.live, d, &ctl->lock));
}

/* Makes a stored change real where the live settings are not enough. */
static void apply_effect(struct stls_ctl *ctl,
			 const struct stls_setting_desc *d)
{
	int v, ms;

	if (strcmp(d->name, "connection_timeout") != 0)
		return;
	v = stls_settings_get_int(ctl->c.live, d);
	if (v <= 0)
		ms = -1; /* -1 and 0: never */
	else if (v > INT_MAX / 1000)
		ms = INT_MAX;
	else
		ms = v * 1000;
	stls_daemon_set_idle_timeout(ctl->c.d, ms);
}

static int reply_set(struct stls_rpc_call *call, struct stls_ctl *ctl,
		     const struct stls_setting_desc *d)
{
	json_t *o = json_object();
	int err;

	err = stls_rpc_obj_set_str(o, "name", d->cfg_name);
	if (!err)
		err = stls_rpc_obj_set(o, "value",
				       value_json(ctl->c.live, d, &ctl->lock));
	if (!err)
		err = stls_rpc_obj_set_str(o, "applies", effect_of(d));
	if (err) {
		json_decref(o);
		return err;
	}
	return stls_rpc_reply(call, o);
}

/* Sets the variable from text (sval) or from an integer (sval NULL). */
static int set_common(struct stls_rpc_call *call, struct stls_ctl *ctl,
		      const char *sval, int ival)
{
	const struct stls_setting_desc *d = lookup(call);
	char why[512];
	int err;

	if (!d)
		return -EPROTO;
	why[0] = '\0';
	pthread_mutex_lock(&ctl->lock);
	err = stls_settings_set_runtime(ctl->c.live, d, sval, ival,
					ctl->c.base_dir, why, sizeof(why));
	pthread_mutex_unlock(&ctl->lock);
	if (err == -ENOMEM)
		return err;
	if (err == -EPERM)
		return stls_rpc_fail(call, STLS_RPC_E_FORBIDDEN, "%s", why);
	if (err)
		return stls_rpc_fail(call, STLS_RPC_E_BAD_VALUE, "%s", why);
	apply_effect(ctl, d);
	STLS_NOTICE("cfg.set: tls.%s changed (applies: %s)", d->cfg_name,
		    effect_of(d));
	return reply_set(call, ctl, d);
}

static int cfg_set(struct stls_rpc_call *call, void *arg)
{
	return set_common(call, arg, stls_rpc_param_str(call, 2), 0);
}

static int cfg_set_int(struct stls_rpc_call *call, void *arg)
{
	int64_t v = stls_rpc_param_int(call, 2);

	if (v < INT_MIN || v > INT_MAX)
		return stls_rpc_fail(call, STLS_RPC_E_BAD_VALUE,
				     "value %lld is out of range",
				     (long long)v);
	return set_common(call, arg, NULL, (int)v);
}

static int set_counts(json_t *o, const char *const *names,
		      const uint64_t *v, size_t n)
{
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		if (names[i])
			err = stls_rpc_obj_set_int(o, names[i],
						   (int64_t)v[i]);
	}
	return err;
}

static int core_stats(struct stls_rpc_call *call, void *arg)
{
	struct stls_ctl *ctl = arg;
	struct stls_stats_snap s;
	json_t *o = json_object();
	json_t *closed = json_object();
	json_t *rel = json_object();
	uint64_t ok, failed;
	int err;

	stls_daemon_stats(ctl->c.d, &s);
	stls_pstore_counts(ctl->c.ps, &ok, &failed);
	err = stls_rpc_obj_set_int(o, "open", s.open);
	if (!err)
		err = stls_rpc_obj_set_int(o, "handshaking", s.handshaking);
	if (!err)
		err = stls_rpc_obj_set_int(o, "handshake_steps_out",
					   s.steps_out);
	if (!err)
		err = stls_rpc_obj_set_int(o, "handshake_steps_queued",
					   (int64_t)stls_daemon_hs_queued(
						   ctl->c.d));
	if (!err)
		err = set_counts(o, stls_stat_names, s.v, STLS_STAT__COUNT);
	if (!err)
		err = set_counts(closed, stls_dclose_names, s.closed,
				 STLS_DCLOSE__COUNT);
	if (!err)
		err = stls_rpc_obj_set(o, "closed", closed);
	closed = NULL;
	if (!err)
		err = stls_rpc_obj_set_int(rel, "ok", (int64_t)ok);
	if (!err)
		err = stls_rpc_obj_set_int(rel, "failed", (int64_t)failed);
	if (!err)
		err = stls_rpc_obj_set_int(
			rel, "generation",
			(int64_t)stls_pstore_generation(ctl->c.ps));
	if (!err)
		err = stls_rpc_obj_set(o, "reloads", rel);
	rel = NULL;
	if (!err && ctl->c.script) {
		json_t *sc = json_object();

		err = stls__ctl_script_counters(sc, ctl->c.script);
		if (!err)
			err = stls_rpc_obj_set(o, "script", sc);
		else
			json_decref(sc);
	}
	if (!err)
		return stls_rpc_reply(call, o);
	json_decref(closed);
	json_decref(rel);
	json_decref(o);
	return err;
}

const struct stls_rpc_method stls__ctl_cfg_methods[] = {
	{ "cfg.get", cfg_get, "group:str name:str",
	  "Current value of a variable of group tls (the runtime name, e.g. "
	  "connection_timeout, log, or the parameter name, e.g. tls_log). "
	  "Every parameter can be read; secrets show as \"...\".", 0 },
	{ "cfg.set", cfg_set, "group:str name:str value:str",
	  "Change a runtime variable of group tls: connection_timeout, "
	  "send_close_notify, con_ct_wq_max, ct_wq_max, ct_wq_blk_size, log, "
	  "debug, low_mem_threshold1, low_mem_threshold2, config. Ranges are "
	  "enforced; other variables are refused (403) with the reason. "
	  "Replies the new value and when it applies.",
	  STLS_RPC_F_WRITE },
	{ "cfg.set_now_int", cfg_set_int, "group:str name:str value:int",
	  "cfg.set with an integer value (kamcmd's name).", STLS_RPC_F_WRITE },
	{ "cfg.set_now_string", cfg_set, "group:str name:str value:str",
	  "cfg.set with a text value (kamcmd's name).", STLS_RPC_F_WRITE },
	{ "core.stats", core_stats, "",
	  "Daemon counters summed over the workers: open connections, "
	  "handshakes in flight, accepted, refused (max_connections, "
	  "per source), shed, bytes, backend traffic, closes by reason, "
	  "profile reloads, and with [core] script the hooks' counters "
	  "(\"script\", as script.info).", 0 },
	STLS_RPC_METHOD_END
};
