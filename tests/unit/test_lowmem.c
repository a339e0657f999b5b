/*
 * Unit tests for lib/tls/lowmem.c: budget, threshold formula, caching.
 */
#include "test.h"

#include <unistd.h>

#include "stls/conn.h"

TEST(lowmem_budget_drives_available)
{
	stls_lowmem_set_budget(1);
	CHECK_EQ(stls_lowmem_get_available(), 0);
	CHECK(stls_lowmem_is_low(1, 1));
	CHECK(!stls_lowmem_is_low(0, 1)); /* 0 disables */
	stls_lowmem_set_budget(1ull << 50);
	CHECK(stls_lowmem_get_available() > (1ull << 49));
	CHECK(!stls_lowmem_is_low(-1, 1));
	CHECK(!stls_lowmem_is_low(-1, 2));
	stls_lowmem_set_budget(0);
	/* Without a budget: cgroup or MemAvailable, never zero here. */
	CHECK(stls_lowmem_get_available() > 0);
}

TEST(lowmem_threshold_formula)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t def = 512ull * 1024 * (uint64_t)(cpus < 4 ? 4 : cpus);

	CHECK_EQ(stls_lowmem_threshold_bytes(0, 1), 0);
	CHECK_EQ(stls_lowmem_threshold_bytes(2048, 1), 2048 * 1024);
	CHECK_EQ(stls_lowmem_threshold_bytes(-1, 1), def);
	CHECK_EQ(stls_lowmem_threshold_bytes(-1, 2), def / 2);
	CHECK_EQ(stls_lowmem_threshold_bytes(-7, 2), 0);
}

/* The value is cached for 100 ms: a budget change clears the cache. */
TEST(lowmem_cached)
{
	uint64_t a, b;

	stls_lowmem_set_budget(1ull << 40);
	a = stls_lowmem_get_available();
	b = stls_lowmem_get_available();
	CHECK_EQ(a, b);
	stls_lowmem_set_budget(0);
}
