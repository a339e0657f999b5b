#!/usr/bin/env bash
# bench/script_bench.sh [BUILD_DIR]: what the Lua hooks cost
# (docs/scripting.md, docs/performance.md "Script hooks"), side by side:
#
# 1. In-process (bench/script_cost): server CPU per relayed transaction
#    (OPTIONS in, rewrite, 200 back) with no script, an empty request
#    hook, and the example policy etc/edge.lua; and the connection-out
#    event per outbound TLS connection. Exact to a few ns.
# 2. A real siptlsd (one worker, relay to bench/echo_backend over UDP)
#    under bench/loadgen persistent (TLS 1.3, client certificate alice,
#    SNI sip.example.test): server CPU per transaction from /proc with
#    the same three configurations, REPS runs each, interleaved; the
#    median. On a shared machine these move by more than the hook costs:
#    read them as "no visible change", the in-process numbers as the cost.
#
# Environment: N (in-process transactions per run, default 100000), REPS
# (default 5), DUR (seconds per loadgen run, default 3), PORT (default
# 22100; uses PORT..PORT+1), SYSTEM=0 to skip part 2. Every process
# started here is stopped by PID; every run is bounded.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build-release}" && pwd) || exit 2
for b in bench/script_cost siptlsd bench/loadgen bench/echo_backend; do
	[ -x "$BUILD/$b" ] || { echo "script_bench: $BUILD/$b not built" >&2; exit 2; }
done
N=${N:-100000} REPS=${REPS:-5} DUR=${DUR:-3} PORT=${PORT:-22100}
T=$(mktemp -d /tmp/stls-script-bench.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$SRC/tests/certs/mkcerts.sh" "$T/certs" >/dev/null || exit 1
C=$T/certs

echo "== in-process: bench/script_cost $N x $REPS"
timeout 600 "$BUILD/bench/script_cost" "$C" "$SRC/etc/edge.lua" "$N" "$REPS" \
	2>/dev/null | tee "$T/cost.out"

# Lua 5.4 against LuaJIT (docs/scripting.md), when they are installed
# (Debian: lua5.4, luajit). LuaJIT with its JIT never ends the loop
# under the count hook: the timeout stops it.
for vm in lua5.4 "luajit -joff" luajit; do
	command -v "${vm%% *}" >/dev/null || continue
	echo
	echo "== $vm bench/lua_vm_compare.lua"
	timeout 10 $vm "$SRC/bench/lua_vm_compare.lua" ||
		echo "(stopped by the 10 s timeout: the count hook never fired)"
done
[ "${SYSTEM:-1}" = 1 ] || exit 0

echo
echo "== siptlsd under loadgen persistent (1 worker, $REPS x ${DUR}s each)"
ECHO=$((PORT + 1))
"$BUILD/bench/echo_backend" --udp "127.0.0.1:$ECHO" --duration 3600 \
	2>"$T/echo.log" &
PIDS+=($!)
cp "$SRC/etc/edge.lua" "$T/edge.lua"
printf 'function ksr_request_route() end\n' >"$T/empty.lua"

conf() { # conf NAME SCRIPT_LINES
	cat >"$T/$1.cfg" <<CFG
[core]
listen = tls:127.0.0.1:$PORT
backend = udp:127.0.0.1:$ECHO
rpc_socket = $T/$1.sock
workers = 1
debug = 1
$2

[tls]
session_cache = 1
xavp_cfg = tls

[server:default]
certificate = $C/server.pem
private_key = $C/server.key
ca_list = $C/ca.pem
verify_certificate = yes
require_certificate = yes
CFG
}
conf none ""
conf empty "script = $T/empty.lua
request_callback = ksr_request_route"
conf example "script = $T/edge.lua
request_callback = ksr_request_route"

wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

run() { # run NAME: one siptlsd, one loadgen run; prints us per op
	local pid out
	"$BUILD/siptlsd" -c "$T/$1.cfg" >"$T/$1.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_port "$PORT"; then
		echo "siptlsd ($1) did not start: $(tail -3 "$T/$1.log")" >&2
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
		return 1
	fi
	out=$(timeout $((DUR + 60)) "$BUILD/bench/loadgen" -m persistent \
		-V 1.3 -t "127.0.0.1:$PORT" --cafile "$C/ca.pem" \
		--sni sip.example.test --cert "$C/client.pem" \
		--key "$C/client.key" -u sip:relay@example.test -c 4 -p 4 \
		-d "$DUR" -T 5 --server-pid "$pid" --label "$1" 2>&1 |
		grep '^RESULT')
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "$out" >>"$T/raw"
	echo "$out" | sed -n 's/.*ops=\([0-9]*\) .*errors=\([0-9]*\).*server_cpu_us_per_op=\([0-9.]*\).*/\3 \1 \2/p'
}

for r in $(seq "$REPS"); do
	for m in none empty example; do
		v=$(run "$m") || exit 1
		echo "$m $v" >>"$T/sys"
		echo "  run $r $m: ${v:-no result} (us/op ops errors)"
	done
done
echo
echo "| configuration | server CPU us per transaction (median of $REPS) | errors |"
echo "|---|---|---|"
for m in none empty example; do
	med=$(awk -v m="$m" '$1 == m { print $2 }' "$T/sys" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	err=$(awk -v m="$m" '$1 == m { e += $4 } END { print e + 0 }' "$T/sys")
	case $m in
	none) l="no script" ;; empty) l="empty hook" ;; example) l="example policy (etc/edge.lua)" ;;
	esac
	echo "| $l | $med | $err |"
done
