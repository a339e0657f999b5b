/*
 * Unit tests for lib/hsm/hsm_pin.c: the PIN prompt answers from the
 * caller's PIN, or fails, and never prints or reads a terminal.
 */
#include <string.h>

#include <openssl/ui.h>

#include "hsm/hsm_int.h"
#include "test.h"

static int ask(struct stls__hsm_pin *p, char *buf, int len)
{
	UI *ui = UI_new_method(stls__hsm_ui());
	int rc;

	CHECK_NOT_NULL(ui);
	(void)UI_add_user_data(ui, p);
	CHECK(UI_add_input_string(ui, "PIN: ", 0, buf, 1, len - 1) > 0);
	rc = UI_process(ui);
	UI_free(ui);
	return rc;
}

TEST(the_prompt_is_answered_from_the_given_pin)
{
	struct stls__hsm_pin p = { "4321", false };
	char buf[32] = "";

	CHECK_EQ(ask(&p, buf, sizeof(buf)), 0);
	CHECK(p.asked);
	CHECK_STR_EQ(buf, "4321");
}

TEST(without_a_pin_the_prompt_fails_and_says_it_was_asked)
{
	struct stls__hsm_pin p = { NULL, false };
	char buf[32] = "";

	CHECK(ask(&p, buf, sizeof(buf)) != 0);
	CHECK(p.asked);
	CHECK_STR_EQ(buf, "");
}

TEST(one_method_for_the_process)
{
	CHECK_NOT_NULL(stls__hsm_ui());
	CHECK(stls__hsm_ui() == stls__hsm_ui());
}
