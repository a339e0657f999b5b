/*
 * Internals of the script room. Not an interface: the relay, the control
 * plane and main use script.h.
 *
 * Calls run one way: script.c (the object, generations, reload) and
 * script_call.c (the hooks) call script_vm.c (one lua_State: allocator,
 * sandbox, budget, protected calls); script_vm.c calls script_ksr.c (the
 * KSR table) and script_pattern.c (bounded string patterns);
 * script_ksr.c calls script_pv.c and script_hdr.c; script_call.c calls
 * script.c (stls__script_vm_of). Nothing calls back up.
 */
#ifndef STLSD_SCRIPT_INT_H
#define STLSD_SCRIPT_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <lua.h>

#include "script/script.h"

#define STLS__SCRIPT_HIDDEN __attribute__((visibility("hidden")))

/* Instructions between two looks at the budget. */
#define SCRIPT_HOOK_EVERY 1000
/* The top-level chunk may run this many times the per-call budget. */
#define SCRIPT_LOAD_FACTOR 10
/* Longest header name a hook may remove. */
#define SCRIPT_NAME_MAX 64

/* One published version of the script: its text. Immutable. */
struct script_src {
	atomic_int refs;
	uint64_t gen;
	char *text;
	size_t len;
};

enum script_counter {
	SC_REQUESTS,
	SC_EVENTS,
	SC_ERRORS,
	SC_BUDGET,
	SC_MEMORY,
	SC_REPLIES,
	SC_DROPS,
	SC_CONN_DROPPED,
	SC_REBUILDS,
	SC_MEM_USED, /* a gauge: bytes of this worker's state */
	SC__COUNT
};

struct script_counters {
	_Atomic uint64_t v[SC__COUNT];
};

/* Where the running hook was called from. */
enum script_ctx {
	SCRIPT_CTX_LOAD,    /* the top-level chunk */
	SCRIPT_CTX_REQUEST, /* request_callback */
	SCRIPT_CTX_EVENT,   /* event_callback */
};

/* Why a protected call failed. */
enum script_fail {
	SCRIPT_OK,
	SCRIPT_FAIL_ERROR,  /* a Lua error */
	SCRIPT_FAIL_BUDGET, /* the instruction budget */
	SCRIPT_FAIL_MEMORY, /* the memory cap */
};

/* One lua_State and everything its KSR functions read and write. */
struct script_vm {
	lua_State *L;
	const struct stls_script_conf *conf; /* the owner's, borrowed */
	uint64_t gen;                  /* source generation it runs */
	/* allocator */
	size_t mem, mem_cap;
	bool mem_hit;                  /* an allocation was refused */
	/* instruction budget */
	long used, limit;
	bool exhausted;
	int ref_request, ref_event;    /* registry refs, or LUA_NOREF */
	/* the current call */
	enum script_ctx ctx;
	const struct stls_script_req *req;
	const struct stls_script_out_ev *ev;
	/* what the request hook decided */
	enum stls_script_action action;
	unsigned code;
	char reason[STLS_SCRIPT_REASON_MAX + 1];
	bool has_reason;
	char hdrs[STLS_SCRIPT_HDRS_MAX];
	size_t hdrs_len;
	char remove_buf[STLS_SCRIPT_REMOVE_MAX][SCRIPT_NAME_MAX + 1];
	const char *remove[STLS_SCRIPT_REMOVE_MAX];
	size_t n_remove;
	char server_name[STLS_SCRIPT_XAVP_MAX + 1];
	char server_id[STLS_SCRIPT_XAVP_MAX + 1];
};

struct stls_script {
	struct stls_script_conf conf;  /* strings owned */
	pthread_mutex_t lock;          /* src, and one reload at a time */
	struct script_src *src;        /* published */
	atomic_uint_fast64_t gen;      /* src->gen, for the workers */
	unsigned n_workers;
	struct script_vm **vms;        /* per worker, owned by its thread */
	struct script_counters *cnt;   /* per worker */
	uint64_t *wgen;                /* per worker: generation last built
					* (or tried), on its thread */
	_Atomic(struct stls_daemon *) d; /* for nudges, or NULL */
	atomic_uint_fast64_t reloads, reload_failures;
};

/* The vm of a Lua state (its extra space holds the pointer). */
static inline struct script_vm *script_vm_of(lua_State *L)
{
	return *(struct script_vm **)lua_getextraspace(L);
}

/*
 * Raises the budget error, naming the script line of stack level
 * <level> (0 in the count hook: the running function; 1 in a C function:
 * its Lua caller). Does not return.
 */
static inline int script_budget_error(lua_State *L, int level)
{
	struct script_vm *vm = script_vm_of(L);
	lua_Debug ar;

	if (lua_getstack(L, level, &ar) && lua_getinfo(L, "Sl", &ar) &&
	    ar.currentline > 0)
		lua_pushfstring(L, "%s:%d: instruction budget exceeded (%I)",
				ar.short_src, ar.currentline,
				(lua_Integer)vm->limit);
	else
		lua_pushfstring(L, "instruction budget exceeded (%I)",
				(lua_Integer)vm->limit);
	return lua_error(L);
}

/*
 * Charges <n> units of work done in C on behalf of the script (pattern
 * steps, sort comparisons) to the call's instruction budget; raises the
 * budget error when it is spent. Only from a C function called by Lua.
 */
