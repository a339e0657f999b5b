/*
 * lib/revoc/refresh.c (named test_revoc_refresh: a test binary is named
 * after its file, and daemon/tlsx/refresh.c has test_refresh): a refresh
 * round with nothing to refresh sleeps an hour, whatever the options (0
 * and negative mean the defaults); the state names cover every state;
 * the CRL list of an empty store is empty. Rounds with entries are in
 * test_staple.c, test_crl_slot.c and daemon/tlsx/test_refresh.c.
 */
#include <string.h>
#include <time.h>

#include "revoc/revoc.h"
#include "test.h"

static void never(const struct stls_crl_status *st, void *arg)
{
	(void)st;
	(*(int *)arg)++;
}

TEST(empty_round_sleeps_an_hour)
{
	struct stls_revoc_opts o;
	time_t now = time(NULL);
	int calls = 0;

	memset(&o, 0, sizeof(o));
	CHECK_EQ(stls_revoc_refresh(&o, now), now + 3600);
	o.timeout = -1;
	o.crl_interval = -5;
	CHECK_EQ(stls_revoc_refresh(&o, now), now + 3600);
	o.timeout = 1;
	o.crl_interval = 60;
	CHECK_EQ(stls_revoc_refresh(&o, now + 10), now + 10 + 3600);
	CHECK_EQ(stls_revoc_crl_list(never, &calls), 0);
	CHECK_EQ(calls, 0);
}

TEST(every_state_has_a_name)
{
	size_t i, j;

	for (i = 0; i < STLS_OCSP__COUNT; i++) {
		CHECK_NOT_NULL(stls_ocsp_state_names[i]);
		CHECK(stls_ocsp_state_names[i][0] != '\0');
		for (j = 0; j < i; j++) {
			CHECK(strcmp(stls_ocsp_state_names[i],
				     stls_ocsp_state_names[j]) != 0);
		}
	}
	CHECK_STR_EQ(stls_ocsp_state_names[STLS_OCSP_GOOD], "good");
	CHECK_STR_EQ(stls_ocsp_state_names[STLS_OCSP_REVOKED], "revoked");
}
