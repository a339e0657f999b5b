/*
 * The seed's TLS RPC commands (section 12, field names as Kamailio's
 * tls_rpc shows them): tls.info, tls.list, tls.options, tls.reload,
 * tls.kill. docs/operations.md documents each reply with an example.
 *
 * tls.list and tls.kill go through the workers (ctl_collect.c); tls.reload
 * through stls_ctl_reload(); the others read counters and settings that
 * are safe to read from any thread.
 */
#include "ctl/ctl_int.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "runtime/stats.h"
#include "stls/conn.h"
#include "stls/hsm.h"
#include "stls/log.h"
#include "tlsx/tlsx.h"

int stls__ctl_set_addr(json_t *obj, const char *ip_key,
		       const char *port_key, const struct stls_addr *a)
{
	char buf[STLS_ADDR_STRLEN];
	int err;

	err = stls_rpc_obj_set_str(obj, ip_key,
				   stls_addr_str(a, false, buf));
	if (!err)
		err = stls_rpc_obj_set_int(obj, port_key, a->port);
	return err;
}

static int set_u64(json_t *o, const char *key, uint64_t v)
{
	return stls_rpc_obj_set_int(o, key, (int64_t)v);
}

static int info_daemon(struct stls_ctl *ctl, json_t *o)
{
	struct stls_stats_snap s;
	struct stls_profile_set *set;
	int err;

	stls_daemon_stats(ctl->c.d, &s);
	err = set_u64(o, "accepted", s.v[STLS_STAT_ACCEPTED]);
	if (!err)
		err = set_u64(o, "refused_max_conn",
			      s.v[STLS_STAT_REFUSED_MAX_CONN]);
	if (!err)
		err = set_u64(o, "outbound", s.v[STLS_STAT_OUTBOUND]);
	if (!err)
		err = set_u64(o, "closed_idle_timeout",
			      s.closed[STLS_DCLOSE_IDLE_TIMEOUT]);
	if (!err)
		err = set_u64(o, "closed_handshake_timeout",
			      s.closed[STLS_DCLOSE_HANDSHAKE_TIMEOUT]);
	if (!err)
		err = set_u64(o, "closed_tls_error",
			      s.closed[STLS_DCLOSE_TRANSFORM]);
	if (!err)
		err = set_u64(o, "closed_killed", s.closed[STLS_DCLOSE_KILLED]);
	if (!err)
		err = set_u64(o, "hsm_key_failures", stls_hsm_key_failures());
	if (!err)
		err = set_u64(o, "generation",
			      stls_pstore_generation(ctl->c.ps));
	if (!err) {
		set = stls_pstore_get(ctl->c.ps);
		err = set_u64(o, "profiles", stls_profile_set_count(set));
		stls_profile_set_unref(set);
	}
	return err;
}

/* Overload and per-source counters (docs/core-config.md): the limits
 * and what they did, summed over the workers, under their core.stats
 * names. */
static int overload_info(struct stls_ctl *ctl, json_t *o)
{
	static const enum stls_stat keys[] = {
		STLS_STAT_SHED,
		STLS_STAT_HANDSHAKE_LIMIT,
		STLS_STAT_REFUSED_SOURCE_CONNS,
		STLS_STAT_REFUSED_SOURCE_RATE,
		STLS_STAT_SOURCE_FILTER_LISTED,
		STLS_STAT_SOURCE_FILTER_REBUILDS,
		STLS_STAT_SOURCE_FILTER_FULL,
		STLS_STAT_HS_HELD,
		STLS_STAT_HS_OFFLOADED,
		STLS_STAT_HS_STEP_PAUSED,
		STLS_STAT_CLOSES_DEFERRED,
		STLS_STAT_HS_FLIGHTS_DIRECT,
	};
	struct stls_stats_snap s;
	size_t i;
	int err;

	stls_daemon_stats(ctl->c.d, &s);
	err = stls_rpc_obj_set_int(o, "max_handshakes_in_flight",
				   ctl->c.core->max_handshakes_in_flight);
	if (!err)
		err = stls_rpc_obj_set_int(o, "handshakes_in_flight",
					   s.handshaking);
	for (i = 0; i < STLS_ARRAY_SIZE(keys) && !err; i++)
		err = set_u64(o, stls_stat_names[keys[i]], s.v[keys[i]]);
	if (!err)
		err = set_u64(o, "source_filter_sources",
			      stls_daemon_filtered_sources(ctl->c.d));
	if (!err)
		err = stls_rpc_obj_set_int(o, "handshake_threads",
					   ctl->c.core->handshake_threads);
	if (!err)
		err = stls_rpc_obj_set_int(o, "handshake_steps_out",
					   s.steps_out);
	if (!err)
		err = set_u64(o, "handshake_steps_queued",
			      stls_daemon_hs_queued(ctl->c.d));
	return err;
}

