/*
 * siptlsctl: the operator command line. Placeholder until it lands.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("siptlsctl %s\n", STLS_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: siptlsctl [-s SOCKET] METHOD [ARGS...]\n");
	return 2;
}
