/*
 * Unit tests for lib/hsm/p11probe.c: the PKCS#11 module itself says
 * whether a token matching a URI is present (real SoftHSM2 module, no
 * login).
 */
#include <errno.h>

#include "hsm/hsm_int.h"
#include "lib/hsm/softhsm_fixture.h"

TEST(a_token_is_found_by_label_serial_and_slot_attributes)
{
	struct token_fx fx;

	token_make(&fx, false);
	CHECK_EQ(stls__p11_token_present(fx.module,
					 "pkcs11:token=siptls-test;object=x"),
		 1);
	CHECK_EQ(stls__p11_token_present(fx.module,
					 "pkcs11:token=siptls%2Dtest"), 1);
	CHECK_EQ(stls__p11_token_present(fx.module,
					 "pkcs11:manufacturer=SoftHSM%20project"
					 ";token=siptls-test"), 1);
	/* No token attribute: any present token matches. */
	CHECK_EQ(stls__p11_token_present(fx.module, "pkcs11:object=x"), 1);
}

TEST(an_absent_token_is_told)
{
	struct token_fx fx;

	token_make(&fx, false);
	CHECK_EQ(stls__p11_token_present(fx.module, "pkcs11:token=nosuch"),
		 0);
	CHECK_EQ(stls__p11_token_present(fx.module,
					 "pkcs11:token=siptls-test;"
					 "model=nosuchmodel"), 0);
	CHECK_EQ(stls__p11_token_present(fx.module,
					 "pkcs11:token=siptls-tes"), 0);
	/* A label longer than the field cannot match any token. */
	CHECK_EQ(stls__p11_token_present(fx.module,
					 "pkcs11:token=0123456789012345678901"
					 "23456789012345"), 0);
}

TEST(a_module_that_cannot_load_cannot_tell)
{
	CHECK_EQ(stls__p11_token_present("/nonexistent/module.so",
					 "pkcs11:token=x"),
		 -ENOENT);
	CHECK(stls__p11_token_present("libc.so.6", "pkcs11:token=x") < 0);
}
