/*
 * Is the token there? (see hsm_int.h)
 *
 * When the pkcs11 engine cannot load a key it says "object not found"
 * whether the token or only the key is missing. To name the cause, this
 * asks the PKCS#11 module itself for the tokens present
 * (C_GetSlotList with tokenPresent, C_GetTokenInfo) and compares them with
 * the token attributes of the key's URI (RFC 7512 section 2.3: token,
 * manufacturer, model, serial, slot-id). It never logs in and opens no
 * session, so it cannot count against a PIN retry limit.
 *
 * The module is shared with the engine: if the engine already initialised
 * it, C_Initialize says so and this leaves it initialised; otherwise it
 * initialises and finalises it around the question.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "hsm/hsm_int.h"
#include "stls/p11uri.h"

/* libp11's default module when the engine config names none. */
#define DEFAULT_MODULE "p11-kit-proxy.so"

/* Token attributes of the URI; "" = not given (matches any). */
struct want {
	char label[33], manufacturer[33], model[17], serial[17];
	char slot[24];
};

static int want_get(const char *uri, const char *name, char *out,
		    size_t len)
{
	int rc = stls_p11uri_get(uri, name, out, len);

	if (rc == -ENOENT) {
		out[0] = '\0';
		return 0;
	}
	return rc < 0 ? rc : 0;
}

static int want_parse(const char *uri, struct want *w)
{
	if (want_get(uri, "token", w->label, sizeof(w->label)) ||
	    want_get(uri, "manufacturer", w->manufacturer,
		     sizeof(w->manufacturer)) ||
	    want_get(uri, "model", w->model, sizeof(w->model)) ||
	    want_get(uri, "serial", w->serial, sizeof(w->serial)) ||
	    want_get(uri, "slot-id", w->slot, sizeof(w->slot))) {
		/* A value too long for its field matches no token. */
		return -EINVAL;
	}
	return 0;
}

/* Compares a blank-padded PKCS#11 field with a wanted value. */
static bool field_is(const unsigned char *f, size_t n, const char *want)
{
	size_t wl = strlen(want), i;

	if (!*want) {
		return true;
	}
	if (wl > n || memcmp(f, want, wl) != 0) {
		return false;
	}
	for (i = wl; i < n; i++) {
		if (f[i] != ' ') {
			return false;
		}
	}
	return true;
}

static bool token_matches(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot,
			  const struct want *w)
{
	CK_TOKEN_INFO ti;

	if (*w->slot && strtoul(w->slot, NULL, 10) != slot) {
		return false;
	}
	if (f->C_GetTokenInfo(slot, &ti) != CKR_OK) {
		return false;
	}
	return field_is(ti.label, sizeof(ti.label), w->label) &&
	       field_is(ti.manufacturerID, sizeof(ti.manufacturerID),
			w->manufacturer) &&
	       field_is(ti.model, sizeof(ti.model), w->model) &&
	       field_is(ti.serialNumber, sizeof(ti.serialNumber), w->serial);
}

static int ask_module(CK_FUNCTION_LIST_PTR f, const struct want *w)
{
	CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i;
	bool mine;
	int rc = -EIO;
	CK_RV rv;

	rv = f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		return -EIO;
	}
	mine = rv == CKR_OK;
	if (f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK) {
		goto out;
	}
	slots = calloc(n ? n : 1, sizeof(*slots));
	if (!slots) {
		rc = -ENOMEM;
		goto out;
	}
	if (f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK) {
		goto out;
	}
	rc = 0;
	for (i = 0; i < n && rc == 0; i++) {
		rc = token_matches(f, slots[i], w) ? 1 : 0;
	}
out:
	free(slots);
	if (mine) {
		(void)f->C_Finalize(NULL);
	}
	return rc;
}

int stls__p11_token_present(const char *module, const char *uri)
{
	CK_C_GetFunctionList get_list;
	CK_FUNCTION_LIST_PTR f = NULL;
	struct want w;
	void *h;
	int rc;

	if (want_parse(uri, &w)) {
		return 0;
	}
	h = dlopen(module && *module ? module : DEFAULT_MODULE,
		   RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		return -ENOENT;
	}
	*(void **)&get_list = dlsym(h, "C_GetFunctionList");
	if (!get_list || get_list(&f) != CKR_OK || !f) {
		dlclose(h);
		return -EIO;
	}
	rc = ask_module(f, &w);
	dlclose(h);
	return rc;
}
