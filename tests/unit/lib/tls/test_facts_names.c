/*
 * Unit tests for lib/tls/facts_names.c: every select alias of the seed
 * (behaviour study 7.3) resolves, malformed names are refused.
 */
#include "test.h"

#include <errno.h>

#include "tls/tls_int.h"

static const char *const whos[] = { "peer", "my", "me", "myself" };
static const char *const dns[] = { "subject", "subj", "issuer" };
static const char *const comps[] = {
	"cn", "commonName", "common_name", "name", "l", "localityName",
	"locality_name", "locality", "c", "countryName", "country_name",
	"country", "st", "stateOrProvinceName", "state_or_province_name",
	"state", "o", "organizationName", "organization_name",
	"organization", "ou", "organizationalUnitName",
	"organizational_unit_name", "unit", "uid", "uniqueIdentifier",
	"unique_identifier",
};
static const char *const certs[] = {
	"verified", "revoked", "expired", "self_signed", "version", "rawCert",
	"raw_cert", "URLEncodedCert", "urlencoded_cert",
	"verified_cert_chain", "sn", "serialNumber", "serial_number",
	"notBefore", "not_before", "notAfter", "not_after", "email",
	"emailAddress", "email_address", "host", "hostname", "dns", "uri",
	"url", "urn", "ip", "IPAddress", "ip_address", "count.DNS",
	"count.URI", "count.EMAIL", "count.IP",
};
static const char *const conns[] = {
	"@tls", "@tls.version", "@tls.desc", "@tls.description", "@tls.cipher",
	"@tls.cipher.bits", "@tls.serverName", "@tls.server_name",
};

static void ok(const char *name)
{
	struct stls_fq q;

	if (stls__facts_resolve(name, 0, &q) != 0) {
		test_fail(__FILE__, __LINE__, "not resolved: %s", name);
	}
}

TEST(every_select_alias_resolves)
{
	char n[128];
	size_t w, i, j;

	for (i = 0; i < STLS_ARRAY_SIZE(conns); i++) {
		ok(conns[i]);
	}
	for (w = 0; w < STLS_ARRAY_SIZE(whos); w++) {
		snprintf(n, sizeof(n), "@tls.%s", whos[w]);
		ok(n);
		for (i = 0; i < STLS_ARRAY_SIZE(certs); i++) {
			snprintf(n, sizeof(n), "@tls.%s.%s", whos[w], certs[i]);
			ok(n);
		}
		for (i = 0; i < STLS_ARRAY_SIZE(dns); i++) {
			snprintf(n, sizeof(n), "@tls.%s.%s", whos[w], dns[i]);
			ok(n);
			for (j = 0; j < STLS_ARRAY_SIZE(comps); j++) {
				snprintf(n, sizeof(n), "@tls.%s.%s.%s", whos[w],
					 dns[i], comps[j]);
				ok(n);
			}
		}
	}
}

TEST(index_suffix_and_defaults)
{
	struct stls_fq q;

	CHECK_OK(stls__facts_resolve("@tls.peer.dns[3]", 1, &q));
	CHECK_EQ(q.index, 3);
	CHECK_EQ(q.kind, F_SAN);
	CHECK_OK(stls__facts_resolve("tls_peer_san_uri", 2, &q));
	CHECK_EQ(q.index, 2);
	CHECK_OK(stls__facts_resolve("@tls.peer", 0, &q));
	CHECK_EQ(q.kind, F_COMP);
	CHECK_OK(stls__facts_resolve("@tls", 0, &q));
	CHECK_EQ(q.kind, F_DESC);
}

TEST(malformed_names_refused)
{
	static const char *const bad[] = {
		"", "tls", "@tls.", "@tls.peer.subject.cn.extra", "@tls.x",
		"@tls.peer.count", "@tls.peer.count.dns", "tls_peer_", "tls_my",
		"tls_peer_san_count(dns)", "@tls.peer.dns[", "@tls.peer.dns[]",
		"@tls.peer.dns[-1]", "@tls.peer.dns[1x]", "@tlsx",
		"@tls.cipher.bits.more", "@tls.a.b.c.d.e.f.g.h.i",
	};
	struct stls_fq q;
	size_t i;

	for (i = 0; i < STLS_ARRAY_SIZE(bad); i++) {
		if (stls__facts_resolve(bad[i], 0, &q) != -EINVAL) {
			test_fail(__FILE__, __LINE__, "accepted: '%s'", bad[i]);
		}
	}
}
