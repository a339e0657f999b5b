/*
 * Compares two completed profile lists field by field (not locations):
 * the proof that a database row gives exactly the profile the equivalent
 * tls.cfg section gives.
 */
#ifndef STLS_TEST_PROFILE_EQ_H
#define STLS_TEST_PROFILE_EQ_H

#include "stls/conf.h"
#include "test.h"

static inline bool peq_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Returns NULL when equal, else the name of the first differing field. */
static inline const char *profile_diff(const struct stls_profile_conf *a,
				       const struct stls_profile_conf *b)
{
#define PEQ_INT(f) if (a->f != b->f) return #f;
#define PEQ_STR(f) if (!peq_str(a->f, b->f)) return #f;
	PEQ_INT(role) PEQ_INT(kind) PEQ_INT(implicit) PEQ_INT(method)
	PEQ_INT(verify_certificate) PEQ_INT(require_certificate)
	PEQ_INT(verify_depth) PEQ_INT(verify_client)
	PEQ_INT(verify_server_name) PEQ_INT(verify_wildcard)
	PEQ_INT(server_name_mode) PEQ_INT(pem_inline)
	PEQ_STR(certificate) PEQ_STR(private_key)
	PEQ_STR(private_key_password) PEQ_STR(certificate2)
	PEQ_STR(private_key2) PEQ_STR(private_key_password2)
	PEQ_STR(ca_list) PEQ_STR(ca_path) PEQ_STR(crl) PEQ_STR(cipher_list)
	PEQ_STR(cipher_suites) PEQ_STR(server_name) PEQ_STR(server_id)
#undef PEQ_INT
#undef PEQ_STR
	if (a->kind == STLS_PROF_ADDR && !stls_addr_eq(&a->addr, &b->addr)) {
		return "addr";
	}
	return NULL;
}

#define CHECK_PROFILES_EQ(la, lb)                                          \
	do {                                                               \
		const struct stls_profile_conf *pa_ = (la), *pb_ = (lb);   \
		int i_ = 0;                                                \
		for (; pa_ && pb_; pa_ = pa_->next, pb_ = pb_->next, i_++) { \
			const char *d_ = profile_diff(pa_, pb_);           \
			if (d_)                                            \
				test_fail(__FILE__, __LINE__,              \
					  "profile %d differs in %s", i_, d_); \
		}                                                          \
		if (pa_ || pb_)                                            \
			test_fail(__FILE__, __LINE__,                      \
				  "lists differ in length at %d", i_);     \
	} while (0)

#endif
