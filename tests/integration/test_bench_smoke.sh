#!/usr/bin/env bash
# Smoke test of the benchmark tools (bench/): the echo backend behind a TLS
# terminator nobody here wrote (stunnel; `openssl s_server` for handshakes
# only when stunnel is missing), driven by loadgen for about 3 seconds. It
# checks that loadgen completes operations with no errors, that the
# RESULT line carries the server CPU figures, and that full, persistent
# and resume modes all work, and that --source binds the connections to
# another loopback address while -r paces the handshakes; and that
# rec_engine runs all its modes. Builds nothing: the programs come from
# $STLS_BUILD_DIR/bench. Ports 25900-25903 (this worktree's range).
set -uo pipefail
BUILD=${STLS_BUILD_DIR:?}
SRC=${STLS_SOURCE_DIR:?}
B=$BUILD/bench
for p in loadgen echo_backend; do
	[ -x "$B/$p" ] || { echo "SKIP: $B/$p not built"; exit 77; }
done
. "$SRC/tests/integration/bench_util.sh"
bench_setup bench-smoke
ECHO=25900 TLS=25901

# check NAME OUTPUT: ops>0, errors=0, the server CPU was read.
check() {
	local line
	line=$(grep '^RESULT' <<<"$2") || fail "$1: no RESULT line: $2"
	echo "$1: $(head -1 <<<"$2")"
	grep -Eq ' ops=[1-9]' <<<"$line" || fail "$1: no operations: $line"
	grep -q ' errors=0 ' <<<"$line" || fail "$1: errors: $line"
	grep -Eq ' server_cpu_us_per_op=[0-9]' <<<"$line" ||
		fail "$1: no server CPU figure: $line"
}

"$B/echo_backend" --tcp "127.0.0.1:$ECHO" --udp "127.0.0.1:$ECHO" \
	--duration 30 2>"$T/echo.log" &
PIDS+=($!)
wait_port "$ECHO" || fail "echo backend did not listen"

LG=("$B/loadgen" -t "127.0.0.1:$TLS" --cafile "$CERTS/ca.pem"
	--sni sip.example.test -T 3)
if command -v stunnel4 >/dev/null; then
	cat >"$T/stunnel.conf" <<CONF
foreground = yes
pid =
debug = 3
[sip]
accept = 127.0.0.1:$TLS
connect = 127.0.0.1:$ECHO
cert = $CERTS/server.pem
key = $CERTS/server.key
CONF
	stunnel4 "$T/stunnel.conf" >"$T/stunnel.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	wait_port "$TLS" || fail "stunnel did not listen"
	check full "$("${LG[@]}" -m full -c 2 -d 2 -n 2000 --server-pid "$SPID")"
	check persistent "$("${LG[@]}" -m persistent -c 2 -p 4 -d 1 \
		-n 20000 --server-pid "$SPID")"
	out=$("${LG[@]}" -m resume -V 1.2 -c 2 -d 1 -n 500 --server-pid "$SPID")
	check resume "$out"
	grep -Eq ' reused=[1-9]' <<<"$out" || fail "resume: nothing resumed"
	# A fixed rate is kept (200/s for 2 s: about 400, never far more).
	out=$("${LG[@]}" -m persistent -c 2 -p 1 -r 200 -d 2 -n 20000 \
		--server-pid "$SPID")
	check "persistent at 200/s" "$out"
	n=$(sed -n 's/.* ops=\([0-9]*\) .*/\1/p' <<<"$(grep '^RESULT' <<<"$out")")
	[ "$n" -ge 200 ] && [ "$n" -le 440 ] ||
		fail "persistent at 200/s: $n operations in 2 s"
	# Idle: connections held, counted up, memory per connection reported.
	out=$("${LG[@]}" -m idle -c 20 -H 1 --server-pid "$SPID")
	echo "idle: $(head -1 <<<"$out")"
	grep -Eq '^RESULT.* up=20 ' <<<"$out" || fail "idle: not all up: $out"
	grep -Eq '^RESULT.* server_kb_per_conn=[0-9]' <<<"$out" ||
		fail "idle: no memory figure: $out"
