/*
 * `siptlsctl db`: what every command shares and that calls no command:
 * the two kinds of error message and the key password for rows. The usage
 * text is printed by db_main.c when a command ends with DB_EXIT_USAGE, so
 * the commands never call up into the dispatcher.
 */
#include "db.h"
#include "db_cmd.h"

#include <stdarg.h>
#include <stdio.h>

int stls__db_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "siptlsctl db%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return DB_EXIT_USAGE;
}

int stls__db_fail(const struct db_ctx *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "siptlsctl db %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return DB_EXIT_FAIL;
}

const char *stls__db_key_password(const struct db_ctx *c)
{
	if (c->key_password[0]) {
		return c->key_password;
	}
	return c->s->private_key_password;
}
