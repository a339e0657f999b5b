/*
 * Tests for lib/tls/tkeys.c: session ticket key rings. Real in-memory
 * handshakes (TLS 1.3 and 1.2) between profile sets: a ticket survives a
 * rebuilt set, opens on another "edge" holding the same keys, is renewed
 * under the key after, and gives a full handshake (never an error) once
 * its key is gone. No ticket without an ENCRYPT key or with
 * session_tickets = 0; keys round-trip as hex; the ring outlives the sets
 * that use it and leaks nothing.
 */
#include <errno.h>
#include <string.h>

#include "lib/tls/profile_fixture.h"
#include "stls/tkeys.h"

/* A server default and a client default, with the ring <tk>. */
static void edge(struct fx *f, struct stls_tkeys *tk, int tickets)
{
	fx_init(f);
	f->s.session_tickets = tickets;
	fx_server(f, "default", 1, NULL);
	fx_add(f, STLS_ROLE_CLIENT, "default", 9);
	CHECK_OK(fx_build(f));
	if (tk) {
		CHECK_OK(stls_profile_set_use_tkeys(f->set, tk));
	}
}

/*
 * One connection from the client of <cf> to the server of <sf>, offering
 * <sess> (may be NULL), TLS 1.2 only when <tls12>. Returns the client's
 * session afterwards (a reference, may be NULL) and whether it resumed.
 */
