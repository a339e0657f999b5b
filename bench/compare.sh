#!/usr/bin/env bash
# bench/compare.sh BUILD_DIR: measures the field on this machine in one run.
#
# Systems: HAProxy (mode tcp) and stunnel as blind TLS terminators in front
# of the TCP echo backend; Kamailio 5.6 with TLS answering OPTIONS with
# sl_send_reply and relaying to the UDP echo backend, stock and with
# bench/kam_forkfix.c preloaded; siptlsd when BUILD_DIR/siptlsd runs with
# `-c FILE`; and the OpenSSL floor (hs_floor, openssl speed).
#
# The main metric is server CPU per operation, read from /proc by loadgen
# (--server-pid): it does not depend on how much CPU the shared machine gave
# the server. Each cell is the median of BENCH_REPS runs (default 3).
# Output: bench/results/LATEST.md (also printed) and the raw RESULT lines in
# bench/results/LATEST.raw. Every process started here is stopped by PID on
# exit; every phase is bounded in time.
#
# Environment: BENCH_REPS (3), BENCH_DURATION seconds per run (3),
# BENCH_IDLE connections held (10000), BENCH_CONC (8), BENCH_PORT (25500,
# uses the next 60 ports), BENCH_SYSTEMS (haproxy stunnel kamailio
# kamailio-fix siptlsd), BENCH_FLOOR (1), BENCH_TENANTS (10000 tenants for
# bench/tenants; 0 skips it).
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/bench/loadgen" ]; then
	echo "usage: bench/compare.sh BUILD_DIR (with BUILD_DIR/bench/loadgen)" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/bench
REPS=${BENCH_REPS:-3}
DUR=${BENCH_DURATION:-3}
IDLE_N=${BENCH_IDLE:-10000}
CONC=${BENCH_CONC:-8}
PORT=${BENCH_PORT:-25500}
SYSTEMS=${BENCH_SYSTEMS:-haproxy stunnel kamailio kamailio-fix siptlsd}
OUT=$SRC/bench/results
KAM_MODULES=/usr/lib/x86_64-linux-gnu/kamailio/modules
T=$(mktemp -d /tmp/stls-bench.XXXXXX)
LOAD0=$(cut -d" " -f1-3 /proc/loadavg | tr " " "/")
RAW=$T/raw
PIDS=()
: >"$RAW"

. "$SRC/bench/procs.sh"

log() { echo "compare: $*" >&2; }

stop_all() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	sleep 0.5
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	PIDS=()
}

