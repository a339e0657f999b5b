/*
 * siptlsctl: the operator command line.
 *
 *	siptlsctl [-s SOCKET | -T HOST:PORT] [-t] [-S] [-w SECONDS]
 *		  METHOD [ARGS...]
 *
 * Calls one JSON-RPC method of siptlsd and prints the result: pretty JSON,
 * or a table with -t. ARGS become positional params (see
 * stls_rpc_client_params_from_args; -S keeps them all strings). Exit
 * status: 0 success, 1 the daemon answered with an error (printed on
 * stderr with its code) or an unreadable reply, 2 usage, 3 the daemon
 * could not be reached or did not answer in time.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "db.h"
#include "rpc_client.h"
#include "stls/control.h"
#include "table.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_RPC = 1,
	EXIT_USAGE = 2,
	EXIT_CONN = 3,
};

struct opts {
	const char *socket;
	const char *tcp;
	bool table;
	bool strings;
	bool help;
	int timeout_ms;
};

/*
 * Commands siptlsctl runs itself instead of sending to the daemon. The
 * certificate helpers (`siptlsctl cert ...`) and the profile table tools
 * (`siptlsctl db ...`) are wired in here.
 */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} local_cmds[] = {
	{ "cert", stls_cli_cert_main },
	{ "db", stls_cli_db_main },
	{ NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: siptlsctl [-s SOCKET | -T HOST:PORT] [-t] [-S] "
		"[-w SECONDS] METHOD [ARGS...]\n"
		"       siptlsctl --help [METHOD]\n"
		"       siptlsctl cert help    (certificate helpers, see "
		"docs/certificates.md)\n"
		"       siptlsctl db help      (TLS profiles in a database, "
		"see docs/database.md)\n"
		"       siptlsctl --version\n"
		"\n"
		"Calls METHOD of siptlsd over its JSON-RPC control socket "
		"and prints the result.\n"
		"ARGS become positional parameters: integers are sent as "
		"numbers, true/false as\n"
		"booleans, anything else as strings.\n"
		"\n"
		"  -s SOCKET     control socket (default $%s, else %s)\n"
		"  -T HOST:PORT  use the daemon's loopback TCP port instead\n"
		"  -t            print the result as a table\n"
		"  -S            send every argument as a string\n"
		"  -w SECONDS    wait at most this long for a reply "
		"(default 30)\n"
		"  -h, --help    this text and the daemon's methods\n"
		"\n"
		"Exit status: 0 ok, 1 error reply, 2 usage, 3 daemon not "
		"reachable.\n"
		"Example: siptlsctl cfg.set_now_int tls connection_timeout "
		"180\n",
		STLS_RPC_SOCKET_ENV, STLS_RPC_SOCKET_PATH);
}

static const char *target(const struct opts *o)
{
	return o->tcp ? o->tcp : o->socket;
}

static int connect_or_explain(const struct opts *o,
			      struct stls_rpc_client **c, bool quiet)
{
	char why[512];

	if (stls_rpc_client_connect(o->socket, o->tcp, o->timeout_ms, c, why,
				    sizeof(why)) == 0) {
		return 0;
	}
	if (!quiet) {
		fprintf(stderr, "siptlsctl: %s\n", why);
	}
	return -1;
}

static int transport_error(const struct opts *o, int rc)
{
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "siptlsctl: no reply from %s within %d s\n",
			target(o), o->timeout_ms / 1000);
	} else if (rc == -EBADMSG) {
		fprintf(stderr, "siptlsctl: unreadable reply from %s\n",
			target(o));
		return EXIT_RPC;
	} else {
		fprintf(stderr, "siptlsctl: %s: %s\n", target(o),
			strerror(-rc));
	}
	return EXIT_CONN;
}

/* Indented JSON as siptlsctl prints it: two spaces, "key": value. */
#define PRETTY (JSON_INDENT(2) | JSON_ENCODE_ANY)

static void print_error(const struct stls_rpc_client_error *e)
{
	const json_t *d = e->data;
	size_t i;
	char *text = NULL;

	fprintf(stderr, "siptlsctl: error %lld: %s\n", (long long)e->code,
		e->message);
	if (json_is_array(d)) {
		for (i = 0; i < json_array_size(d); i++) {
			const char *s = json_string_value(json_array_get(d, i));

			if (s) {
				fprintf(stderr, "  %s\n", s);
			}
		}
	} else if (d && (text = json_dumps(d, PRETTY)) != NULL) {
		fprintf(stderr, "%s\n", text);
		free(text);
	}
}

static int print_result(const struct opts *o, json_t *v)
{
	char *text;

	if (o->table) {
		return stls_table_print(stdout, v) ? EXIT_RPC : EXIT_OK;
	}
	text = json_dumps(v, PRETTY);
	if (!text) {
		return EXIT_RPC;
	}
	printf("%s\n", text);
	free(text);
	return EXIT_OK;
}

