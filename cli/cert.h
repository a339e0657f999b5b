/*
 * `siptlsctl cert ...`: certificate helpers for operators (a small CA,
 * server and client certificates, CA lists, revocation and CRLs, and a
 * readable `show`). See docs/certificates.md.
 */
#ifndef STLS_CLI_CERT_H
#define STLS_CLI_CERT_H

/*
 * Runs one `cert` command. argv[0] is "cert", argv[1] the subcommand
 * (ca, issue, revoke, crl, calist, show, selfsigned, help). Messages go to
 * stderr, results to stdout. Returns the process exit status: 0 done,
 * 1 the operation failed (the message says why and names the file), 2 usage
 * error. argv may be permuted. Thread: main thread (uses stdio).
 */
int stls_cli_cert_main(int argc, char **argv);

#endif
