/* SIP URIs, name-addr / addr-spec and generic parameters. */
#include <errno.h>
#include <stdio.h>

#include "stls/sip/uri.h"
#include "test.h"

static char *cstr(struct stls_slice s)
{
	static char buf[4][256];
	static int i;
	char *b = buf[i++ % 4];

	snprintf(b, 256, "%.*s", (int)s.len, s.p ? s.p : "");
	return b;
}

static int uri(const char *s, struct stls_sip_uri *u)
{
	return stls_sip_uri_parse(stls_slice_cstr(s), u);
}

TEST(uri_full_sip)
{
	struct stls_sip_uri u;
	struct stls_slice v;

	CHECK_OK(uri("sip:alice:secret@example.com:5070;transport=tcp;lr;"
		     "maddr=192.0.2.1?subject=hi&priority=urgent", &u));
	CHECK_EQ(u.kind, STLS_SIP_SCHEME_SIP);
	CHECK_STR_EQ(cstr(u.user), "alice");
	CHECK_STR_EQ(cstr(u.password), "secret");
	CHECK_STR_EQ(cstr(u.host), "example.com");
	CHECK_EQ(u.port, 5070);
	CHECK(!u.host_is_ip);
	CHECK(stls_sip_uri_param(&u, "transport", &v));
	CHECK_STR_EQ(cstr(v), "tcp");
	CHECK(stls_sip_uri_param(&u, "LR", &v));
	CHECK_EQ(v.len, 0);
	CHECK(stls_sip_uri_param(&u, "maddr", &v));
	CHECK_STR_EQ(cstr(v), "192.0.2.1");
	CHECK(!stls_sip_uri_param(&u, "ob", &v));
	CHECK(u.has_headers);
	CHECK_STR_EQ(cstr(u.headers), "subject=hi&priority=urgent");
}

TEST(uri_ipv6_and_sips)
{
	struct stls_sip_uri u;

	CHECK_OK(uri("sips:[2001:db8::10]:5061;ob", &u));
	CHECK_EQ(u.kind, STLS_SIP_SCHEME_SIPS);
	CHECK(!u.has_user);
	CHECK(u.host_ipv6);
	CHECK(u.host_is_ip);
	CHECK_STR_EQ(cstr(u.host), "2001:db8::10");
	CHECK_EQ(u.port, 5061);
	CHECK_OK(uri("SIP:192.0.2.4", &u));
	CHECK(u.host_is_ip);
	CHECK(!u.has_port);
}

TEST(uri_other_schemes)
{
	struct stls_sip_uri u;

	CHECK_OK(uri("tel:+1-201-555-0123", &u));
	CHECK_EQ(u.kind, STLS_SIP_SCHEME_OTHER);
	CHECK_STR_EQ(cstr(u.scheme), "tel");
	CHECK_OK(uri("soap.beep://192.0.2.103:3002", &u));
}

TEST(uri_refused)
{
	struct stls_sip_uri u;

	CHECK_EQ(uri("", &u), -EBADMSG);
	CHECK_EQ(uri("<sip:a@b>", &u), -EBADMSG);
	CHECK_EQ(uri("sip:a@b c", &u), -EBADMSG);
	CHECK_EQ(uri("sip:a@[2001:db8::1", &u), -EBADMSG);
	CHECK_EQ(uri("sip:a@[example.com]", &u), -EBADMSG);
	CHECK_EQ(uri("sip:a@b:99999", &u), -EBADMSG);
	CHECK_EQ(uri("sip:a@b:", &u), -EBADMSG);
	CHECK_EQ(uri("sip:a%2@b", &u), -EBADMSG);
	CHECK_EQ(uri("sip:a@b;;lr", &u), -EBADMSG);
	CHECK_EQ(uri("sip:@b", &u), -EBADMSG);
	CHECK_EQ(uri("sip:a@-b", &u), -EBADMSG);
	CHECK_EQ(uri("1sip:a@b", &u), -EBADMSG);
}

