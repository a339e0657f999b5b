/*
 * Tests for lib/tls/profile_seen.c: the digests of the files a build
 * read ahead, by path.
 */
#include <errno.h>
#include <stdio.h>

#include "test.h"
#include "tls/profile_int.h"

TEST(paths_find_their_digest)
{
	unsigned char md[3][STLS__PC_MD_LEN];
	const char *paths[] = { "/etc/a.pem", "/etc/b.pem", "/etc/A.pem" };
	struct stls__seen *t;
	char other[16];
	int i;

	CHECK_OK(stls__seen_new(3, &t));
	for (i = 0; i < 3; i++) {
		memset(md[i], 'a' + i, sizeof(md[i]));
		stls__seen_add(t, paths[i], md[i]);
	}
	for (i = 0; i < 3; i++) {
		CHECK_NOT_NULL(stls__seen_md(t, paths[i]));
		CHECK_EQ(memcmp(stls__seen_md(t, paths[i]), md[i],
				sizeof(md[i])), 0);
	}
	/* An equal string finds it too; case counts (a path). */
	snprintf(other, sizeof(other), "/etc/%s", "a.pem");
	CHECK(stls__seen_md(t, other) == stls__seen_md(t, paths[0]));
	CHECK(stls__seen_md(t, paths[2]) != stls__seen_md(t, paths[0]));
	CHECK_NULL(stls__seen_md(t, "/etc/c.pem"));
	CHECK_NULL(stls__seen_md(t, NULL));
	CHECK_NULL(stls__seen_md(NULL, paths[0]));
	stls__seen_free(t);
	stls__seen_free(NULL);
}

/* The first digest of a path stays; past its room, paths are unknown. */
TEST(first_wins_and_room_is_bounded)
{
	unsigned char a[STLS__PC_MD_LEN], b[STLS__PC_MD_LEN];
	struct stls__seen *t;

	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	CHECK_OK(stls__seen_new(1, &t));
	stls__seen_add(t, "/x", a);
	stls__seen_add(t, "/x", b);
	stls__seen_add(t, "/y", b);
	CHECK_EQ(memcmp(stls__seen_md(t, "/x"), a, sizeof(a)), 0);
	CHECK_NULL(stls__seen_md(t, "/y"));
	stls__seen_free(t);
}
