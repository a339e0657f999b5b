/*
 * The PIN prompt of HSM keys: a UI method that never reads a terminal
 * (siptlsd has none; a prompt would hang the control thread). It answers
 * with the PIN the caller gave (a profile's private_key_password), or
 * fails the prompt, which the key loader then reports as "PIN missing".
 * The PIN is copied only into OpenSSL's result buffer, never logged.
 */
#include <pthread.h>
#include <string.h>

#include "hsm/hsm_int.h"

static UI_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static int pin_read(UI *ui, UI_STRING *uis)
{
	struct stls__hsm_pin *ask = UI_get0_user_data(ui);

	switch (UI_get_string_type(uis)) {
	case UIT_PROMPT:
	case UIT_VERIFY:
		if (!ask) {
			return 0;
		}
		ask->asked = true;
		if (!ask->pin) {
			return 0;
		}
		return UI_set_result(ui, uis, ask->pin) == 0 ? 1 : 0;
	default:
		return 1; /* info and error strings: nothing to read */
	}
}

static int pin_write(UI *ui, UI_STRING *uis)
{
	(void)ui;
	(void)uis;
	return 1; /* never print the prompt */
}

static void make_method(void)
{
	method = UI_create_method("siptls PIN");
	if (method && (UI_method_set_reader(method, pin_read) != 0 ||
		       UI_method_set_writer(method, pin_write) != 0)) {
		UI_destroy_method(method);
		method = NULL;
	}
}

UI_METHOD *stls__hsm_ui(void)
{
	pthread_once(&method_once, make_method);
	return method;
}
