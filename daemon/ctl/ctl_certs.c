/*
 * tls.info's certificates (ctl_int.h): what operators watch to know that
 * renewed certificates went into service and that revocation data is
 * fresh: each profile's certificates with their expiry and OCSP stapling
 * state, the time of the last good reload, and the refreshed CRLs.
 * Times are UTC, "2026-12-06T18:00:00Z" ("" for none).
 */
#include "ctl/ctl_int.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "stls/profile.h"
#include "stls/revoc.h"
#include "tlsx/pstore.h"

static json_t *time_json(time_t t)
{
	struct tm tm;
	char buf[32];

	if (!t || !gmtime_r(&t, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		buf[0] = '\0';
	return stls_rpc_str(buf);
}

static json_t *cert_json(const char *profile,
			 const struct stls_cert_status *c, time_t now)
{
	json_t *o = json_object(), *ocsp = json_object();
	int err = !o || !ocsp ? -ENOMEM : 0;

	if (!err)
		err = stls_rpc_obj_set_str(o, "profile", profile);
	if (!err)
		err = stls_rpc_obj_set_str(o, "subject", c->subject);
	if (!err)
		err = stls_rpc_obj_set(o, "not_after", time_json(c->not_after));
	if (!err)
		err = stls_rpc_obj_set_int(o, "expires_in",
					   (int64_t)(c->not_after - now));
	if (!err)
		err = stls_rpc_obj_set(o, "must_staple",
				       json_boolean(c->must_staple));
	if (!err)
		err = stls_rpc_obj_set_str(ocsp, "state",
					   stls_ocsp_state_names[c->ocsp]);
	if (!err && c->ocsp != STLS_OCSP_OFF) {
		err = stls_rpc_obj_set_str(ocsp, "source", c->ocsp_source);
		if (!err)
			err = stls_rpc_obj_set(ocsp, "this_update",
					       time_json(c->ocsp_this_update));
		if (!err)
			err = stls_rpc_obj_set(ocsp, "next_update",
					       time_json(c->ocsp_next_update));
		if (!err)
			err = stls_rpc_obj_set(ocsp, "last_fetch",
					       time_json(c->ocsp_last_fetch));
		if (!err)
			err = stls_rpc_obj_set(ocsp, "next_fetch",
					       time_json(c->ocsp_next_fetch));
		if (!err)
			err = stls_rpc_obj_set_str(ocsp, "error",
						   c->ocsp_error);
	}
	if (!err) {
		err = stls_rpc_obj_set(o, "ocsp", ocsp);
		ocsp = NULL;
	}
	json_decref(ocsp);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

struct crl_acc {
	json_t *arr;
	int err;
};

static void crl_one(const struct stls_crl_status *st, void *arg)
{
	struct crl_acc *a = arg;
	json_t *o = json_object();

	if (a->err || !o) {
		json_decref(o);
		a->err = -ENOMEM;
		return;
	}
	a->err = stls_rpc_obj_set_str(o, "issuer", st->issuer);
	if (!a->err)
		a->err = stls_rpc_obj_set_str(o, "url", st->url);
	if (!a->err)
		a->err = stls_rpc_obj_set(o, "last_update",
					  time_json(st->last_update));
	if (!a->err)
		a->err = stls_rpc_obj_set(o, "next_update",
					  time_json(st->next_update));
	if (!a->err)
		a->err = stls_rpc_obj_set(o, "last_fetch",
					  time_json(st->last_fetch));
	if (!a->err)
		a->err = stls_rpc_obj_set(o, "next_fetch",
					  time_json(st->next_fetch));
	if (!a->err)
		a->err = stls_rpc_obj_set_str(o, "error", st->error);
	if (!a->err)
		a->err = stls_rpc_arr_push(a->arr, o);
	else
		json_decref(o);
}

int stls__ctl_info_certs(struct stls_ctl *ctl, json_t *o)
{
	struct stls_profile_set *set = stls_pstore_get(ctl->c.ps);
	struct stls_cert_status st[2];
	struct crl_acc acc = { json_array(), 0 };
	json_t *certs = json_array();
	time_t now = time(NULL);
	size_t i, j, n;
	int err = !certs || !acc.arr ? -ENOMEM : 0;

	for (i = 0; i < stls_profile_set_count(set) && !err; i++) {
		const struct stls_profile *p = stls_profile_set_get0(set, i);

		n = stls_profile_cert_status(p, now, st, 2);
		for (j = 0; j < n && !err; j++) {
			json_t *c = cert_json(stls_profile_name(p), &st[j],
					      now);

			err = c ? stls_rpc_arr_push(certs, c) : -ENOMEM;
		}
	}
	stls_profile_set_unref(set);
	if (!err) {
		err = stls_rpc_obj_set(o, "certificates", certs);
		certs = NULL;
	}
	if (!err)
		(void)stls_revoc_crl_list(crl_one, &acc);
	if (!err && !(err = acc.err)) {
		err = stls_rpc_obj_set(o, "crls", acc.arr);
		acc.arr = NULL;
	}
	if (!err)
		err = stls_rpc_obj_set(o, "last_good_reload",
				       time_json(stls_pstore_last_good(
					       ctl->c.ps)));
	json_decref(certs);
	json_decref(acc.arr);
	return err;
}