cleanup() {
	stop_all
	mkdir -p "$OUT"
	[ -s "$RAW" ] && cp "$RAW" "$OUT/LATEST.raw"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Descriptors: 10,000 idle TLS connections through a blind terminator need
# 2 per connection in the server and 1 in loadgen and in the echo backend.
ulimit -Hn 65536 2>/dev/null
ulimit -n 65536 2>/dev/null || ulimit -n 20000 2>/dev/null
NOFILE=$(ulimit -n)
if [ "$NOFILE" -lt $((2 * IDLE_N + 300)) ]; then
	IDLE_N=$(((NOFILE - 300) / 2))
	log "descriptors limited to $NOFILE: holding $IDLE_N idle connections"
fi
IDLE_NOTE="idle: $IDLE_N connections held 5 s (open files limit $NOFILE; a blind terminator needs 2 descriptors per connection)"

# One PKI for everyone.
bash "$SRC/tests/certs/mkcerts.sh" "$T/certs" >/dev/null || exit 1
C=$T/certs
cat "$C/server.pem" "$C/server.key" >"$C/haproxy-ec.pem"
cat "$C/server-rsa.pem" "$C/server-rsa.key" >"$C/haproxy-rsa.pem"

ECHO_PORT=$PORT
"$BIN/echo_backend" --udp "127.0.0.1:$ECHO_PORT" --tcp "127.0.0.1:$ECHO_PORT" \
	--duration 7200 2>"$T/echo.log" &
PIDS+=($!)
wait_port "$ECHO_PORT" || { log "echo backend did not start"; exit 1; }

# lg SYS ROW PID PORT MODE TLS [loadgen options...]: one run, RESULT kept.
# LG_EXTRA: options added to every run (set per system).
LG_EXTRA=()
lg() {
	local sys=$1 row=$2 pid=$3 port=$4 mode=$5 tls=$6
	shift 6
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "RESULT label=$sys/$row ops=0 errors=0 last_error=server_dead" >>"$RAW"
		return
	fi
	timeout $((${DUR%.*} + 60)) "$BIN/loadgen" -m "$mode" -V "$tls" \
		-t "127.0.0.1:$port" --cafile "$C/ca.pem" \
		--sni sip.example.test -d "$DUR" -T 5 --server-pid "$pid" \
		--label "$sys/$row" "${LG_EXTRA[@]}" "$@" >"$T/lg.out" 2>&1
	grep '^RESULT' "$T/lg.out" >>"$RAW" ||
		echo "RESULT label=$sys/$row ops=0 errors=1 last_error=no_output" >>"$RAW"
	head -1 "$T/lg.out" >&2
}

# measure SYS PID EC_PORT RSA_PORT [RELAY_URI]: every mode on one system.
measure() {
	local sys=$1 pid=$2 ec=$3 rsa=$4 relay=${5:-} r
	# Warm-up (caches, lazy initialisation, stunnel's DH parameters).
	"$BIN/loadgen" -m full -t "127.0.0.1:$ec" --no-verify -d 1 -c 2 \
		>/dev/null 2>&1
	for r in $(seq "$REPS"); do
		lg "$sys" hs13ec "$pid" "$ec" handshake 1.3 -c "$CONC"
		lg "$sys" hs12ec "$pid" "$ec" handshake 1.2 -c "$CONC"
		lg "$sys" hs13rsa "$pid" "$rsa" handshake 1.3 -c "$CONC"
		lg "$sys" full13ec "$pid" "$ec" full 1.3 -c "$CONC"
		lg "$sys" res13ec "$pid" "$ec" resume 1.3 -c "$CONC"
		lg "$sys" res12ec "$pid" "$ec" resume 1.2 -c "$CONC"
		lg "$sys" pers13ec "$pid" "$ec" persistent 1.3 -c 10 -p 4
		if [ -n "$relay" ]; then
			lg "$sys-relay" full13ec "$pid" "$ec" full 1.3 \
				-c "$CONC" -u "$relay"
			lg "$sys-relay" pers13ec "$pid" "$ec" persistent 1.3 \
				-c 10 -p 4 -u "$relay"
		fi
		kill -0 "$pid" 2>/dev/null || return 1
	done
	lg "$sys" idle13ec "$pid" "$ec" idle 1.3 -c "$IDLE_N" -P 64 -H 5 \
		-d $((IDLE_N / 100 + 30))
}

. "$SRC/bench/compare_systems.sh"

for sys in $SYSTEMS; do
	log "=== $sys"
	"run_$sys" || log "$sys: incomplete (see the table notes)"
	stop_all_but_echo
done

if [ "${BENCH_FLOOR:-1}" = 1 ]; then
	log "=== floor: hs_floor, openssl speed"
	timeout 600 "$BIN/hs_floor" "$((REPS > 5 ? REPS : 5))" 100 >>"$RAW"
	timeout 120 openssl speed -seconds 2 ecdsap256 ecdhx25519 rsa2048 \
		>"$T/speed.txt" 2>/dev/null
	# Times from the operations per second column (more digits).
	awk '/^rsa 2048 bits/ { printf "RESULT label=speed/rsa2048_sign us=%.1f\n", 1e6 / $6 }
	     /ecdsa \(nistp256\)/ { printf "RESULT label=speed/ecdsap256_sign us=%.1f\n", 1e6 / $7 }
	     /ecdh \(X25519\)/ { printf "RESULT label=speed/x25519_derive us=%.1f\n", 1e6 / $6 }' \
		"$T/speed.txt" >>"$RAW"
fi

# 10,000 tenants: load, reload, --check, memory, handshake cost.
if [ "${BENCH_TENANTS:-10000}" -gt 1 ]; then
	log "=== tenants: ${BENCH_TENANTS:-10000} [server:any] profiles"
	SIPTLSD_ARG=()
	[ -x "$BUILD/siptlsd" ] && SIPTLSD_ARG=(-s "$BUILD/siptlsd")
	timeout 900 "$BIN/tenants" -n "${BENCH_TENANTS:-10000}" -r "$REPS" \
		"${SIPTLSD_ARG[@]}" >"$T/tenants.out" 2>&1 ||
		log "tenants: failed (see the notes)"
	grep '^RESULT' "$T/tenants.out" >>"$RAW"
	grep -v '^RESULT' "$T/tenants.out" >&2
fi

{
	echo "NOTE machine nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //; s/ /_/g')"
	echo "NOTE openssl=$(openssl version | sed 's/ /_/g')"
	echo "NOTE load_start=$LOAD0"
	echo "NOTE load_end=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
	echo "NOTE $IDLE_NOTE"
	echo "NOTE reps=$REPS duration=$DUR conc=$CONC idle=$IDLE_N nofile=$NOFILE"
} >>"$RAW"
cat "$T"/notes.* 2>/dev/null >>"$RAW"
mkdir -p "$OUT"
python3 "$SRC/bench/mktable.py" "$RAW" >"$OUT/LATEST.md"
cat "$OUT/LATEST.md"
echo
echo "raw results: $OUT/LATEST.raw"
