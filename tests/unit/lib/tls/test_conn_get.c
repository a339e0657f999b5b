/*
 * Unit tests for lib/tls/conn_get.c: names, the transition table and the
 * getters of a connection before its handshake.
 */
#include "lib/tls/tls_pair.h"

TEST(state_tables)
{
	int i;

	for (i = 0; i < STLS_CONN__COUNT; i++) {
		CHECK_NOT_NULL(stls_conn_state_names[i]);
		CHECK(!stls_conn_state_allowed(STLS_CONN_CLOSED, i));
		CHECK(!stls_conn_state_allowed(STLS_CONN_FAILED, i));
	}
	for (i = 0; i < STLS_CLOSE__COUNT; i++) {
		CHECK_NOT_NULL(stls_close_reason_names[i]);
	}
	CHECK_STR_EQ(stls_conn_state_names[STLS_CONN_ACCEPTING], "accepting");
	CHECK(stls_conn_state_allowed(STLS_CONN_ACCEPTING,
				      STLS_CONN_ESTABLISHED));
	CHECK(!stls_conn_state_allowed(STLS_CONN_ESTABLISHED,
				       STLS_CONN_ACCEPTING));
	CHECK(!stls_conn_state_allowed(STLS_CONN__COUNT, STLS_CONN_NONE));
}

/* Before the handshake: no facts, no cipher, nothing queued. */
TEST(getters_before_handshake)
{
	struct pair p;
	int user = 5;
	struct stls_conn_opts o = { 0 };
	struct stls_conn *c = NULL;

	pair_init(&p, "server.pem", "server.key", TLS1_2_VERSION,
		  TLS1_3_VERSION);
	o.role = STLS_ROLE_CLIENT;
	o.ssl = SSL_new(p.cctx);
	o.sni = "sip.example.test";
	o.user = &user;
	CHECK_OK(stls_conn_new(&o, &c, NULL));
	CHECK_EQ(stls_conn_get_state(c), STLS_CONN_CONNECTING);
	CHECK_EQ(stls_conn_get_role(c), STLS_ROLE_CLIENT);
	CHECK(stls_conn_get_user(c) == &user);
	CHECK_STR_EQ(stls_conn_get_sni(c), "sip.example.test");
	CHECK_NULL(stls_conn_get_facts(c));
	CHECK_NULL(stls_conn_get_cipher(c));
	CHECK_NULL(stls_conn_get_version(c));
	CHECK(!stls_conn_is_peer_verified(c));
	CHECK_EQ(stls_conn_get_flags(c), 0);
	CHECK_EQ(stls_conn_get_reason(c), STLS_CLOSE_NONE);
	CHECK_STR_EQ(stls_conn_get_detail(c), "");
	CHECK_EQ(stls_conn_get_ct_wq(c), 0);
	CHECK_EQ(stls_conn_get_pending_in(c), 0);
	CHECK_EQ(stls_conn_get_pending_out(c), 0);
	CHECK_NOT_NULL(stls_conn_get0_ssl(c));
	CHECK_EQ(stls_conn_close(c), STLS_IO_DONE);
	CHECK_EQ(stls_conn_get_state(c), STLS_CONN_CLOSED);
	stls_conn_free(c);
	pair_fini(&p);
}
