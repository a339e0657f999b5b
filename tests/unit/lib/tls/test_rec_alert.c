/*
 * Unit tests for lib/tls/rec_alert.c: the action for every alert record
 * the hand-off can receive, TLS 1.3 and TLS 1.2, every level and the
 * malformed lengths. test_rec_negative.c checks the same rules on the
 * wire against both record layers.
 */
#include <string.h>

#include "test.h"
#include "tls/tls_int.h"

static enum stls_alert_act act(bool v12, unsigned level, unsigned desc,
			       struct stls_alert_verdict *v)
{
	unsigned char a[2] = { (unsigned char)level, (unsigned char)desc };

	return stls__rec_alert(v12, a, 2, v);
}

TEST(tls13_level_ignored)
{
	struct stls_alert_verdict v;
	unsigned level, d;

	for (level = 0; level < 256; level += 1 + (level > 3) * 50) {
		CHECK_EQ(act(false, level, 0, &v), STLS_ALERT_CLOSE);
		CHECK_EQ(act(false, level, 90, &v), STLS_ALERT_IGNORE);
		for (d = 1; d < 256; d++) {
			if (d != 90) {
				CHECK_EQ(act(false, level, d, &v),
					 STLS_ALERT_FAIL);
			}
		}
	}
}

TEST(tls12_levels)
{
	struct stls_alert_verdict v;
	unsigned d;

	for (d = 0; d < 256; d++) {
		CHECK_EQ(act(true, 2, d, &v), STLS_ALERT_FAIL);
		CHECK_EQ(act(true, 0, d, &v), STLS_ALERT_REFUSE);
		CHECK_EQ(v.alert, 47);
		CHECK_EQ(act(true, 3, d, &v), STLS_ALERT_REFUSE);
		if (d == 0) {
			CHECK_EQ(act(true, 1, d, &v), STLS_ALERT_CLOSE);
		} else if (d == 100) {
			CHECK_EQ(act(true, 1, d, &v), STLS_ALERT_REFUSE);
			CHECK_EQ(v.alert, 40);
		} else {
			CHECK_EQ(act(true, 1, d, &v), STLS_ALERT_IGNORE);
		}
	}
}

TEST(one_alert_per_record)
{
	static const unsigned char three[3] = { 1, 0, 0 };
	struct stls_alert_verdict v;

	CHECK_EQ(stls__rec_alert(false, three, 0, &v), STLS_ALERT_REFUSE);
	CHECK_EQ(v.alert, 10);
	CHECK_EQ(stls__rec_alert(true, three, 0, &v), STLS_ALERT_REFUSE);
	CHECK_EQ(v.alert, 10);
	CHECK_EQ(stls__rec_alert(false, three, 1, &v), STLS_ALERT_REFUSE);
	CHECK_EQ(v.alert, 50);
	CHECK_EQ(stls__rec_alert(false, three, 3, &v), STLS_ALERT_REFUSE);
	CHECK_EQ(v.alert, 50);
	CHECK_EQ(stls__rec_alert(true, three, 3, &v), STLS_ALERT_REFUSE);
	CHECK_EQ(v.alert, 10);
	CHECK(strlen(v.what) > 0);
}
