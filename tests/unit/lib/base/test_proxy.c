/*
 * lib/base/proxy.c: PROXY protocol v2 headers. Built headers read back
 * (IPv4, IPv6, with TLVs after the addresses, byte by byte); LOCAL;
 * refused: v1 text, a wrong signature, version or command, UNIX and UDP
 * families, a length too short for the family or beyond the limit.
 */
#include <errno.h>
#include <string.h>

#include "stls/proxy.h"
#include "test.h"

static struct stls_addr addr(const char *s)
{
	struct stls_addr a;

	CHECK_OK(stls_addr_parse(s, true, &a));
	return a;
}

TEST(ipv4_round_trip_and_partial_input)
{
	struct stls_addr src = addr("203.0.113.7:40001");
	struct stls_addr dst = addr("10.0.0.1:5061");
	struct stls_proxy_hdr h;
	uint8_t buf[64];
	size_t n = stls_proxy_v2_build(&src, &dst, buf), i;

	CHECK_EQ(n, 28);
	for (i = 0; i < n; i++) {
		CHECK_EQ(stls_proxy_v2_parse(buf, i, &h), 0);
	}
	CHECK_EQ(stls_proxy_v2_parse(buf, n, &h), 28);
	CHECK(!h.local);
	CHECK(stls_addr_eq(&h.src, &src));
	CHECK(stls_addr_eq(&h.dst, &dst));
}

TEST(ipv6_with_tlvs)
{
	struct stls_addr src = addr("[2001:db8::1]:5060");
	struct stls_addr dst = addr("[2001:db8::2]:5061");
	struct stls_proxy_hdr h;
	uint8_t buf[128];
	size_t n = stls_proxy_v2_build(&src, &dst, buf);

	CHECK_EQ(n, 52);
	/* A TLV (PP2_TYPE_UNIQUE_ID, 4 bytes) after the addresses. */
	memcpy(buf + n, "\x05\x00\x04" "abcd", 7);
	buf[15] = (uint8_t)(buf[15] + 7);
	CHECK_EQ(stls_proxy_v2_parse(buf, n + 6, &h), 0);
	CHECK_EQ(stls_proxy_v2_parse(buf, n + 7 + 3, &h), (int)n + 7);
	CHECK(stls_addr_eq(&h.src, &src));
	CHECK(stls_addr_eq(&h.dst, &dst));
}

TEST(local_command)
{
	uint8_t buf[16] = "\r\n\r\n\0\r\nQUIT\n";
	struct stls_proxy_hdr h;

	buf[12] = 0x20;
	buf[13] = 0x00;
	buf[14] = buf[15] = 0;

	CHECK_EQ(stls_proxy_v2_parse(buf, 16, &h), 16);
	CHECK(h.local);
}

TEST(refused)
{
	struct stls_addr src = addr("192.0.2.1:1"), dst = addr("192.0.2.2:2");
	struct stls_proxy_hdr h;
	uint8_t buf[64], bad[64];
	size_t n = stls_proxy_v2_build(&src, &dst, buf);
	static const char v1[] = "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n";

	CHECK_EQ(stls_proxy_v2_parse((const uint8_t *)v1, sizeof(v1) - 1, &h),
		 -EPROTO);
	/* A TLS ClientHello where a header should be. */
	CHECK_EQ(stls_proxy_v2_parse((const uint8_t *)"\x16\x03\x01", 3, &h),
		 -EPROTO);
	memcpy(bad, buf, n);
	bad[12] = 0x11; /* version 1 */
	CHECK_EQ(stls_proxy_v2_parse(bad, 13, &h), -EPROTO);
	CHECK_EQ(stls_proxy_v2_parse(bad, n, &h), -EPROTO);
	bad[12] = 0x22; /* command 2 */
	CHECK_EQ(stls_proxy_v2_parse(bad, n, &h), -EPROTO);
	memcpy(bad, buf, n);
	bad[13] = 0x31; /* UNIX stream */
	CHECK_EQ(stls_proxy_v2_parse(bad, n, &h), -EAFNOSUPPORT);
	bad[13] = 0x12; /* UDP over IPv4 */
	CHECK_EQ(stls_proxy_v2_parse(bad, n, &h), -EAFNOSUPPORT);
	memcpy(bad, buf, n);
	bad[15] = 11; /* too short for IPv4 */
	CHECK_EQ(stls_proxy_v2_parse(bad, n, &h), -EBADMSG);
	bad[14] = 0x04; /* 1036 bytes */
	bad[15] = 0x00;
	CHECK_EQ(stls_proxy_v2_parse(bad, 16, &h), -E2BIG);
}
