/*
 * `siptlsctl cert`: subcommand dispatch. Each subcommand's usage text is
 * in cert_opts.c (the parser prints it on a usage error); a test checks
 * that every command here has one.
 */
#include <stdio.h>
#include <string.h>

#include "cert.h"
#include "cert_int.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "ca", stls__cert_cmd_ca },
	{ "issue", stls__cert_cmd_issue },
	{ "csr", stls__cert_cmd_csr },
	{ "revoke", stls__cert_cmd_revoke },
	{ "crl", stls__cert_cmd_crl },
	{ "calist", stls__cert_cmd_calist },
	{ "show", stls__cert_cmd_show },
	{ "selfsigned", stls__cert_cmd_selfsigned },
};

int stls_cli_cert_main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		stls__cert_usage(NULL);
		return argc < 2 ? CERT_EXIT_USAGE : CERT_EXIT_OK;
	}
	for (i = 0; i < STLS_ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "siptlsctl cert: unknown command '%s'\n", argv[1]);
	stls__cert_usage(NULL);
	return CERT_EXIT_USAGE;
}
