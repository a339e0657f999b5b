/*
 * Built-in JSON-RPC methods: introspection (system.listMethods,
 * system.methodHelp, as XML-RPC introspection names them and kamcmd users
 * know them) and core.version, core.uptime, core.echo. Each gets the
 * dispatcher itself as its argument. stls_rpc_new() lives here because it
 * registers them: the dispatcher (rpc.c) never names a method.
 */
#include "rpc/rpc_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int list_methods(struct stls_rpc_call *call, void *arg)
{
	struct stls_rpc *rpc = arg;
	const char **names;
	json_t *list;
	size_t i, n = 0;
	int rc = 0;

	names = calloc(rpc->n ? rpc->n : 1, sizeof(*names));
	list = json_array();
	if (!names || !list) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < rpc->n; i++) {
		if (!(rpc->v[i].m->flags & STLS_RPC_F_HIDDEN)) {
			names[n++] = rpc->v[i].m->name;
		}
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && !rc; i++) {
		rc = stls_rpc_arr_push(list, stls_rpc_str(names[i]));
	}
	if (!rc) {
		rc = stls_rpc_reply(call, list);
		list = NULL;
	}
out:
	json_decref(list);
	free(names);
	return rc;
}

static int method_help(struct stls_rpc_call *call, void *arg)
{
	const char *name = stls_rpc_param_str(call, 0);
	const struct stls__rpc_entry *e = stls__rpc_find(arg, name,
						     strlen(name));
	char usage[256];

	if (!e) {
		return stls_rpc_fail(call, STLS_RPC_E_NOT_FOUND,
				     "no method named \"%.64s\"", name);
	}
	return stls_rpc_reply(call, stls_rpc_strf(
			      "%s%s%s%s",
			      stls__rpc_usage(e, usage, sizeof(usage)),
			      e->m->flags & STLS_RPC_F_WRITE ? " (changes state)"
							     : "",
			      e->m->doc && *e->m->doc ? "\n" : "",
			      e->m->doc ? e->m->doc : ""));
}

static int core_version(struct stls_rpc_call *call, void *arg)
{
	json_t *o = json_object();
	int rc;

	(void)arg;
	rc = stls_rpc_obj_set_str(o, "name", "siptlsd");
	if (!rc) {
		rc = stls_rpc_obj_set_str(o, "version", STLS_VERSION);
	}
	if (!rc) {
		rc = stls_rpc_obj_set_str(o, "libuv", uv_version_string());
	}
	if (rc) {
		json_decref(o);
		return rc;
	}
	return stls_rpc_reply(call, o);
}

static int core_uptime(struct stls_rpc_call *call, void *arg)
{
	struct stls_rpc *rpc = arg;
	json_t *o = json_object();
	struct timespec now;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &now);
	rc = stls_rpc_obj_set_int(o, "now", (int64_t)time(NULL));
	if (!rc) {
		rc = stls_rpc_obj_set_int(o, "up_since",
					  (int64_t)rpc->start_wall);
	}
	if (!rc) {
		rc = stls_rpc_obj_set_int(
			o, "uptime",
			(int64_t)(now.tv_sec - rpc->start_mono.tv_sec));
	}
	if (rc) {
		json_decref(o);
		return rc;
	}
	return stls_rpc_reply(call, o);
}

static int core_echo(struct stls_rpc_call *call, void *arg)
{
	json_t *a = json_array();
	size_t i;
	int rc = a ? 0 : -ENOMEM;

	(void)arg;
	for (i = 0; i < stls_rpc_param_count(call) && !rc; i++) {
		/* The array takes a reference of its own to the param. */
		if (json_array_append(a, stls_rpc_param(call, i))) {
			rc = -ENOMEM;
		}
	}
	if (rc) {
		json_decref(a);
		return rc;
	}
	return stls_rpc_reply(call, a);
}

static const struct stls_rpc_method builtins[] = {
	{ "system.listMethods", list_methods, "",
	  "List the names of all methods, sorted.", 0 },
	{ "system.methodHelp", method_help, "name:str",
	  "Usage line and description of one method.", 0 },
	{ "core.version", core_version, "",
	  "Name and version of the daemon and of libuv.", 0 },
	{ "core.uptime", core_uptime, "",
	  "Current time, start time (both Unix seconds) and seconds since "
	  "start.", 0 },
	{ "core.echo", core_echo, "...",
	  "Return the parameters unchanged: checks the control socket.", 0 },
	STLS_RPC_METHOD_END
};

int stls_rpc_new(struct stls_rpc **out)
{
	struct stls_rpc *rpc = calloc(1, sizeof(*rpc));
	int rc;

	*out = NULL;
	if (!rpc) {
		return -ENOMEM;
	}
	rpc->max_request = STLS_RPC_DEFAULT_MAX_REQUEST;
	clock_gettime(CLOCK_MONOTONIC, &rpc->start_mono);
	rpc->start_wall = time(NULL);
	rc = stls_rpc_register(rpc, builtins, rpc);
	if (rc) {
		stls_rpc_free(rpc);
		return rc;
	}
	*out = rpc;
	return 0;
}
