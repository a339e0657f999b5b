/*
 * Tests of lib/conf/names.c: every enumerated value has its seed spelling,
 * and the enum parser (util.c) finds each, with the TLS 1.0 aliases.
 */
#include "test.h"
#include "conf/conf_int.h"

TEST(every_method_and_verify_client_value_is_spelled)
{
	int i;

	for (i = 0; i < STLS_METHOD__COUNT; i++) {
		CHECK(stls_method_names[i] != NULL);
		CHECK_EQ(stls__conf_enum_find(stls_method_names,
					      STLS_METHOD__COUNT,
					      stls_method_names[i]), i);
	}
	for (i = 0; i < STLS_VC__COUNT; i++) {
		CHECK(stls_verify_client_names[i] != NULL);
	}
	CHECK_STR_EQ(stls_method_names[STLS_METHOD_TLSV1_2_PLUS], "TLSv1.2+");
	CHECK_STR_EQ(stls_verify_client_names[STLS_VC_OPTIONAL_NO_CA],
		     "optional_no_ca");
}

TEST(tls10_aliases_only_for_methods)
{
	CHECK_EQ(stls__conf_enum_find(stls_method_names, STLS_METHOD__COUNT,
				      "tlsv1.0+"),
		 STLS_METHOD_TLSV1_PLUS);
	CHECK_EQ(stls__conf_enum_find(stls_verify_client_names,
				      STLS_VC__COUNT, "TLSv1.0"),
		 -1);
}