TEST(addr_forms)
{
	struct stls_sip_addr a;
	struct stls_slice v;

	CHECK_OK(stls_sip_addr_parse(stls_slice_cstr(
		"\"Bob \\\"B\\\"\" <sip:bob@example.com;lr> ;tag = x1; q=0.5"),
		false, &a));
	CHECK(a.angle);
	CHECK_STR_EQ(cstr(a.display), "\"Bob \\\"B\\\"\"");
	CHECK_STR_EQ(cstr(a.uri.host), "example.com");
	CHECK(stls_sip_param_find(a.params, "tag", &v));
	CHECK_STR_EQ(cstr(v), "x1");
	CHECK_OK(stls_sip_addr_parse(stls_slice_cstr(
		"sip:carol@example.org;tag=9"), false, &a));
	CHECK(!a.angle);
	CHECK_EQ(a.uri.params.len, 0);
	CHECK(stls_sip_param_find(a.params, "tag", &v));
	CHECK_OK(stls_sip_addr_parse(stls_slice_cstr("Two Tokens<sip:x@y>"),
				     false, &a));
	CHECK_STR_EQ(cstr(a.display), "Two Tokens");
	CHECK_OK(stls_sip_addr_parse(stls_slice_cstr("*"), true, &a));
	CHECK(a.star);
	CHECK_EQ(stls_sip_addr_parse(stls_slice_cstr("*"), false, &a),
		 -EBADMSG);
}

TEST(addr_refused)
{
	static const char *const bad[] = {
		"\"open <sip:a@b>", "< sip:a@b >", "Bell, A <sip:a@b>",
		"sip:a@b?x=y", "<sip:a@b>;;", "<sip:a@b>;tag=", "<sip:a@b",
		"", "<sip:a@b> junk",
	};
	struct stls_sip_addr a;
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(bad); i++) {
		if (stls_sip_addr_parse(stls_slice_cstr(bad[i]), false, &a) !=
		    -EBADMSG) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			CHECK(0);
		}
	}
}

TEST(params_iterator_spans)
{
	struct stls_slice rest = stls_slice_cstr(" ; a=1 ;b; c=\"x;y\"");
	struct stls_slice n, v, span;

	CHECK_EQ(stls_sip_param_next(&rest, &n, &v, &span), 1);
	CHECK_STR_EQ(cstr(n), "a");
	CHECK_STR_EQ(cstr(span), "; a=1");
	CHECK_EQ(stls_sip_param_next(&rest, &n, &v, &span), 1);
	CHECK_STR_EQ(cstr(n), "b");
	CHECK_EQ(v.len, 0);
	CHECK_EQ(stls_sip_param_next(&rest, &n, &v, &span), 1);
	CHECK_STR_EQ(cstr(v), "\"x;y\"");
	CHECK_EQ(stls_sip_param_next(&rest, &n, &v, &span), 0);
}

/* IPv4 literals are recognised by hand, as inet_pton() would. */
TEST(host_is_ip_like_inet_pton)
{
	static const char *const yes[] = {
		"192.0.2.1", "0.0.0.0", "255.255.255.255", "10.0.0.7",
		"2001:db8::1", "::1", "::ffff:1.2.3.4" };
	static const char *const no[] = {
		"", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.",
		"256.0.0.1", "01.2.3.4", "1.2.3.04", "1.2.3.4a",
		"1.2.3.1000", "example.com", "1.2.3.4:5", "2001:db8::g",
		"[::1]", "1.2.3.-4" };
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(yes); i++) {
		CHECK(stls_sip_host_is_ip(stls_slice_cstr(yes[i])));
	}
	for (i = 0; i < STLS_ARRAY_SIZE(no); i++) {
		CHECK(!stls_sip_host_is_ip(stls_slice_cstr(no[i])));
	}
	CHECK(stls_sip_host_is_ip(stls_slice_make("1.2.3.4x", 7)));
}

/* RFC 5118 4.10: ":::" right before an embedded IPv4 address (RFC 3261's
 * ABNF bug) is tolerated; nowhere else. */
TEST(host_ipv6_abnf_bug_tolerated)
{
	static const char *const yes[] = {
		"2001:db8:::192.0.2.1", "2001:db8::192.0.2.1", ":::192.0.2.1" };
	static const char *const no[] = {
		"2001:db8:::10", "2001:db8::::192.0.2.1", "1::2:::192.0.2.1",
		"2001:db8:::192.0.2", ":::1" };
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(yes); i++) {
		CHECK(stls_sip_host_is_ip(stls_slice_cstr(yes[i])));
	}
	for (i = 0; i < STLS_ARRAY_SIZE(no); i++) {
		CHECK(!stls_sip_host_is_ip(stls_slice_cstr(no[i])));
	}
}
