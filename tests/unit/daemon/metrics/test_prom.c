/*
 * Tests for daemon/metrics/prom.c: the text exposition format, exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "metrics/prom.h"
#include "test.h"

static char *text(struct stls_prom *p)
{
	size_t len;
	char *s = stls_prom_take(p, &len);

	CHECK_NOT_NULL(s);
	CHECK_EQ(strlen(s), len);
	return s;
}

TEST(family_and_samples)
{
	const char *lab[] = { "reason", "idle-timeout", "dir", "in", NULL };
	struct stls_prom p;
	char *s;

	stls_prom_init(&p);
	stls_prom_family(&p, "siptls_x_total", "counter", "A help\\text\n.");
	stls_prom_uint(&p, "siptls_x_total", NULL, 18446744073709551615ull);
	stls_prom_int(&p, "siptls_x_total", lab, -3);
	stls_prom_real(&p, "siptls_x_total", lab, 0.25);
	s = text(&p);
	CHECK_STR_EQ(s, "# HELP siptls_x_total A help\\\\text\\n.\n"
			"# TYPE siptls_x_total counter\n"
			"siptls_x_total 18446744073709551615\n"
			"siptls_x_total{reason=\"idle-timeout\",dir=\"in\"} -3\n"
			"siptls_x_total{reason=\"idle-timeout\",dir=\"in\"} "
			"0.25\n");
	free(s);
}

TEST(label_values_escaped)
{
	const char *lab[] = { "profile", "TLSs<a\"b\\c\nd>", "empty", NULL,
			      NULL };
	struct stls_prom p;
	char *s;

	stls_prom_init(&p);
	stls_prom_int(&p, "m", lab, 1);
	s = text(&p);
	CHECK_STR_EQ(s, "m{profile=\"TLSs<a\\\"b\\\\c\\nd>\",empty=\"\"} 1\n");
	free(s);
}

TEST(histogram_cumulative_in_seconds)
{
	static const struct stls_histo_spec spec = {
		2, { 1000000, 2500000 } };
	struct stls_histo_snap h;
	const char *lab[] = { "a", "b", NULL };
	struct stls_prom p;
	char *s;

	memset(&h, 0, sizeof(h));
	h.bucket[0] = 3;
	h.bucket[1] = 1;
	h.bucket[2] = 2;
	h.sum_ns = 1500000000;
	stls_prom_init(&p);
	stls_prom_histo(&p, "h_seconds", lab, &spec, &h);
	s = text(&p);
	CHECK_STR_EQ(s, "h_seconds_bucket{a=\"b\",le=\"0.001\"} 3\n"
			"h_seconds_bucket{a=\"b\",le=\"0.0025\"} 4\n"
			"h_seconds_bucket{a=\"b\",le=\"+Inf\"} 6\n"
			"h_seconds_sum{a=\"b\"} 1.5\n"
			"h_seconds_count{a=\"b\"} 6\n");
	free(s);
	stls_prom_init(&p);
	stls_prom_histo(&p, "h", NULL, &spec, &h);
	s = text(&p);
	CHECK(strstr(s, "h_bucket{le=\"+Inf\"} 6\nh_sum 1.5\nh_count 6\n"));
	free(s);
}

/* A large page grows the buffer; the text is intact. */
TEST(grows)
{
	struct stls_prom p;
	size_t len, i;
	char *s;

	stls_prom_init(&p);
	for (i = 0; i < 5000; i++)
		stls_prom_uint(&p, "siptls_many", NULL, i);
	s = stls_prom_take(&p, &len);
	CHECK_NOT_NULL(s);
	CHECK(strstr(s, "siptls_many 4999\n") != NULL);
	CHECK_EQ(len, strlen(s));
	free(s);
	stls_prom_fini(&p);
}
