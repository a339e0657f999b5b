#!/usr/bin/env bash
# bench/source_flood.sh BUILD_DIR: does a flood from one source address
# slow the others? (issue 19, per-source limits; docs/performance.md
# "Per-source limits: a flood beside a well-behaved source".)
#
# One siptlsd (2 workers, echo_backend behind it). A well-behaved source,
# 127.0.0.3, does SF_RATE_OK (10) full TLS 1.3 handshakes a second, SF_CONC
# (2) at most at once, for SF_SECS (20) s: its handshake latency p50/p99
# (connect to handshake done) is the figure. Three runs:
#   alone       the well-behaved source only, limits on;
#   flood       and 127.0.0.2 flooding (SF_FLOOD_CONC (64) connections
#               at once, each a new handshake as soon as the last ended or
#               was refused), limits on;
#   flood, no limits  the same flood with both limits at 0.
# Limits on: source_handshake_rate = SF_LIMIT_RATE (50),
# source_max_connections = SF_LIMIT_CONNS (32).
# Output: a table side by side (also in bench/results/SOURCE_FLOOD.md) with
# the flood's completed and refused handshakes, the server's refusals
# (refused_source_rate / _connections, from its exit counters) and its
# CPU, and the load average at the start of each run. Every process is
# stopped by PID; every run is bounded in time and count.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/bench/loadgen" ]; then
	echo "usage: bench/source_flood.sh BUILD_DIR" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/bench
SECS=${SF_SECS:-20}
RATE_OK=${SF_RATE_OK:-10}
CONC=${SF_CONC:-2}
FLOOD_CONC=${SF_FLOOD_CONC:-64}
LIM_RATE=${SF_LIMIT_RATE:-50}
LIM_CONNS=${SF_LIMIT_CONNS:-32}
PORT=${SF_PORT:-25800}
T=$(mktemp -d /tmp/stls-sflood.XXXXXX)
PIDS=()
. "$SRC/bench/procs.sh"
cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop_tree "$p"; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bash "$SRC/tests/certs/mkcerts.sh" "$T/certs" >/dev/null || exit 1
load() { cut -d" " -f1-3 /proc/loadavg | tr " " "/"; }
kv() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

# one NAME FLOOD(0|1) RATE CONNS: prints a table row.
one() {
	local name=$1 flood=$2 rate=$3 conns=$4 bp dp fp= l cpu0 cpu1
	"$BIN/echo_backend" --udp "127.0.0.1:$PORT" --duration $((SECS + 60)) \
		2>/dev/null &
	bp=$!
	PIDS=("$bp")
	cat >"$T/s.conf" <<EOF
[core]
listen = tls:127.0.0.1:$((PORT + 1))
backend = udp:127.0.0.1:$PORT
workers = 2
source_handshake_rate = $rate
source_max_connections = $conns
[server:default]
certificate = $T/certs/server.pem
private_key = $T/certs/server.key
verify_certificate = no
EOF
	"$BUILD/siptlsd" -c "$T/s.conf" 2>"$T/d.log" &
	dp=$!
	PIDS+=("$dp")
	wait_port $((PORT + 1)) || { echo "siptlsd did not start" >&2; return 1; }
	sleep 1
	l=$(load)
	cpu0=$(awk '{print $14 + $15}' "/proc/$dp/stat")
	if [ "$flood" = 1 ]; then
		timeout $((SECS + 30)) "$BIN/loadgen" -m handshake \
			-t "127.0.0.1:$((PORT + 1))" --no-verify --source 127.0.0.2 \
			-c "$FLOOD_CONC" -d $((SECS + 2)) -n 5000000 -T 5 \
			--label flood >"$T/f.out" 2>&1 &
		fp=$!
		PIDS+=("$fp")
		sleep 1
	fi
	timeout $((SECS + 30)) "$BIN/loadgen" -m handshake \
		-t "127.0.0.1:$((PORT + 1))" --no-verify --source 127.0.0.3 \
		-c "$CONC" -r "$RATE_OK" -d "$SECS" -T 10 --label ok \
		>"$T/m.out" 2>&1
	[ -n "$fp" ] && wait "$fp"
	cpu1=$(awk '{print $14 + $15}' "/proc/$dp/stat")
	stop_tree "$dp"
	stop_tree "$bp"
	PIDS=()
	local m f=() r_rate r_conns
	m=$(grep '^RESULT' "$T/m.out")
	[ -n "$m" ] || { echo "$name: no result: $(cat "$T/m.out")" >&2; return 1; }
	if [ -n "$fp" ]; then
		f=$(grep '^RESULT' "$T/f.out")
	fi
	r_rate=$(grep -o 'refused_source_rate=[0-9]*' "$T/d.log" | tail -1 | cut -d= -f2)
	r_conns=$(grep -o 'refused_source_connections=[0-9]*' "$T/d.log" | tail -1 | cut -d= -f2)
	printf '| %s | %s | %s | %s ms | %s ms | %s | %s | %s / %s | %.1f %% | %s |\n' \
		"$name" "$(echo "$m" | kv ops)" "$(echo "$m" | kv errors)" \
		"$(echo "$m" | kv p50_ms)" "$(echo "$m" | kv p99_ms)" \
		"${f:+$(echo "$f" | kv ops)}" "${f:+$(echo "$f" | kv errors)}" \
		"${r_rate:-?}" "${r_conns:-?}" \
		"$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" -v s="$SECS" \
			'BEGIN { print (b - a) * 100 / hz / (s + 1) }')" "$l"
	sleep 1
}

{
	echo "Well-behaved source 127.0.0.3: $RATE_OK handshakes/s, $CONC at once, $SECS s; flood from 127.0.0.2: $FLOOD_CONC at once; limits: source_handshake_rate = $LIM_RATE, source_max_connections = $LIM_CONNS."
	echo
	echo "| run | 127.0.0.3 handshakes | its errors | its p50 | its p99 | flood handshakes done | flood refused or failed | server refusals (rate / connections) | server CPU | load (start) |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
	one "alone, limits on" 0 "$LIM_RATE" "$LIM_CONNS"
	one "flood, limits on" 1 "$LIM_RATE" "$LIM_CONNS"
	one "flood, no limits" 1 0 0
} | tee "$T/table"
mkdir -p "$SRC/bench/results"
cp "$T/table" "$SRC/bench/results/SOURCE_FLOOD.md"
