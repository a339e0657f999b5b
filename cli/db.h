/*
 * `siptlsctl db ...`: the TLS profile table (docs/database.md): init,
 * schema, upgrade, import, export, add, set, rm, show, check.
 */
#ifndef STLS_CLI_DB_H
#define STLS_CLI_DB_H

/*
 * Runs one `db` command. argv[0] is "db", argv[1] the command. Results go
 * to stdout, problems to stderr. Returns the exit status: 0 done, 1 the
 * command failed (a database error, or the change would not load: nothing
 * was written), 2 usage. Thread: main thread (stdio).
 */
int stls_cli_db_main(int argc, char **argv);

#endif