static int call(const struct opts *o, int argc, char **argv)
{
	struct stls_rpc_client_error err;
	struct stls_rpc_client *c = NULL;
	json_t *params = NULL, *result = NULL;
	int rc, status;

	if (connect_or_explain(o, &c, false)) {
		return EXIT_CONN;
	}
	if (stls_rpc_client_params_from_args(argc - 1, argv + 1, o->strings,
					     &params)) {
		stls_rpc_client_free(c);
		return EXIT_RPC;
	}
	rc = stls_rpc_client_call(c, argv[0], params, &result, &err);
	stls_rpc_client_free(c);
	if (rc == -EPROTO) {
		print_error(&err);
		json_decref(err.data);
		return EXIT_RPC;
	}
	if (rc) {
		return transport_error(o, rc);
	}
	status = print_result(o, result);
	json_decref(result);
	return status;
}

/* Prints "  usage line\n      doc..." for one method. */
static void print_method_help(const char *name, const char *help)
{
	const char *nl = help ? strchr(help, '\n') : NULL;

	if (!help) {
		printf("  %s\n", name);
		return;
	}
	printf("  %.*s\n", nl ? (int)(nl - help) : (int)strlen(help), help);
	while (nl) {
		const char *next = strchr(nl + 1, '\n');

		printf("      %.*s\n",
		       next ? (int)(next - nl - 1) : (int)strlen(nl + 1),
		       nl + 1);
		nl = next;
	}
}

/* The help text of <name>, kept alive by *keep (release it after use). */
static const char *help_of(struct stls_rpc_client *c, const char *name,
			   json_t **keep)
{
	struct stls_rpc_client_error err = { 0 };
	json_t *params = json_array();

	/* json_array_append_new() takes the string, also when it fails. */
	if (json_array_append_new(params, stls_rpc_client_text(name))) {
		json_decref(params);
		return NULL;
	}
	if (stls_rpc_client_call(c, "system.methodHelp", params, keep,
				 &err)) {
		json_decref(err.data);
		return NULL;
	}
	return json_string_value(*keep);
}

/* --help: usage, then the daemon's methods when it can be reached. */
static int help(const struct opts *o, const char *method)
{
	struct stls_rpc_client_error err = { 0 };
	struct stls_rpc_client *c = NULL;
	json_t *list = NULL, *h = NULL;
	size_t i, found = 0;

	if (connect_or_explain(o, &c, true) ||
	    stls_rpc_client_call(c, "system.listMethods", NULL, &list, &err)) {
		json_decref(err.data);
		usage(stdout);
		printf("\n(siptlsd is not reachable at %s: its methods are not "
		       "listed.)\n",
		       target(o));
		stls_rpc_client_free(c);
		return EXIT_OK;
	}
	if (!method) {
		usage(stdout);
	}
	if (!method) {
		printf("\nMethods of the daemon at %s:\n", target(o));
	}
	for (i = 0; i < json_array_size(list); i++) {
		const char *name = json_string_value(json_array_get(list, i));

		if (name && (!method || strcmp(method, name) == 0)) {
			found++;
			print_method_help(name, help_of(c, name, &h));
			json_decref(h);
			h = NULL;
		}
	}
	json_decref(list);
	stls_rpc_client_free(c);
	if (method && !found) {
		fprintf(stderr, "siptlsctl: the daemon has no method \"%s\"\n",
			method);
		return EXIT_RPC;
	}
	return EXIT_OK;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long w;
	int ch;

	/* "+": stop at METHOD, so "-1" after it is an argument. */
	while ((ch = getopt_long(argc, argv, "+s:T:tSw:h", longs, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case 'T':
			o->tcp = optarg;
			break;
		case 't':
			o->table = true;
			break;
		case 'S':
			o->strings = true;
			break;
		case 'w':
			w = strtol(optarg, &end, 10);
			if (*end || w < 1 || w > 3600) {
				fprintf(stderr, "siptlsctl: -w wants 1..3600 "
						"seconds\n");
				return -1;
			}
			o->timeout_ms = (int)w * 1000;
			break;
		case 'h':
			o->help = true;
			break;
		case 'V':
			printf("siptlsctl %s\n", STLS_VERSION);
			exit(EXIT_OK);
		default:
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .timeout_ms = 30000 };
	size_t i;

	o.socket = getenv(STLS_RPC_SOCKET_ENV);
	if (!o.socket || !*o.socket) {
		o.socket = STLS_RPC_SOCKET_PATH;
	}
	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (o.help) {
		return help(&o, argc > 0 ? argv[0] : NULL);
	}
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; local_cmds[i].name; i++) {
		if (strcmp(argv[0], local_cmds[i].name) == 0) {
			return local_cmds[i].fn(argc, argv);
		}
	}
	return call(&o, argc, argv);
}
