/*
 * The spellings of the enumerated settings, shared by the settings table,
 * the profile keys and the enum parser (util.c). Data only: calls nothing.
 */
#include "stls/settings.h"

const char *const stls_method_names[STLS_METHOD__COUNT] = {
	[STLS_METHOD_SSLV2] = "SSLv2",
	[STLS_METHOD_SSLV3] = "SSLv3",
	[STLS_METHOD_SSLV23] = "SSLv23",
	[STLS_METHOD_TLSV1] = "TLSv1",
	[STLS_METHOD_TLSV1_PLUS] = "TLSv1+",
	[STLS_METHOD_TLSV1_1] = "TLSv1.1",
	[STLS_METHOD_TLSV1_1_PLUS] = "TLSv1.1+",
	[STLS_METHOD_TLSV1_2] = "TLSv1.2",
	[STLS_METHOD_TLSV1_2_PLUS] = "TLSv1.2+",
	[STLS_METHOD_TLSV1_3] = "TLSv1.3",
	[STLS_METHOD_TLSV1_3_PLUS] = "TLSv1.3+",
};

const char *const stls_verify_client_names[STLS_VC__COUNT] = {
	[STLS_VC_OFF] = "off",
	[STLS_VC_ON] = "on",
	[STLS_VC_OPTIONAL] = "optional",
	[STLS_VC_OPTIONAL_NO_CA] = "optional_no_ca",
};

const char *const stls_verify_ocsp_names[STLS_VOCSP__COUNT] = {
	[STLS_VOCSP_OFF] = "off",
	[STLS_VOCSP_SOFT] = "soft",
	[STLS_VOCSP_HARD] = "hard",
};
