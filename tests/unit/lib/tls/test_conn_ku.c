/*
 * Unit tests for lib/tls/conn_ku.c: a KeyUpdate the server asks for, on
 * both layers, against a plain OpenSSL client: with and without
 * update_requested, repeated, data both ways after each (the client reads
 * under our new key; with update_requested it answers with its own
 * KeyUpdate and we read under its new key); the refusals (not yet
 * established, TLS 1.2).
 */
#include "lib/tls/oc_pair.h"

static void oc_init(struct oc *o, const char *cipher)
{
	int v = cipher ? TLS1_2_VERSION : TLS1_3_VERSION;

	memset(o, 0, sizeof(*o));
	settings_default(&o->set);
	o->seed = 1;
	o->cap = sizeof(o->rx);
	o->sctx = ctx_new(STLS_ROLE_SERVER, "server.pem", "server.key", v, v);
	o->cctx = ctx_new(STLS_ROLE_CLIENT, NULL, NULL, v, v);
	if (cipher) {
		CHECK(SSL_CTX_set_cipher_list(o->cctx, cipher));
	}
}

TEST(server_key_updates_both_layers)
{
	int keep, i;

	for (keep = 0; keep < 2; keep++) {
		unsigned char wr[48], rd[48];
		struct oc o;
		char tag[16];

		oc_init(&o, NULL);
		oc_start(&o, keep);
		CHECK_EQ(stls_conn_key_update(o.s, false), -ENOTCONN);
		oc_established(&o, !keep);
		both_ways(&o, "before");
		for (i = 0; i < 6; i++) {
			bool req = i & 1;

			if (!keep) {
				memcpy(wr, o.s->rec->wr.secret, sizeof(wr));
				memcpy(rd, o.s->rec->rd.secret, sizeof(rd));
			}
			CHECK_OK(stls_conn_key_update(o.s, req));
			CHECK(stls_conn_get_pending_out(o.s) > 0);
			snprintf(tag, sizeof(tag), "ku%d", i);
			/* Our data under the new key, the client's after its
			 * answer (update_requested) under its new one. */
			srv_send(&o, tag, strlen(tag));
			cl_send(&o, tag, strlen(tag));
			both_ways(&o, tag);
			if (!keep) {
				CHECK(memcmp(wr, o.s->rec->wr.secret,
					     sizeof(wr)) != 0);
				CHECK_EQ(memcmp(rd, o.s->rec->rd.secret,
						sizeof(rd)) != 0,
					 req);
			}
		}
		CHECK_EQ(stls_conn_get_state(o.s), STLS_CONN_ESTABLISHED);
		oc_fini(&o);
	}
}

TEST(tls12_has_no_key_update)
{
	int keep;

	for (keep = 0; keep < 2; keep++) {
		struct oc o;

		oc_init(&o, "ECDHE-ECDSA-AES128-GCM-SHA256");
		oc_start(&o, keep);
		oc_established(&o, !keep);
		CHECK_EQ(stls_conn_key_update(o.s, true), -EOPNOTSUPP);
		both_ways(&o, "still");
		oc_fini(&o);
	}
}