/* The TLS transform's counters (zeros when the daemon has none). */
static int info_tls(struct stls_ctl *ctl, json_t *o)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "handshakes", offsetof(struct stls_tlsx_stats, handshakes) },
		{ "handshakes_resumed",
		  offsetof(struct stls_tlsx_stats, handshakes_resumed) },
		{ "handshake_failures",
		  offsetof(struct stls_tlsx_stats, handshake_failures) },
		{ "verify_failures",
		  offsetof(struct stls_tlsx_stats, verify_failures) },
		{ "identity_failures",
		  offsetof(struct stls_tlsx_stats, identity_failures) },
		{ "renegotiations_refused",
		  offsetof(struct stls_tlsx_stats, renegotiations_refused) },
		{ "low_memory_refused",
		  offsetof(struct stls_tlsx_stats, low_memory_refused) },
		{ "conn_out_dropped",
		  offsetof(struct stls_tlsx_stats, conn_out_dropped) },
	};
	struct stls_conn_counters rc;
	struct stls_tlsx_stats ts;
	size_t i;
	int err = 0;

	stls_conn_get_counters(&rc);
	memset(&ts, 0, sizeof(ts));
	if (ctl->c.tlsx)
		stls_tlsx_stats(ctl->c.tlsx, &ts);
	else
		ts.ct_wq_bytes = stls_conn_get_ct_wq_total();
	err = stls_rpc_obj_set_int(o, "max_connections",
				   ctl->c.core->max_connections);
	if (!err)
		err = set_u64(o, "opened_connections", ts.tls_connections);
	if (!err)
		err = set_u64(o, "clear_text_write_queued_bytes",
			      ts.ct_wq_bytes);
	for (i = 0; i < STLS_ARRAY_SIZE(keys) && !err; i++)
		err = set_u64(o, keys[i].key,
			      *(const uint64_t *)(const void *)(
				      (const char *)&ts + keys[i].off));
	/* The record layer's process-wide counts (stls/conn.h). */
	if (!err)
		err = set_u64(o, "record_handoff_fallbacks",
			      rc.handoff_fallbacks);
	if (!err)
		err = set_u64(o, "record_warning_alert_closes",
			      rc.warning_alert_closes);
	if (!err)
		err = set_u64(o, "record_empty_record_closes",
			      rc.empty_record_closes);
	if (!err)
		err = set_u64(o, "record_key_limit_closes",
			      rc.key_limit_closes);
	if (!err)
		err = stls_rpc_obj_set_int(
			o, "connections", stls_daemon_conn_count(ctl->c.d));
	if (!err)
		err = overload_info(ctl, o);
	return err;
}

/* Profiles from a database: the source and what it did (docs/database.md). */
static int info_db(struct stls_ctl *ctl, json_t *o)
{
	struct stls_dbsrc_stats s;
	uint64_t ok = 0, failed = 0;
	json_t *d;
	int err;

	stls_pstore_counts(ctl->c.ps, &ok, &failed);
	err = set_u64(o, "reloads", ok);
	if (!err)
		err = set_u64(o, "reloads_refused", failed);
	if (err || !ctl->c.dbsrc)
		return err;
	stls_dbsrc_stats(ctl->c.dbsrc, &s);
	d = json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		      "s:s}",
		      "source", s.source, "connected", s.connected,
		      "from_snapshot", s.from_snapshot, "changes_applied",
		      (json_int_t)s.changes_applied, "changes_refused",
		      (json_int_t)s.changes_refused, "failures",
		      (json_int_t)s.db_failures, "reconnects",
		      (json_int_t)s.reconnects, "snapshots_written",
		      (json_int_t)s.snapshots_written, "ticket_key_rotations",
		      (json_int_t)s.tkeys_rotations, "ticket_key_updates",
		      (json_int_t)s.tkeys_updates, "last_error",
		      s.last_error);
	if (!d)
		return -ENOMEM;
	return json_object_set_new(o, "database", d) ? -ENOMEM : 0;
}

static int tls_info(struct stls_rpc_call *call, void *arg)
{
	struct stls_ctl *ctl = arg;
	json_t *o = json_object();
	int err;

	err = info_tls(ctl, o);
	if (!err)
		err = info_daemon(ctl, o);
	if (!err)
		err = info_db(ctl, o);
	if (!err)
		err = stls__ctl_info_certs(ctl, o);
	if (err) {
		json_decref(o);
		return err;
	}
	return stls_rpc_reply(call, o);
}