static inline void script_charge(lua_State *L, long n)
{
	struct script_vm *vm = script_vm_of(L);

	vm->used += n;
	if (vm->used > vm->limit) {
		vm->exhausted = true;
		script_budget_error(L, 1);
	}
}

static inline void script_count(struct script_counters *c,
				enum script_counter k, uint64_t n)
{
	if (c)
		atomic_fetch_add_explicit(&c->v[k], n, memory_order_relaxed);
}

/* script_vm.c */

/*
 * Builds a state for <conf> from <text> (chunk name "@<conf->path>"):
 * allocator capped at conf->memory, the sandbox, the KSR table, the
 * budget hook; runs the chunk (budget: SCRIPT_LOAD_FACTOR times the
 * per-call one) and takes references to the callbacks. Problems go to
 * <diag> ("FILE:LINE: message"; may be NULL: logged instead). Returns 0
 * with *out, -EINVAL or -ENOMEM.
 */
int stls__script_vm_new(const struct stls_script_conf *conf,
			const char *text, size_t len, uint64_t gen,
			struct stls_diag *diag,
			struct script_vm **out) STLS__SCRIPT_HIDDEN;

void stls__script_vm_free(struct script_vm *vm) STLS__SCRIPT_HIDDEN;

/*
 * Calls the function at registry <ref> with the string argument <arg>
 * (NULL: none) under a fresh budget. On failure the reason is logged
 * with the script line, prefixed by <what>. Returns SCRIPT_OK or why it
 * failed. Leaves the stack as it found it.
 */
enum script_fail stls__script_vm_call(struct script_vm *vm, int ref,
				      const char *arg,
				      const char *what) STLS__SCRIPT_HIDDEN;

/*
 * After a memory failure: collects, and returns true when the state
 * still holds more than three quarters of its cap (globals that grow:
 * the caller rebuilds it).
 */
bool stls__script_vm_bloated(struct script_vm *vm) STLS__SCRIPT_HIDDEN;

/* script_ksr.c: the error object of KSR.x.exit() (its address). */
extern const char stls__script_exit_marker STLS__SCRIPT_HIDDEN;

/*
 * script_ksr.c: appends <n> bytes of <s> to the string <out> (cap bytes
 * with its NUL), control bytes written as \xNN, so that a log line stays
 * one line whatever a script or a peer put in it; what does not fit is
 * cut.
 */
void stls__script_escape(char *out, size_t cap, const char *s,
			 size_t n) STLS__SCRIPT_HIDDEN;

/* script_ksr.c: sets the global KSR table. 0 or -ENOMEM. */
int stls__script_ksr_open(lua_State *L) STLS__SCRIPT_HIDDEN;

/* script_pv.c: KSR.pv.* into the table on top of the stack. */
void stls__script_pv_open(lua_State *L) STLS__SCRIPT_HIDDEN;

/* script_hdr.c: KSR.hdr.* into the table on top of the stack. */
void stls__script_hdr_open(lua_State *L) STLS__SCRIPT_HIDDEN;

/*
 * Checks one header line a script appends ("Name: value", a trailing
 * CRLF allowed) and writes it, normalised to "Name: value\r\n", at
 * out[*len..cap). Refused: a name that is not an RFC 3261 token or is
 * longer than SCRIPT_NAME_MAX, a header the relay owns (Via, From, To,
 * Call-ID, CSeq, Max-Forwards, Content-Length, Route, Record-Route,
 * Path, in any form), a value with CR, LF, NUL or another control byte
 * but TAB, or no room. Returns 0, -EINVAL (*why set) or -ENOBUFS.
 */
int stls__script_hdr_put(const char *p, size_t n, char *out, size_t *len,
			 size_t cap, const char **why) STLS__SCRIPT_HIDDEN;

/* True when <name> (n bytes) is a token header name the relay lets a
 * script remove (not one it owns). */
bool stls__script_hdr_removable(const char *name,
				size_t n) STLS__SCRIPT_HIDDEN;

/* True when a reply reason may be sent: 1..STLS_SCRIPT_REASON_MAX bytes
 * of UTF-8 without control bytes (TAB allowed). */
bool stls__script_reason_ok(const char *p, size_t n) STLS__SCRIPT_HIDDEN;

/* True for a server_name / server_id value: 1..STLS_SCRIPT_XAVP_MAX
 * bytes, visible ASCII. */
bool stls__script_xavp_ok(const char *p, size_t n) STLS__SCRIPT_HIDDEN;

/* script_pattern.c: replaces string.find, match, gmatch and gsub in the
 * table on top of the stack with budgeted ones. */
void stls__script_pattern_open(lua_State *L) STLS__SCRIPT_HIDDEN;

/* script.c: worker <widx>'s state, rebuilt first when a newer
 * generation was published. NULL when it has none. */
struct script_vm *stls__script_vm_of(struct stls_script *s,
				     unsigned widx) STLS__SCRIPT_HIDDEN;

/* script.c: replaces worker <widx>'s state with a fresh one of the
 * same generation (after a memory failure that left it bloated). */
void stls__script_vm_renew(struct stls_script *s,
			   unsigned widx) STLS__SCRIPT_HIDDEN;

#endif
