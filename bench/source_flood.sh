#!/usr/bin/env bash
# bench/source_flood.sh BUILD_DIR: does a flood from one source address
# slow the others? (issue 19, per-source limits; docs/performance.md
# "Per-source limits: a flood beside a well-behaved source".)
#
# One siptlsd (2 workers, echo_backend behind it). A well-behaved source,
# 127.0.0.3, does SF_RATE_OK (10) full TLS 1.3 handshakes a second, SF_CONC
# (2) at most at once, for SF_SECS (20) s: its handshake latency p50/p99
# (connect to handshake done) is the figure. Four runs:
#   alone       the well-behaved source only, limits on;
#   flood       and 127.0.0.2 flooding (SF_FLOOD_CONC (64) connections
#               at once, each a new handshake as soon as the last ended,
#               was refused or got no answer within SF_FLOOD_TIMEOUT
#               (0.2) s), limits on: refused by accept and reset;
#   flood, filter  the same with source_filter = yes: once refused, the
#               source's SYNs are dropped by the listeners' BPF filter
#               for source_filter_hold (1000) ms at a time;
#   flood, no limits  the same flood with both limits at 0.
# Limits on: source_handshake_rate = SF_LIMIT_RATE (50),
# source_max_connections = SF_LIMIT_CONNS (32).
# Output: a table side by side (also in bench/results/SOURCE_FLOOD.md) with
# the flood's completed handshakes and its attempts that were refused or
# got no answer, the server's refusals (refused_source_rate /
# _connections, from its exit counters), the filter's listings and
# rebuilds, the server's CPU, its CPU per flood attempt over the "alone"
# run (us), and the load average at the start of each run. Every process
# is stopped by PID; every run is bounded in time and count.
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
FLOOD_TIMEOUT=${SF_FLOOD_TIMEOUT:-0.2}
PORT=${SF_PORT:-25800}
. "$SRC/bench/procs.sh"
bench_scratch stls-sflood
bash "$SRC/tests/certs/mkcerts.sh" "$T/certs" >/dev/null || exit 1
kv() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }

# one NAME FLOOD(0|1) RATE CONNS FILTER(yes|no): prints a table row.
ALONE_CPU=
one() {
	local name=$1 flood=$2 rate=$3 conns=$4 filter=$5 bp dp fp= l cpu0 cpu1
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
source_filter = $filter
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
			-c "$FLOOD_CONC" -d $((SECS + 2)) -n 5000000 \
			-T "$FLOOD_TIMEOUT" \
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
	local m f= r_rate r_conns f_listed f_builds ticks per
	m=$(grep '^RESULT' "$T/m.out")
	[ -n "$m" ] || { echo "$name: no result: $(cat "$T/m.out")" >&2; return 1; }
	if [ -n "$fp" ]; then
		f=$(grep '^RESULT' "$T/f.out")
	fi
	r_rate=$(grep -o 'refused_source_rate=[0-9]*' "$T/d.log" | tail -1 | cut -d= -f2)
	r_conns=$(grep -o 'refused_source_connections=[0-9]*' "$T/d.log" | tail -1 | cut -d= -f2)
	f_listed=$(grep -o 'source_filter_listed=[0-9]*' "$T/d.log" | tail -1 | cut -d= -f2)
	f_builds=$(grep -o 'source_filter_rebuilds=[0-9]*' "$T/d.log" | tail -1 | cut -d= -f2)
	ticks=$((cpu1 - cpu0))
	[ "$flood" = 1 ] || ALONE_CPU=$ticks
	per=
	if [ -n "$f" ] && [ -n "$ALONE_CPU" ]; then
		per=$(awk -v t="$ticks" -v a="$ALONE_CPU" -v hz="$(getconf CLK_TCK)" \
			-v n="$(( $(echo "$f" | kv ops) + $(echo "$f" | kv errors) ))" \
			'BEGIN { if (n > 0) printf "%.1f", (t - a) * 1e6 / hz / n }')
	fi
	printf '| %s | %s | %s | %s ms | %s ms | %s | %s | %s / %s | %s / %s | %.1f %% | %s | %s |\n' \
		"$name" "$(echo "$m" | kv ops)" "$(echo "$m" | kv errors)" \
		"$(echo "$m" | kv p50_ms)" "$(echo "$m" | kv p99_ms)" \
		"${f:+$(echo "$f" | kv ops)}" "${f:+$(echo "$f" | kv errors)}" \
		"${r_rate:-?}" "${r_conns:-?}" "${f_listed:-?}" "${f_builds:-?}" \
		"$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" -v s="$SECS" \
			'BEGIN { print (b - a) * 100 / hz / (s + 1) }')" "${per:-}" "$l"
	sleep 1
}

{
	echo "Well-behaved source 127.0.0.3: $RATE_OK handshakes/s, $CONC at once, $SECS s; flood from 127.0.0.2: $FLOOD_CONC at once, ${FLOOD_TIMEOUT} s timeout; limits: source_handshake_rate = $LIM_RATE, source_max_connections = $LIM_CONNS."
	echo
	echo "| run | 127.0.0.3 handshakes | its errors | its p50 | its p99 | flood handshakes done | flood refused or unanswered | server refusals (rate / connections) | filter listings / rebuilds | server CPU | server us per flood attempt | load (start) |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
	one "alone, limits on" 0 "$LIM_RATE" "$LIM_CONNS" no
	one "flood, limits on (accept + reset)" 1 "$LIM_RATE" "$LIM_CONNS" no
	one "flood, limits on + source_filter" 1 "$LIM_RATE" "$LIM_CONNS" yes
	one "flood, no limits" 1 0 0 no
} | tee "$T/table"
mkdir -p "$SRC/bench/results"
cp "$T/table" "$SRC/bench/results/SOURCE_FLOOD.md"