/* OpenSSL pads the description's columns; one space reads better. */
static void squeeze_spaces(const char *in, char *out, size_t len)
{
	size_t n = 0;

	for (; *in && n + 1 < len; in++) {
		if (*in == '\n')
			continue;
		if (*in == ' ' && (n == 0 || out[n - 1] == ' '))
			continue;
		out[n++] = *in;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static int list_strs(json_t *o, const struct stls__ctl_entry *e)
{
	char cipher[sizeof(e->info.cipher)];
	const struct stls_tls_info *t = &e->info;
	char ts[32];
	struct tm tm;
	int err;

	if (!localtime_r(&e->created, &tm) ||
	    strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		strcpy(ts, "N/A");
	err = stls_rpc_obj_set_str(o, "sni", t->sni[0] ? t->sni : "N/A");
	if (!err)
		err = stls_rpc_obj_set_str(o, "timestamp", ts);
	if (!err)
		err = stls_rpc_obj_set_int(o, "timeout", e->timeout);
	if (!err)
		err = stls__ctl_set_addr(o, "src_ip", "src_port", &e->peer);
	if (!err)
		err = stls__ctl_set_addr(o, "dst_ip", "dst_port", &e->local);
	squeeze_spaces(t->cipher, cipher, sizeof(cipher));
	if (!err)
		err = stls_rpc_obj_set_str(o, "cipher", cipher);
	return err;
}

static int list_rest(json_t *o, const struct stls__ctl_entry *e)
{
	const struct stls_tls_info *t = &e->info;
	int err;

	err = set_u64(o, "ct_wq_size", t->ct_wq_size);
	if (!err)
		err = set_u64(o, "enc_rd_buf", t->enc_rd_buf);
	if (!err)
		err = set_u64(o, "flags", t->flags);
	if (!err)
		err = stls_rpc_obj_set_str(o, "state", t->state);
	if (!err)
		err = stls_rpc_obj_set_str(o, "profile", t->profile);
	if (!err)
		err = stls_rpc_obj_set_str(
			o, "direction",
			e->kind == STLS_DCONN_OUTBOUND ? "out" : "in");
	if (!err)
		err = stls_rpc_obj_set_str(o, "version", t->version);
	if (!err)
		err = stls_rpc_obj_set_str(o, "peer_subject",
					   t->peer_subject);
	if (!err)
		err = stls_rpc_obj_set_int(o, "verified", t->verified);
	if (!err)
		err = stls_rpc_obj_set_int(o, "resumed", t->resumed);
	if (!err)
		err = set_u64(o, "generation", t->generation);
	return err;
}

static json_t *list_entry(const struct stls__ctl_entry *e)
{
	json_t *o = json_object();
	int err;

	err = set_u64(o, "id", e->id);
	if (!err)
		err = list_strs(o, e);
	if (!err)
		err = list_rest(o, e);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int fail_workers(struct stls_rpc_call *call, int err)
{
	if (err == -ETIMEDOUT || err == -ESHUTDOWN)
		return stls_rpc_fail(call, STLS_RPC_E_UNAVAILABLE,
				     "workers did not answer in time (%s)",
				     strerror(-err));
	return err;
}

static int tls_list(struct stls_rpc_call *call, void *arg)
{
	struct stls_ctl *ctl = arg;
	struct stls__ctl_entry *v = NULL;
	json_t *a;
	size_t i, n = 0;
	int err;

	err = stls__ctl_collect(ctl->c.d, stls__ctl_wait_ms(ctl), &v, &n);
	if (err)
		return fail_workers(call, err);
	a = json_array();
	for (i = 0; i < n && !err; i++)
		err = stls_rpc_arr_push(a, list_entry(&v[i]));
	free(v);
	if (err) {
		json_decref(a);
		return err;
	}
	return stls_rpc_reply(call, a);
}

/* tls.options field name of a setting (the seed's spelling). */
static const char *option_name(const struct stls_setting_desc *d)
{
	/* The one name tls.options spells differently from its cfg name. */
	if (strcmp(d->cfg_name, "ssl_free_list_max") == 0)
		return "ssl_freelist_max";
	return d->cfg_name;
}

static int tls_options(struct stls_rpc_call *call, void *arg)
{
	struct stls_ctl *ctl = arg;
	const struct stls_setting_desc *d;
	json_t *o = json_object();
	char buf[4096];
	size_t i;
	int err = 0;

	pthread_mutex_lock(&ctl->lock); /* `config` may be swapped */
	for (i = 0; (d = stls_setting_at(i)) != NULL && !err; i++) {
		if (d->kind == STLS_SK_INT || d->kind == STLS_SK_BOOL) {
			err = stls_rpc_obj_set_int(
				o, option_name(d),
				stls_settings_get_int(ctl->c.live, d));
			continue;
		}
		if (stls_settings_format(ctl->c.live, d, buf, sizeof(buf)) < 0)
			strcpy(buf, "(too long)");
		err = stls_rpc_obj_set_str(o, option_name(d), buf);
	}
	pthread_mutex_unlock(&ctl->lock);
	if (err) {
		json_decref(o);
		return err;
	}
	return stls_rpc_reply(call, o);
}

static int tls_reload(struct stls_rpc_call *call, void *arg)
{
	struct stls_ctl *ctl = arg;
	struct stls_diag diag;
	json_t *o;
	uint64_t gen = 0, sgen = 0;
	size_t profiles = 0;
	int err;

	stls_diag_init(&diag);
	err = stls_ctl_reload(ctl, &diag, &gen, &profiles);
	if (err == -EINVAL) {
		err = stls__ctl_reload_failed(call, &diag, "TLS configuration",
					      "running configuration "
					      "unchanged");
		STLS_WARN("tls.reload: refused (%zu errors); running "
			  "configuration unchanged", diag.errors);
	}
	/* The script reloads with the profiles ([core] script). */
	if (!err && ctl->c.script) {
		err = stls_ctl_reload_script(ctl, &diag, &sgen);
		if (err && err != -ENOMEM)
			err = stls__ctl_reload_failed(
				call, &diag, "script",
				"running script unchanged; the TLS profiles "
				"were reloaded");
	}
	stls_diag_fini(&diag);
	if (err)
		return err;
	o = json_object();
	err = stls_rpc_obj_set_str(o, "message",
				   "Ok. TLS configuration reloaded.");
	if (!err)
		err = set_u64(o, "generation", gen);
	if (!err)
		err = set_u64(o, "profiles", profiles);
	if (!err && ctl->c.script)
		err = set_u64(o, "script_generation", sgen);
	if (err) {
		json_decref(o);
		return err;
	}
	return stls_rpc_reply(call, o);
}


static int tls_kill(struct stls_rpc_call *call, void *arg)
{
	struct stls_ctl *ctl = arg;
	uint64_t id = (uint64_t)stls_rpc_param_int(call, 0);
	int err;

	err = stls__ctl_kill(ctl->c.d, id, stls__ctl_wait_ms(ctl));
	if (err == -ENOENT)
		return stls_rpc_fail(call, STLS_RPC_E_NOT_FOUND,
				     "TLS connection id not found");
	if (err)
		return fail_workers(call, err);
	STLS_NOTICE("tls.kill: connection %llu closed",
		    (unsigned long long)id);
	return stls_rpc_reply_str(call, "OK");
}

const struct stls_rpc_method stls__ctl_tls_methods[] = {
	{ "tls.info", tls_info, "",
	  "TLS summary: max_connections, opened_connections, "
	  "clear_text_write_queued_bytes (as the seed), plus handshake and "
	  "error counters, accepted/refused/closed counts and the profile "
	  "set's generation.", 0 },
	{ "tls.list", tls_list, "",
	  "One entry per open TLS connection, from every worker: id, sni, "
	  "timestamp, timeout, src_ip/src_port (peer), dst_ip/dst_port "
	  "(local), cipher, ct_wq_size, enc_rd_buf, flags, state, profile, "
	  "direction, version, peer_subject, verified, resumed, generation.",
	  0 },
	{ "tls.options", tls_options, "",
	  "Every module parameter with its current value (secrets shown as "
	  "\"...\").", 0 },
	{ "tls.reload", tls_reload, "",
	  "Rebuild the TLS profiles from the configuration files as they are "
	  "now (tls.cfg named by config, inline profiles, certificates, keys, "
	  "CRLs) and use them for new connections; open connections keep "
	  "theirs. A failure changes nothing and lists every FILE:LINE: "
	  "problem. With [core] script, the script is reloaded too "
	  "(script_generation).", STLS_RPC_F_WRITE },
	{ "tls.kill", tls_kill, "id:int",
	  "Close the TLS connection with this id (from tls.list).",
	  STLS_RPC_F_WRITE },
	STLS_RPC_METHOD_END
};
