/*
 * Unit tests for daemon/config/kwtab.c: the walk shared by the [core] and [relay]
 * keyword tables (defaults, unknown keys, repeats, refused values, "auto",
 * generated rows).
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "config/kwtab.h"

struct toy {
	int n;
	int more;
	char last[32];
};

static int toy_set(const struct stls_kw *k, const char *v,
		   const struct stls_loc *loc, void *obj, const void *ctx,
		   const char **why)
{
	struct toy *t = obj;
	char *end;
	long x = strtol(v, &end, 10);

	(void)loc;
	(void)ctx;
	if (k->kind == 1) {
		snprintf(t->last, sizeof(t->last), "%s", v);
		return 0;
	}
	if (*end || x < k->min || x > k->max) {
		*why = "out of range";
		return -EINVAL;
	}
	*(int *)((char *)obj + k->off) = (int)x;
	return 0;
}

static const struct stls_kw toy_kws[] = {
	{ "n", 0, offsetof(struct toy, n), 0, 9, NULL, "3", 0, "a number" },
	{ "more", 0, offsetof(struct toy, more), 0, 99, NULL, "7",
	  STLS_KW_AUTO, "resolved later" },
	{ "tag", 1, 0, 0, 0, NULL, NULL, STLS_KW_REPEAT | STLS_KW_REQUIRED,
	  "repeatable text" },
};

static void toy_range(FILE *f, const struct stls_kw *k)
{
	if (k->kind == 0)
		fprintf(f, "%ld..%ld", k->min, k->max);
}

static const char *const toy_kinds[] = { "integer", "text" };

static const struct stls_kw_table toy_table = {
	"toy", toy_kws, 3, toy_set, toy_kinds, toy_range,
};

static struct stls_kv *kv(const char *key, const char *value, int line,
			  struct stls_kv *next)
{
	struct stls_kv *k = calloc(1, sizeof(*k));

	k->key = strdup(key);
	k->value = strdup(value);
	k->loc.file = "t.cfg";
	k->loc.line = line;
	k->next = next;
	return k;
}

TEST(kwtab_defaults_skip_auto)
{
	struct toy t = { 0 };

	stls_kw_defaults(&toy_table, &t, NULL);
	CHECK_EQ(t.n, 3);
	CHECK_EQ(t.more, 0);
}

TEST(kwtab_apply_reports_each_problem_and_goes_on)
{
	struct stls_section sec = { 0 };
	struct toy t = { 0 };
	struct stls_diag d;
	bool seen[3] = { false };
	char buf[256];

	sec.name = "toy";
	sec.kvs = kv("n", "5", 2, kv("n", "6", 3, kv("bogus", "1", 4,
		kv("more", "auto", 5, kv("tag", "a", 6, kv("tag", "b", 7,
		kv("more", "500", 8, NULL)))))));
	stls_diag_init(&d);
	CHECK_EQ(stls_kw_apply(&toy_table, &sec, &t, NULL, seen, &d), 3);
	CHECK_EQ(t.n, 5);
	CHECK_STR_EQ(t.last, "b");
	CHECK(seen[0] && seen[1] && seen[2]);
	CHECK_STR_EQ(stls_diag_format(&d.v[0], buf, sizeof(buf)),
		     "t.cfg:3: n: given more than once");
	CHECK_STR_EQ(stls_diag_format(&d.v[1], buf, sizeof(buf)),
		     "t.cfg:4: bogus: unknown [toy] key");
	CHECK_STR_EQ(stls_diag_format(&d.v[2], buf, sizeof(buf)),
		     "t.cfg:8: more: given more than once");
	stls_diag_fini(&d);
	while (sec.kvs) {
		struct stls_kv *next = sec.kvs->next;

		free(sec.kvs->key);
		free(sec.kvs->value);
		free(sec.kvs);
		sec.kvs = next;
	}
}

TEST(kwtab_rows)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK_OK(stls_kw_write_rows(f, &toy_table));
	fclose(f);
	CHECK_STR_HAS(text, "| `n` | integer | 3 | 0..9 | a number |\n");
	CHECK_STR_HAS(text, "| `tag` | text, repeatable | required |  |");
	free(text);
}
