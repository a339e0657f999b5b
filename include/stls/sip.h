/*
 * The SIP message library of siptls (lib/sip): one include for all of it.
 *
 * - sip/slice.h:  zero-copy views into a message, character classes
 * - sip/framer.h: stream framing (RFC 3261 section 18.3, RFC 5626 pings)
 * - sip/msg.h:    the lazy header parser and validation
 * - sip/uri.h:    SIP URIs and their parameters
 * - sip/via.h:    Via headers
 * - sip/out.h:    writing SIP text into a bounded buffer
 * - sip/reply.h:  stateless replies built from a request
 *
 * Nothing here allocates per message beyond what the caller gives, keeps
 * global state or knows about sockets: it parses untrusted input and is
 * fuzzed (fuzz/fuzz_sip_*.c).
 */
#ifndef STLS_SIP_H
#define STLS_SIP_H

#include "stls/sip/framer.h"
#include "stls/sip/msg.h"
#include "stls/sip/out.h"
#include "stls/sip/reply.h"
#include "stls/sip/slice.h"
#include "stls/sip/uri.h"
#include "stls/sip/via.h"

#endif
