#!/usr/bin/env bash
# ctest-serial: timing- and memory-sensitive, runs alone
# siptlsd with 2 workers resumes every session on every worker: one
# SSL_CTX per profile is shared by the worker threads, so the TLS 1.2
# session-id cache (session_cache = 1) and the TLS 1.3 ticket keys are too.
# loadgen (bench/) offers each slot's previous session; with connections
# spread over both workers by SO_REUSEPORT, a per-worker cache would hit
# about half the time. Also checks loadgen --echo-ok against the echo
# handler, and that the in-memory benchmark tools (hs_engine, hs_mem) run.
# Then session_cache = 0: TLS 1.2 and 1.3 still resume with tickets; with
# session_tickets = 0 as well nothing resumes (full handshakes, no error).
# Ports: a free one picked at start.
set -uo pipefail
BUILD=${STLS_BUILD_DIR:?}
SRC=${STLS_SOURCE_DIR:?}
B=$BUILD/bench
for p in "$BUILD/siptlsd" "$B/loadgen" "$B/hs_engine" "$B/hs_mem"; do
	[ -x "$p" ] || { echo "SKIP: $p not built"; exit 77; }
done
T=$(mktemp -d /tmp/stls-resume.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

CERTS=$BUILD/test-certs
flock "$CERTS.lock" bash "$SRC/tests/certs/mkcerts.sh" "$CERTS" >/dev/null ||
	fail "cannot make the test PKI"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# start_daemon "[tls] lines": (re)starts siptlsd with them.
start_daemon() {
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
		PID=
	fi
	cat >"$T/siptlsd.conf" <<CONF
[core]
listen = tls:127.0.0.1:$PORT
backend = udp:127.0.0.1:9
rpc_socket = $T/siptlsd.sock
handler = echo
workers = 2

[tls]
$1

[server:default]
certificate = $CERTS/server.pem
private_key = $CERTS/server.key
verify_certificate = no
require_certificate = no
CONF
	"$BUILD/siptlsd" -c "$T/siptlsd.conf" --check >"$T/check.out" 2>&1 ||
		fail "--check: $(cat "$T/check.out")"
	"$BUILD/siptlsd" -c "$T/siptlsd.conf" >"$T/siptlsd.log" 2>&1 &
	PID=$!
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
		sleep 0.1
	done
	kill -0 "$PID" 2>/dev/null ||
		fail "siptlsd did not start: $(cat "$T/siptlsd.log")"
}
start_daemon "session_cache = 1"

# run NAME [loadgen options]: one bounded run; prints its RESULT line.
run() {
	local name=$1 out line
	shift
	out=$("$B/loadgen" -t "127.0.0.1:$PORT" --cafile "$CERTS/ca.pem" \
		--sni sip.example.test -T 5 -d 1.5 -n 150 --server-pid "$PID" \
		"$@" 2>&1)
	line=$(grep '^RESULT' <<<"$out") || fail "$name: no RESULT: $out"
	echo "$name: $(head -1 <<<"$out")" >&2
	grep -Eq ' ops=[1-9]' <<<"$line" || fail "$name: no operations: $line"
	grep -q ' errors=0 ' <<<"$line" || fail "$name: errors: $line"
	echo "$line"
}

for v in 1.2 1.3; do
	line=$(run "resume $v" -m resume -V "$v" -c 4) || exit 1
	grep -q ' hit_ratio=1.000 ' <<<"$line" ||
		fail "resume $v: not every session resumed: $line"
done
run "persistent --echo-ok" -m persistent -c 2 -p 2 --echo-ok >/dev/null ||
	exit 1

# The session-id cache off: tickets still resume both versions.
start_daemon "session_cache = 0"
for v in 1.2 1.3; do
	line=$(run "tickets $v" -m resume -V "$v" -c 4 --tickets) || exit 1
	grep -q ' hit_ratio=1.000 ' <<<"$line" ||
		fail "tickets $v: not every session resumed: $line"
done
# Neither cache nor tickets: every handshake is a full one.
start_daemon "session_cache = 0
session_tickets = 0"
for v in 1.2 1.3; do
	line=$(run "no resumption $v" -m resume -V "$v" -c 4 --tickets) || exit 1
	# TLS 1.2 offers a session id the server never kept; TLS 1.3 has
	# nothing to offer (no ticket): either way nothing is reused.
	grep -q ' reused=0 ' <<<"$line" ||
		fail "no resumption $v: a session resumed: $line"
done

out=$("$B/hs_engine" "$CERTS/server.pem" "$CERTS/server.key" 1.3 5 all 0 \
	"$CERTS/ca.pem" 2>&1) || fail "hs_engine: $out"
[ "$(grep -c '^RESULT label=hs_engine' <<<"$out")" = 3 ] ||
	fail "hs_engine: $out"
out=$("$B/hs_mem" "$CERTS/server.pem" "$CERTS/server.key" 1.3 20 2>&1) ||
	fail "hs_mem: $out"
grep -q 'what=idle_established' <<<"$out" || fail "hs_mem: $out"
echo "PASS"
