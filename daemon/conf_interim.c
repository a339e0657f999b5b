/*
 * INTERIM main-config reader (see conf_interim.h).
 */
#include "conf_interim.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Cuts a '#' comment that is not inside double quotes. */
static void cut_comment(char *s)
{
	bool quoted = false;

	for (; *s; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == '#' && !quoted) {
			*s = '\0';
			return;
		}
	}
}

static struct stls_section *add_section(struct stls_section ***tail,
					const char *name, const char *file,
					int line)
{
	struct stls_section *s = calloc(1, sizeof(*s));
	char *p;

	if (!s)
		return NULL;
	s->name = strdup(name);
	if (!s->name) {
		free(s);
		return NULL;
	}
	for (p = s->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	s->loc.file = file;
	s->loc.line = line;
	**tail = s;
	*tail = &s->next;
	return s;
}

static int add_kv(struct stls_section *s, char *key, char *value,
		  const char *file, int line)
{
	struct stls_kv *kv = calloc(1, sizeof(*kv)), **pp = &s->kvs;
	size_t n = strlen(value);
	char *p;

	if (!kv)
		return -ENOMEM;
	if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
		value[n - 1] = '\0';
		value++;
	}
	for (p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	kv->key = strdup(key);
	kv->value = strdup(value);
	kv->loc.file = file;
	kv->loc.line = line;
	if (!kv->key || !kv->value) {
		free(kv->key);
		free(kv->value);
		free(kv);
		return -ENOMEM;
	}
	while (*pp)
		pp = &(*pp)->next;
	*pp = kv;
	return 0;
}

static int parse_line(char *line, const char *path, int no,
		      struct stls_section ***tail, struct stls_section **cur,
		      struct stls_diag *diag)
{
	char *s, *eq, *end;

	cut_comment(line);
	s = trim(line);
	if (!*s)
		return 0;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != '\0' || end == s + 1) {
			stls_diag_err(diag, path, no, "bad section header");
			return 0;
		}
		*end = '\0';
		*cur = add_section(tail, trim(s + 1), path, no);
		return *cur ? 0 : -ENOMEM;
	}
	eq = strchr(s, '=');
	if (!eq || eq == s) {
		stls_diag_err(diag, path, no, "expected key = value");
		return 0;
	}
	if (!*cur) {
		stls_diag_err(diag, path, no, "key outside of any section");
		return 0;
	}
	*eq = '\0';
	return add_kv(*cur, trim(s), trim(eq + 1), path, no);
}

int stls__interim_conf_load(const char *path, struct stls_section **out,
			    struct stls_diag *diag)
{
	struct stls_section *head = NULL, **tail = &head, *cur = NULL;
	size_t errors = diag->errors, cap = 0;
	char *line = NULL;
	int no = 0, err = 0;
	FILE *f;

	*out = NULL;
	f = fopen(path, "r");
	if (!f) {
		err = -errno;
		stls_diag_err(diag, path, 0, "cannot read: %s", strerror(-err));
		return err;
	}
	while (!err && getline(&line, &cap, f) >= 0)
		err = parse_line(line, path, ++no, &tail, &cur, diag);
	free(line);
	fclose(f);
	if (err) {
		stls__interim_conf_free(head);
		return err;
	}
	*out = head;
	return diag->errors > errors ? -EINVAL : 0;
}

void stls__interim_conf_free(struct stls_section *s)
{
	struct stls_section *next;
	struct stls_kv *kv, *kn;

	for (; s; s = next) {
		next = s->next;
		for (kv = s->kvs; kv; kv = kn) {
			kn = kv->next;
			free(kv->key);
			free(kv->value);
			free(kv);
		}
		free(s->name);
		free(s);
	}
}

const struct stls_section *stls__interim_conf_find(
	const struct stls_section *s, const char *name)
{
	for (; s; s = s->next) {
		if (strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}
