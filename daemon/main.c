/*
 * siptlsd: the SIP TLS edge daemon. Placeholder until the daemon lands:
 * it only knows its name and version.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("siptlsd %s\n", STLS_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: siptlsd -c FILE [--check]\n");
	return 2;
}