else
	openssl s_server -quiet -accept "$TLS" -cert "$CERTS/server.pem" \
		-key "$CERTS/server.key" >/dev/null 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	wait_port "$TLS" || fail "openssl s_server did not listen"
	check handshake "$("${LG[@]}" -m handshake -c 1 -d 3 -n 2000 \
		--server-pid "$SPID")"
fi
# Handshakes from 127.0.0.3 (--source), at most 20 started a second
# (-r): about 40 in 2 s, never far more.
out=$("${LG[@]}" -m handshake -c 2 -r 20 -d 2 -n 2000 --source 127.0.0.3 \
	--server-pid "$SPID")
check "handshake at 20/s from 127.0.0.3" "$out"
n=$(sed -n 's/.* ops=\([0-9]*\) .*/\1/p' <<<"$(grep '^RESULT' <<<"$out")")
[ "$n" -ge 20 ] && [ "$n" -le 44 ] ||
	fail "handshake at 20/s: $n handshakes in 2 s"
# The address a listener sees is the --source one (a plain TCP listener:
# the handshake itself fails, the accept tells the peer).
python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 25902))
s.listen(1)
s.settimeout(10)
open(sys.argv[1], "w").close()
c, a = s.accept()
print(a[0])
c.close()' "$T/ready" >"$T/peer" 2>&1 &
PIDS+=($!)
for i in $(seq 50); do [ -e "$T/ready" ] && break; sleep 0.1; done
"$B/loadgen" -m handshake -t 127.0.0.1:25902 --no-verify -c 1 -d 1 -n 1 -T 1 \
	--source 127.0.0.3 >/dev/null 2>&1
for i in $(seq 50); do [ -s "$T/peer" ] && break; sleep 0.1; done
[ "$(cat "$T/peer")" = 127.0.0.3 ] ||
	fail "--source 127.0.0.3: the listener saw $(cat "$T/peer")"
# Bad input: an unknown mode is refused; a dead server is counted as
# errors, with no operation and no crash.
"$B/loadgen" -m bogus -t 127.0.0.1:1 >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown mode not refused with exit status 2"
out=$("$B/loadgen" -m full -t 127.0.0.1:1 --no-verify -c 1 -d 1 -n 5 -T 1)
grep -Eq '^RESULT.* ops=0 errors=[1-9]' <<<"$out" ||
	fail "dead server: errors not counted: $out"
# A source address not on this host: every bind fails, counted.
out=$("$B/loadgen" -m handshake -t 127.0.0.1:1 --no-verify -c 1 -d 1 -n 5 \
	-T 1 --source 192.0.2.1)
grep -Eq '^RESULT.* ops=0 errors=[1-9]' <<<"$out" ||
	fail "--source not local: errors not counted: $out"
# rec_engine: one established connection's records, every mode, both
# versions (a few hundred messages: that it runs and checks, not speed).
[ -x "$B/rec_engine" ] || fail "$B/rec_engine not built"
{
	for v in 1.2 1.3; do
		out=$("$B/rec_engine" "$CERTS/server.pem" "$CERTS/server.key" \
			"$v" 300) || fail "rec_engine $v failed: $out"
		[ "$(grep -c '^RESULT label=rec_engine .*server_cpu_ns_per_message=[0-9]' <<<"$out")" = 3 ] ||
			fail "rec_engine $v: not three modes: $out"
		grep -q "version=TLSv$v " <<<"$out" ||
			fail "rec_engine $v: wrong version: $out"
	done
	"$B/rec_engine" "$CERTS/server.pem" 2>/dev/null
	[ $? -eq 2 ] || fail "rec_engine without a key not refused with 2"
}
echo "PASS"