static SSL_SESSION *connect_once(const struct fx *cf, const struct fx *sf,
				 SSL_SESSION *sess, bool tls12, bool *reused)
{
	SSL *srv, *cli;
	SSL_SESSION *got;
	char b;

	srv = stls_profile_ssl_new(
		stls_profile_set_default(sf->set, STLS_ROLE_SERVER), NULL);
	cli = stls_profile_ssl_new(
		stls_profile_set_default(cf->set, STLS_ROLE_CLIENT), NULL);
	CHECK(srv && cli);
	if (tls12) {
		CHECK(SSL_set_max_proto_version(cli, TLS1_2_VERSION));
	}
	if (sess) {
		CHECK(SSL_set_session(cli, sess));
	}
	CHECK_OK(fx_handshake(cli, srv));
	/* TLS 1.3 tickets arrive after the handshake: read them. */
	CHECK_EQ(SSL_read(cli, &b, 1), -1);
	ERR_clear_error();
	*reused = SSL_session_reused(cli);
	got = SSL_get1_session(cli);
	/* A clean close: OpenSSL marks the session of an SSL freed without
	 * one as not resumable. */
	SSL_set_shutdown(cli, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_set_shutdown(srv, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(cli);
	SSL_free(srv);
	return got;
}

/*
 * A copy of <s>, as a client that stores its ticket offers it again:
 * OpenSSL marks a TLS 1.3 session it resumed as used, so each offer gets
 * its own copy.
 */
struct saved {
	SSL_SESSION *s;
};

static void save(struct saved *sv, SSL_SESSION *s)
{
	sv->s = SSL_SESSION_dup(s);
	CHECK_NOT_NULL(sv->s);
}

static SSL_SESSION *restore(const struct saved *sv)
{
	SSL_SESSION *s = SSL_SESSION_dup(sv->s);

	CHECK_NOT_NULL(s);
	return s;
}

static void ring_with(struct stls_tkeys *tk, const struct stls_tkey *k,
		      const enum stls_tkey_use *use, size_t n)
{
	CHECK_OK(stls_tkeys_set(tk, k, use, n));
}

/* The ring holds <first> and <second> with uses use[0], use[1]. */
static void ring2(struct stls_tkeys *tk, const struct stls_tkey *first,
		  const struct stls_tkey *second,
		  const enum stls_tkey_use *use)
{
	struct stls_tkey two[2] = { *first, *second };

	ring_with(tk, two, use, 2);
	stls_tkey_wipe(&two[0]);
	stls_tkey_wipe(&two[1]);
}

TEST(keys_round_trip_as_hex_and_bad_hex_is_refused)
{
	struct stls_tkey k, back;
	char hex[STLS_TKEY_HEX_LEN + 1];

	CHECK_OK(stls_tkey_generate(&k));
	stls_tkey_to_hex(&k, hex);
	CHECK_EQ(strlen(hex), STLS_TKEY_HEX_LEN);
	CHECK_OK(stls_tkey_from_hex(hex, &back));
	CHECK(memcmp(&k, &back, sizeof(k)) == 0);
	hex[7] = 'x';
	CHECK_EQ(stls_tkey_from_hex(hex, &back), -EINVAL);
	CHECK_EQ(stls_tkey_from_hex("00", &back), -EINVAL);
	CHECK_EQ(stls_tkey_from_hex(NULL, &back), -EINVAL);
}

TEST(a_ring_takes_at_most_one_encrypt_key_and_four_keys)
{
	static const enum stls_tkey_use two_enc[] = { STLS_TKEY_ENCRYPT,
						      STLS_TKEY_ENCRYPT };
	static const enum stls_tkey_use five[] = {
		STLS_TKEY_ENCRYPT, STLS_TKEY_ACCEPT, STLS_TKEY_RENEW,
		STLS_TKEY_RENEW, STLS_TKEY_RENEW
	};
	struct stls_tkey k[5];
	struct stls_tkeys *tk;
	size_t i;

	for (i = 0; i < 5; i++) {
		CHECK_OK(stls_tkey_generate(&k[i]));
	}
	CHECK_OK(stls_tkeys_new(&tk));
	CHECK_EQ(stls_tkeys_set(tk, k, two_enc, 2), -EINVAL);
	CHECK_EQ(stls_tkeys_set(tk, k, five, 5), -EINVAL);
	CHECK_EQ(stls_tkeys_count(tk), 0);
	CHECK_OK(stls_tkeys_set(tk, k, five, 4));
	CHECK_EQ(stls_tkeys_count(tk), 4);
	CHECK_OK(stls_tkeys_set(tk, NULL, NULL, 0));
	CHECK_EQ(stls_tkeys_count(tk), 0);
	stls_tkeys_unref(tk);
}

/* A rebuilt set (a reload) with the same ring resumes TLS 1.3 and 1.2
 * sessions of the set before; the old set can go first. */
TEST(tickets_survive_a_rebuilt_set)
{
	static const enum stls_tkey_use enc[] = { STLS_TKEY_ENCRYPT };
	struct stls_tkeys_stats st;
	struct stls_tkeys *tk;
	SSL_SESSION *s13, *s12, *again;
	struct stls_tkey k;
	struct fx a, b;
	bool reused;

	CHECK_OK(stls_tkeys_new(&tk));
	CHECK_OK(stls_tkey_generate(&k));
	ring_with(tk, &k, enc, 1);
	edge(&a, tk, 1);
	s13 = connect_once(&a, &a, NULL, false, &reused);
	CHECK(!reused && s13 && SSL_SESSION_has_ticket(s13));
	s12 = connect_once(&a, &a, NULL, true, &reused);
	CHECK(!reused && s12 && SSL_SESSION_has_ticket(s12));
	edge(&b, tk, 1);
	fx_fini(&a);
	again = connect_once(&b, &b, s13, false, &reused);
	CHECK(reused);
	SSL_SESSION_free(again);
	again = connect_once(&b, &b, s12, true, &reused);
	CHECK(reused);
	SSL_SESSION_free(again);
	stls_tkeys_stats(tk, &st);
	CHECK(st.issued >= 2);
	CHECK_EQ(st.opened, 2);
	SSL_SESSION_free(s13);
	SSL_SESSION_free(s12);
	fx_fini(&b);
	stls_tkey_wipe(&k);
	stls_tkeys_unref(tk);
	FX_LEAK_CHECK();
}

/*
 * Two edges with rings holding the same keys: a ticket from edge A opens
 * on edge B. After one rotation on B (new ENCRYPT key, A's key RENEW) it
 * still resumes and is renewed; after two (A's key gone) it gives a full
 * handshake, not an error.
 */
TEST(ticket_from_one_edge_resumes_on_another_until_two_rotations)
{
	static const enum stls_tkey_use enc[] = { STLS_TKEY_ENCRYPT };
	static const enum stls_tkey_use rot[] = { STLS_TKEY_ENCRYPT,
						  STLS_TKEY_RENEW };
	struct stls_tkeys *ta, *tb;
	struct stls_tkeys_stats st;
	struct stls_tkey k[3];
	SSL_SESSION *sess, *s2;
	struct saved sv;
	struct fx a, b;
	bool reused;

	CHECK_OK(stls_tkeys_new(&ta));
	CHECK_OK(stls_tkeys_new(&tb));
	CHECK_OK(stls_tkey_generate(&k[0]));
	CHECK_OK(stls_tkey_generate(&k[1]));
	CHECK_OK(stls_tkey_generate(&k[2]));
	ring_with(ta, &k[0], enc, 1);
	ring_with(tb, &k[0], enc, 1);
	edge(&a, ta, 1);
	edge(&b, tb, 1);
	sess = connect_once(&a, &a, NULL, false, &reused);
	CHECK(sess && SSL_SESSION_has_ticket(sess));
	save(&sv, sess);
	SSL_SESSION_free(sess);
	sess = restore(&sv);
	s2 = connect_once(&a, &b, sess, false, &reused);
	CHECK(reused);
	SSL_SESSION_free(s2);
	SSL_SESSION_free(sess);
	/* First rotation: k1 encrypts, k0 is renewed. */
	ring2(tb, &k[1], &k[0], rot);
	sess = restore(&sv);
	s2 = connect_once(&a, &b, sess, false, &reused);
	CHECK(reused);
	SSL_SESSION_free(s2);
	SSL_SESSION_free(sess);
	stls_tkeys_stats(tb, &st);
	CHECK_EQ(st.renewed, 1);
	/* Second rotation: k2 encrypts, k1 is renewed, k0 is gone. */
	ring2(tb, &k[2], &k[1], rot);
	sess = restore(&sv);
	s2 = connect_once(&a, &b, sess, false, &reused);
	CHECK(!reused);
	CHECK(s2 && SSL_SESSION_has_ticket(s2));
	SSL_SESSION_free(s2);
	stls_tkeys_stats(tb, &st);
	CHECK_EQ(st.unknown, 1);
	SSL_SESSION_free(sess);
	SSL_SESSION_free(sv.s);
	fx_fini(&a);
	fx_fini(&b);
	stls_tkeys_unref(ta);
	stls_tkeys_unref(tb);
	FX_LEAK_CHECK();
}

/* Without an ENCRYPT key (only ACCEPT) no ticket is issued, but tickets
 * under the ACCEPT key still open. */
TEST(no_encrypt_key_no_ticket)
{
	static const enum stls_tkey_use enc[] = { STLS_TKEY_ENCRYPT };
	static const enum stls_tkey_use acc[] = { STLS_TKEY_ACCEPT };
	SSL_SESSION *sess, *s2;
	struct stls_tkeys *tk;
	struct stls_tkey k;
	struct fx a;
	bool reused;

	CHECK_OK(stls_tkeys_new(&tk));
	edge(&a, tk, 1);
	s2 = connect_once(&a, &a, NULL, false, &reused);
	CHECK(!s2 || !SSL_SESSION_has_ticket(s2));
	SSL_SESSION_free(s2);
	CHECK_OK(stls_tkey_generate(&k));
	ring_with(tk, &k, enc, 1);
	sess = connect_once(&a, &a, NULL, false, &reused);
	CHECK(sess && SSL_SESSION_has_ticket(sess));
	ring_with(tk, &k, acc, 1);
	s2 = connect_once(&a, &a, sess, false, &reused);
	CHECK(reused);
	SSL_SESSION_free(s2);
	SSL_SESSION_free(sess);
	fx_fini(&a);
	stls_tkeys_unref(tk);
}

/* session_tickets = 0: no ticket at all, TLS 1.3 or 1.2, ring or not. */
TEST(session_tickets_0_issues_none_with_a_ring)
{
	static const enum stls_tkey_use enc[] = { STLS_TKEY_ENCRYPT };
	struct stls_tkeys_stats st;
	struct stls_tkeys *tk;
	SSL_SESSION *s;
	struct stls_tkey k;
	struct fx a;
	bool reused;

	CHECK_OK(stls_tkeys_new(&tk));
	CHECK_OK(stls_tkey_generate(&k));
	ring_with(tk, &k, enc, 1);
	edge(&a, tk, 0);
	s = connect_once(&a, &a, NULL, false, &reused);
	CHECK(!s || !SSL_SESSION_has_ticket(s));
	SSL_SESSION_free(s);
	s = connect_once(&a, &a, NULL, true, &reused);
	CHECK(!s || !SSL_SESSION_has_ticket(s));
	SSL_SESSION_free(s);
	stls_tkeys_stats(tk, &st);
	CHECK_EQ(st.issued, 0);
	fx_fini(&a);
	stls_tkeys_unref(tk);
}

/* Profiles sharing one context take one reference; a second ring given
 * to the same set replaces the first. */
TEST(shared_contexts_and_a_replaced_ring)
{
	struct stls_tkeys *t1, *t2;
	struct stls_profile_conf *c;
	struct fx a;

	CHECK_OK(stls_tkeys_new(&t1));
	CHECK_OK(stls_tkeys_new(&t2));
	fx_init(&a);
	c = fx_server(&a, "any", 1, NULL);
	c->server_name = "one.test";
	c = fx_server(&a, "any", 2, "server2");
	c->server_name = "two.test";
	fx_server(&a, "default", 3, NULL);
	fx_add(&a, STLS_ROLE_CLIENT, "default", 9);
	CHECK_OK(fx_build(&a));
	CHECK_OK(stls_profile_set_use_tkeys(a.set, t1));
	CHECK_OK(stls_profile_set_use_tkeys(a.set, t1));
	CHECK_OK(stls_profile_set_use_tkeys(a.set, t2));
	fx_fini(&a);
	stls_tkeys_unref(t1);
	stls_tkeys_unref(t2);
	FX_LEAK_CHECK();
}
