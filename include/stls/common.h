/*
 * Conventions shared by every part of siptls.
 *
 * Fallible functions return int: 0 on success or a negative errno value
 * chosen for its meaning (-ENOENT missing file, -EINVAL bad value, -ENOMEM,
 * -ENOBUFS over a limit, -EPROTO protocol failure, -EKEYREJECTED key does not
 * match its certificate, ...). Byte counts are ssize_t. State machine steps
 * return enum stls_io. "Would block" is never an error.
 */
#ifndef STLS_COMMON_H
#define STLS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STLS_MUST_USE __attribute__((warn_unused_result))
#define STLS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define STLS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* CPUs this process may run on: its affinity mask (the online CPUs when
 * the mask cannot be read), at most its cgroup's CPU quota rounded up
 * (cpu.max, v1's cpu.cfs_quota_us). At least 1. Any thread. Reads the
 * small quota files on the way up from the cgroup (found once per
 * process): cache the figure rather than call it per operation (the
 * low-memory defaults refresh it once a second). */
long stls_cpus_usable(void);

/* Result of one step of a non-blocking state machine. */
enum stls_io {
	STLS_IO_DONE,       /* the step completed */
	STLS_IO_WANT_INPUT, /* feed more input, then call again */
	STLS_IO_CLOSED,     /* the peer closed cleanly */
	STLS_IO_FAILED,     /* fatal: see the object's close reason */
};

/* Which side of a TLS connection we are. */
enum stls_role {
	STLS_ROLE_SERVER = 0, /* we accepted the connection */
	STLS_ROLE_CLIENT = 1, /* we opened it */
};

#endif
