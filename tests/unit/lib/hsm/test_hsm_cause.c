/*
 * Unit tests for lib/hsm/hsm_cause.c: the cause of a failed key operation
 * read from the OpenSSL error queue. libp11's "PKCS#11 module" library is
 * registered here the way libp11 registers it (a library number given out
 * at run time, reason = the PKCS#11 return value), so the classification
 * is tested without a token; test_hsm_engine.c sees the real thing.
 */
#include <openssl/err.h>
#include <openssl/store.h>
#include <openssl/ui.h>

#include "hsm/hsm_int.h"
#include "test.h"

static int p11_lib(void)
{
	static ERR_STRING_DATA names[] = { { 0, "PKCS#11 module" },
					   { 0, NULL } };
	static int lib;

	if (!lib) {
		lib = ERR_get_next_error_library();
		names[0].error = ERR_PACK(lib, 0, 0);
		ERR_load_strings(lib, names);
	}
	return lib;
}

static enum stls_hsm_cause ckr(unsigned long rv)
{
	char why[128];

	ERR_raise(p11_lib(), (int)rv);
	return stls__hsm_cause_drain(STLS_HSM_OTHER, why, sizeof(why));
}

TEST(pkcs11_return_values_name_the_cause)
{
	CHECK_EQ(ckr(0xA0), STLS_HSM_PIN_REFUSED);  /* PIN_INCORRECT */
	CHECK_EQ(ckr(0xA4), STLS_HSM_PIN_REFUSED);  /* PIN_LOCKED */
	CHECK_EQ(ckr(0x101), STLS_HSM_PIN_MISSING); /* USER_NOT_LOGGED_IN */
	CHECK_EQ(ckr(0xE0), STLS_HSM_TOKEN_ABSENT); /* TOKEN_NOT_PRESENT */
	CHECK_EQ(ckr(0x32), STLS_HSM_TOKEN_ABSENT); /* DEVICE_REMOVED */
	CHECK_EQ(ckr(0x82), STLS_HSM_KEY_NOT_FOUND);
	CHECK_EQ(ckr(0x68), STLS_HSM_KEY_CANNOT_SIGN);
	CHECK_EQ(ckr(0x70), STLS_HSM_KEY_CANNOT_SIGN);
	CHECK_EQ(ckr(0x05), STLS_HSM_OTHER); /* GENERAL_ERROR: fallback */
	CHECK_EQ(ERR_peek_error(), 0);
}

TEST(openssl_libraries_name_the_cause)
{
	char why[128];

	ERR_raise(ERR_LIB_UI, UI_R_PROCESSING_ERROR);
	CHECK_EQ(stls__hsm_cause_drain(STLS_HSM_OTHER, why, sizeof(why)),
		 STLS_HSM_PIN_MISSING);
	ERR_raise(ERR_LIB_OSSL_STORE, OSSL_STORE_R_UNREGISTERED_SCHEME);
	CHECK_EQ(stls__hsm_cause_drain(STLS_HSM_OTHER, why, sizeof(why)),
		 STLS_HSM_NO_LOADER);
	CHECK_STR_HAS(why, "unregistered scheme");
}

TEST(the_innermost_cause_wins_and_the_text_keeps_specific_reasons)
{
	char why[256];

	ERR_raise(p11_lib(), 0xE0);
	ERR_raise(ERR_LIB_UI, UI_R_PROCESSING_ERROR);
	ERR_raise(ERR_LIB_EVP, ERR_R_EVP_LIB); /* generic: left out */
	CHECK_EQ(stls__hsm_cause_drain(STLS_HSM_OTHER, why, sizeof(why)),
		 STLS_HSM_TOKEN_ABSENT);
	CHECK_STR_HAS(why, "processing error");
	CHECK(!strstr(why, "EVP lib"));
}

TEST(an_empty_queue_gives_the_fallback)
{
	char why[64];

	CHECK_EQ(stls__hsm_cause_drain(STLS_HSM_KEY_CANNOT_SIGN, why,
				       sizeof(why)),
		 STLS_HSM_KEY_CANNOT_SIGN);
	CHECK_STR_EQ(why, "no detail from OpenSSL");
}

TEST(every_cause_has_a_name_and_errors_format)
{
	struct stls_hsm_err e;
	int i;

	for (i = 0; i < STLS_HSM__COUNT; i++) {
		CHECK_NOT_NULL(stls_hsm_cause_names[i]);
	}
	stls__hsm_err_set(&e, STLS_HSM_TOKEN_ABSENT, "%s: slot %d",
			  stls_hsm_cause_names[STLS_HSM_TOKEN_ABSENT], 3);
	CHECK_EQ(e.cause, STLS_HSM_TOKEN_ABSENT);
	CHECK_STR_EQ(e.msg, "token absent: slot 3");
}
