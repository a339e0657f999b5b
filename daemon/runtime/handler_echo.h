/*
 * Built-in message handlers that need no SIP: `echo` sends every byte
 * back where it came from (streams and udp: datagrams), with back-pressure
 * on itself; `discard` reads and drops. Used by tests and for diagnostics
 * (`[core] handler = echo`). Bytes from the backend are dropped by both.
 */
#ifndef STLSD_HANDLER_ECHO_H
#define STLSD_HANDLER_ECHO_H

#include "runtime/daemon.h"

extern const struct stls_handler_ops stls_echo_handler;
extern const struct stls_handler_ops stls_discard_handler;

#endif
