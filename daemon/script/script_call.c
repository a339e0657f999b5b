/*
 * The two hooks as the relay calls them: the request hook
 * (request_callback) and the connection-out event (event_callback with
 * "tls:connection-out"), on the worker's own state, with the failure
 * policy of [core] script_on_error.
 *
 * A failed call (an error, the budget, the memory cap) is counted and
 * logged by the protected call with the script line; what the hook had
 * decided before it failed is discarded. After a memory failure that
 * leaves the state more than three quarters full even after a full
 * collection (globals that only grow), the state is rebuilt from the
 * published source, so one leaking script cannot fail every later call.
 */
#include "script/script_int.h"

#include <errno.h>
#include <string.h>

static void count_fail(struct stls_script *s, unsigned widx,
		       struct script_vm *vm, enum script_fail why)
{
	struct script_counters *c = &s->cnt[widx];

	script_count(c, SC_ERRORS, 1);
	if (why == SCRIPT_FAIL_BUDGET)
		script_count(c, SC_BUDGET, 1);
	if (why == SCRIPT_FAIL_MEMORY) {
		script_count(c, SC_MEMORY, 1);
		if (vm && stls__script_vm_bloated(vm))
			stls__script_vm_renew(s, widx);
	}
}

static void gauge(struct stls_script *s, unsigned widx)
{
	struct script_vm *vm = s->vms[widx];

	atomic_store_explicit(&s->cnt[widx].v[SC_MEM_USED], vm ? vm->mem : 0,
			      memory_order_relaxed);
}

static void reset(struct script_vm *vm, enum script_ctx ctx)
{
	vm->ctx = ctx;
	vm->action = STLS_SCRIPT_PASS;
	vm->code = 0;
	vm->has_reason = false;
	vm->hdrs_len = 0;
	vm->n_remove = 0;
	vm->server_name[0] = '\0';
	vm->server_id[0] = '\0';
}

/* Runs the callback at <ref>; SCRIPT_FAIL_ERROR when there is no state
 * (the script failed to build on this worker: logged then). */
static enum script_fail run(struct stls_script *s, unsigned widx,
			    struct script_vm *vm, int ref, const char *arg,
			    const char *what)
{
	enum script_fail why = SCRIPT_FAIL_ERROR;

	if (vm)
		why = stls__script_vm_call(vm, ref, arg, what);
	if (why != SCRIPT_OK)
		count_fail(s, widx, vm, why);
	gauge(s, widx);
	return why;
}

void stls_script_request(struct stls_script *s, unsigned widx,
			 const struct stls_script_req *req,
			 struct stls_script_verdict *out)
{
	struct script_vm *vm = stls__script_vm_of(s, widx);
	enum script_fail why;

	memset(out, 0, sizeof(*out));
	script_count(&s->cnt[widx], SC_REQUESTS, 1);
	if (vm) {
		reset(vm, SCRIPT_CTX_REQUEST);
		vm->req = req;
	}
	why = run(s, widx, vm, vm ? vm->ref_request : 0, NULL,
		  s->conf.request_callback);
	if (why != SCRIPT_OK) {
		out->failed = true;
		if (!s->conf.pass_on_error) {
			out->action = STLS_SCRIPT_REPLY;
			out->code = 500;
		}
		return;
	}
	vm->req = NULL;
	out->action = vm->action;
	if (vm->action == STLS_SCRIPT_REPLY) {
		script_count(&s->cnt[widx], SC_REPLIES, 1);
		out->code = vm->code;
		out->reason = vm->has_reason ? vm->reason : NULL;
		return;
	}
	if (vm->action == STLS_SCRIPT_DROP) {
		script_count(&s->cnt[widx], SC_DROPS, 1);
		return;
	}
	out->hdrs = vm->hdrs;
	out->hdrs_len = vm->hdrs_len;
	out->remove = vm->remove;
	out->n_remove = vm->n_remove;
	out->server_name = vm->server_name;
	out->server_id = vm->server_id;
}

int stls_script_conn_out(struct stls_script *s, unsigned widx,
			 const struct stls_script_out_ev *ev)
{
	struct script_vm *vm = stls__script_vm_of(s, widx);
	enum script_fail why;

	script_count(&s->cnt[widx], SC_EVENTS, 1);
	if (vm) {
		reset(vm, SCRIPT_CTX_EVENT);
		vm->ev = ev;
	}
	why = run(s, widx, vm, vm ? vm->ref_event : 0, "tls:connection-out",
		  s->conf.event_callback);
	if (why != SCRIPT_OK)
		return s->conf.pass_on_error ? 0 : -EPERM;
	vm->ev = NULL;
	if (vm->action != STLS_SCRIPT_DROP)
		return 0;
	script_count(&s->cnt[widx], SC_CONN_DROPPED, 1);
	return -EPERM;
}
