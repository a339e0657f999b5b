#!/usr/bin/env bash
# bench/scenario.sh BUILD_DIR: the operator scenarios (reconnect storm,
# busy hour) against each TLS edge, side by side (docs/performance.md).
#
# Systems (SCN_SYSTEMS, default "siptlsd kamailio-fix haproxy"):
#   siptlsd       the relay, workers 2, in front of bench/sip_proxy (UDP
#                 registrar and stateless proxy);
#   siptlsd-nolimit  the same with max_handshakes_in_flight = 0 (no accept
#                 back-pressure: how siptlsd behaved before issue 19);
#   kamailio-fix  Kamailio 5.6 (Debian) as the TLS edge: tls, path
#                 (add_path_received on REGISTER), rr, stateless forward()
#                 to the same sip_proxy and, for requests coming back, to
#                 the phone's flow through the Path's received; 2 TCP
#                 children; bench/kam_forkfix.so preloaded (the "fork fix":
#                 without it Kamailio corrupts its shared memory under
#                 handshake load, see compare.sh);
#   kamailio      the same without the fix (expect failures);
#   haproxy       mode tcp, nbthread 2, in front of bench/echo_backend's
#                 TCP port (which answers REGISTER 200): the storm only. A
#                 blind terminator cannot take requests from the backend
#                 to a phone, so the busy hour does not apply.
#
# Where a relayed message waits (siptlsd): SCN_SCHED=S records `perf
# sched` for S seconds of the busy hour and adds the scheduling delay
# (wake-up to a CPU) of siptlsd, sip_proxy and the driver; siptlsd's
# metrics are scraped before and after the busy hour for its in-process
# relay latency (bench/sched_delay.py). SCN_PERF=S records siptlsd with
# `perf record --call-graph dwarf` for S seconds of the busy hour into
# SCN_PERF_OUT (a path; default a temporary file, removed). The driver itself reports each
# message's latency at arrival (the kernel's stamp in the receiving
# phone's socket) and at read, and sip_proxy its own dwell.
#
# Environment: SCN_PHONES (10000), SCN_BUSY seconds (60; 0 skips it),
# SCN_CALLS per second (50), SCN_REPS storms per system (1), SCN_RATE
# (0: the storm, every phone at once; R: phones connect R a second, a
# ramp, to bring every edge to the same phone count for the busy hour),
# SCN_PORT
# (25600, uses the next 20), SCN_OUT (SCENARIO). Output:
# bench/results/$SCN_OUT.md (also printed) and the RESULT lines in
# bench/results/$SCN_OUT.raw, each with
# the load average when it started (a shared machine is noisy: rerun on
# a quiet one). Every process started here is stopped by PID; every phase
# is bounded in time.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/bench/scenario" ]; then
	echo "usage: bench/scenario.sh BUILD_DIR (with BUILD_DIR/bench/scenario)" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/bench
N=${SCN_PHONES:-10000}
BUSY=${SCN_BUSY:-60}
CALLS=${SCN_CALLS:-50}
REPS=${SCN_REPS:-1}
RATE=${SCN_RATE:-0}
PORT=${SCN_PORT:-25600}
SYSTEMS=${SCN_SYSTEMS:-siptlsd kamailio-fix haproxy}
OUT=$SRC/bench/results
NAME=${SCN_OUT:-SCENARIO}
KAM_MODULES=/usr/lib/x86_64-linux-gnu/kamailio/modules
T=$(mktemp -d /tmp/stls-scn.XXXXXX)
RAW=$T/raw
PIDS=()
PROXY_PID=
: >"$RAW"

. "$SRC/bench/procs.sh"

log() { echo "scenario: $*" >&2; }

stop_all() {
	local p
	for p in "${PIDS[@]}"; do
		stop_tree "$p"
	done
	PIDS=()
}

cleanup() {
	stop_all
	mkdir -p "$OUT"
	[ -s "$RAW" ] && cp "$RAW" "$OUT/$NAME.raw"
	[ -n "${SCN_KEEP:-}" ] && echo "scenario: kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# 10,000 phones: one descriptor each in the driver, one (siptlsd,
# Kamailio) or two (HAProxy) in the edge.
ulimit -Hn 65536 2>/dev/null
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
if [ "$NOFILE" -lt $((N + 200)) ]; then
	N=$((NOFILE - 200))
	log "open files limited to $NOFILE: $N phones"
fi

bash "$SRC/tests/certs/mkcerts.sh" "$T/certs" >/dev/null || exit 1
C=$T/certs
cat "$C/server.pem" "$C/server.key" >"$C/haproxy.pem"
BE=$PORT          # sip_proxy (UDP)
ECHO=$((PORT + 1)) # echo_backend (TCP), for HAProxy
EDGE=$((PORT + 2)) # the edge's TLS port
KUDP=$((PORT + 3)) # Kamailio's UDP side
MET=$((PORT + 4))  # siptlsd's metrics

# run SYS PID BUSY [PHONES]: the storm (SCN_REPS times, a fresh edge each time is the
# caller's job) and the busy hour, RESULT lines kept.
run() {
	local sys=$1 pid=$2 busy=$3 n=${4:-$N} l dp i ramp=0
	l=$(load)
	# SCN_RATE: the ramp's seconds on top of the storm's bound.
	[ "$RATE" != 0 ] && ramp=$(awk -v n="$n" -v r="$RATE" 'BEGIN { printf "%d", n / r + 1 }')
	timeout $((BUSY + 200 + ramp)) "$BIN/scenario" -t "127.0.0.1:$EDGE" -n "$n" \
		--storm-timeout $((90 + ramp)) --rate "$RATE" --busy "$busy" --calls "$CALLS" \
		--server-pid "$pid" --label "$sys" >"$T/out" 2>&1 &
	dp=$!
	if [ "$busy" != 0 ] && [ "$sys" = siptlsd ]; then
		# The busy hour starts right after the storm's line.
		for i in $(seq 1200); do
			grep -q '^storm:' "$T/out" 2>/dev/null && break
			kill -0 "$dp" 2>/dev/null || break
			sleep 0.1
		done
		scrape "$T/m0"
		# sip_proxy's dwell: the busy hour's datagrams only.
		[ -n "$PROXY_PID" ] && kill -USR1 "$PROXY_PID" 2>/dev/null
		if [ -n "${SCN_PERF:-}" ] && command -v perf >/dev/null; then
			sleep 2
			timeout $((SCN_PERF + 60)) perf record -q -F 499 \
				--call-graph dwarf,16384 -p "$pid" \
				-o "${SCN_PERF_OUT:-$T/perf.data}" -- sleep "$SCN_PERF" \
				>/dev/null 2>&1
		fi
		if [ -n "${SCN_SCHED:-}" ] && command -v perf >/dev/null; then
			sleep 2
			timeout $((SCN_SCHED + 30)) perf sched record -q \
				-o "$T/sched.data" -- sleep "$SCN_SCHED" \
				>/dev/null 2>&1
		fi
	fi
	wait "$dp"
	if [ -s "$T/m0" ]; then
		scrape "$T/m1"
		python3 "$SRC/bench/sched_delay.py" histo "$T/m0" "$T/m1" \
			siptls_relay_latency_seconds >>"$RAW"
		rm -f "$T/m0" "$T/m1"
	fi
	if [ -s "$T/sched.data" ]; then
		perf sched timehist -i "$T/sched.data" >"$T/sched.txt" 2>/dev/null
		python3 "$SRC/bench/sched_delay.py" sched "$T/sched.txt" \
			'stls-w*' 'stls-hs*' siptlsd sip_proxy scenario >>"$RAW"
		rm -f "$T/sched.data" "$T/sched.txt"
	fi
	sed -n '/^RESULT/!p' "$T/out" >&2
	grep '^RESULT' "$T/out" | sed "s|\$| load_start=$l load_end=$(load)|" \
		>>"$RAW"
	kill -0 "$pid" 2>/dev/null ||
		echo "NOTE $sys: the edge died during the run" >>"$RAW"
}

# scrape FILE: siptlsd's /metrics (empty when it does not answer).
scrape() {
	curl -s -m 5 "http://127.0.0.1:$MET/metrics" >"$1" 2>/dev/null || : >"$1"
}

start_proxy() {
	"$BIN/sip_proxy" --udp "127.0.0.1:$BE" --max-bindings $((N + 100)) \
		--duration 3600 2>"$T/proxy.log" &
	PROXY_PID=$!
	PIDS+=($!)
}

# sys_siptlsd BUSY NAME [CORE LINES]
sys_siptlsd() {
	local pid name=${2:-siptlsd}
	start_proxy
	cat >"$T/siptlsd.conf" <<EOF
[core]
listen = tls:127.0.0.1:$EDGE
backend = udp:127.0.0.1:$BE
workers = 2
max_connections = $((N + 1000))
metrics = 127.0.0.1:$MET
${3:-}
[tls]
connection_timeout = 3600
[server:default]
certificate = $C/server.pem
private_key = $C/server.key
verify_certificate = no
require_certificate = no
EOF
	"$BUILD/siptlsd" -c "$T/siptlsd.conf" 2>"$T/siptlsd.log" &
	pid=$!
	PIDS+=("$pid")
	wait_port "$EDGE" || { log "$name did not start"; return 1; }
	echo "NOTE $name: version=$("$BUILD/siptlsd" --version | awk '{print $2}') workers=2 backend=sip_proxy(udp) ${3:-}" >>"$RAW"
	run "$name" "$pid" "$1"
}

kam_cfg() {
	mkdir -p "$T/kam"
	cat >"$T/kam/tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
certificate = $C/server.pem
private_key = $C/server.key
verify_certificate = no
require_certificate = no

[client:default]
method = TLSv1.2+
verify_certificate = no
EOF
	cat >"$T/kam/kamailio.cfg" <<EOF
#!KAMAILIO
debug=${SCN_KAM_DEBUG:-1}
log_stderror=yes
children=2
tcp_children=2
enable_tls=yes
tcp_max_connections=$((N + 1000))
tls_max_connections=$((N + 1000))
tcp_connection_lifetime=3605
open_files_limit=$((N + 2000 < NOFILE ? N + 2000 : NOFILE))
listen=tls:127.0.0.1:$EDGE
listen=udp:127.0.0.1:$KUDP
mpath="$KAM_MODULES/"
loadmodule "tls.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "path.so"
modparam("tls", "config", "$T/kam/tls.cfg")
modparam("path", "use_received", 1)
request_route {
	if (src_ip == 127.0.0.1 && src_port == $BE) {
		# From the backend: along the Path to the phone's connection
		# (loose_route() sets the destination from the Path's
		# received; its result is false for a Route preloaded to us).
		loose_route();
		forward();
		exit;
	}
	if (method == "REGISTER") {
		add_path_received();
	} else if (method == "INVITE") {
		record_route();
	}
	forward_udp("127.0.0.1", $BE);
}
EOF
}

sys_kam() {
	local name=$1 pre=$2 busy=$3 pid
	command -v kamailio >/dev/null && [ -f "$KAM_MODULES/tls.so" ] ||
		{ echo "NOTE $name: kamailio or kamailio-tls-modules not installed" >>"$RAW"; return 1; }
	start_proxy
	kam_cfg
	LD_PRELOAD=$pre kamailio -f "$T/kam/kamailio.cfg" -DD -E -m 4096 \
		-M 32 >"$T/$name.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_port "$EDGE" || { log "$name did not start: $(grep -m3 -i error "$T/$name.log")"; return 1; }
	echo "NOTE $name: version=$(kamailio -v | awk '/^version/ {print $3; exit}') tcp_children=2 preload=${pre:-none} backend=sip_proxy(udp)" >>"$RAW"
	run "$name" "$pid" "$busy"
	echo "NOTE $name: double_frees=$(grep -c 'freeing already freed' "$T/$name.log") child_signals=$(grep -c 'exited by a signal' "$T/$name.log")" >>"$RAW"
}

sys_haproxy() {
	# Two descriptors per phone (the phone's and the backend's side).
	local pid nh=$(((NOFILE - 300) / 2 < N ? (NOFILE - 300) / 2 : N))
	command -v haproxy >/dev/null || { echo "NOTE haproxy: not installed" >>"$RAW"; return 1; }
	"$BIN/echo_backend" --tcp "127.0.0.1:$ECHO" --duration 3600 \
		2>"$T/echo.log" &
	PIDS+=($!)
	cat >"$T/haproxy.cfg" <<EOF
global
	nbthread 2
	maxconn $((nh + 50))
defaults
	mode tcp
	timeout connect 5s
	timeout client 3600s
	timeout server 3600s
frontend sip
	bind 127.0.0.1:$EDGE ssl crt $C/haproxy.pem ssl-min-ver TLSv1.2
	default_backend echo
backend echo
	server echo 127.0.0.1:$ECHO
EOF
	haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_port "$EDGE" || { log "haproxy did not start: $(tail -c 300 "$T/haproxy.log")"; return 1; }
	echo "NOTE haproxy: version=$(haproxy -v | head -1 | awk '{print $3}') nbthread=2 mode=tcp backend=echo_backend(tcp); storm only (a blind terminator cannot route the backend's requests to a phone); $nh phones (2 descriptors each, open files limit $NOFILE)" >>"$RAW"
	run haproxy "$pid" 0 "$nh"
}

for sys in $SYSTEMS; do
	for r in $(seq "$REPS"); do
		# The busy hour once, after the first storm.
		b=0
		[ "$r" = 1 ] && b=$BUSY
		log "=== $sys (storm $r/$REPS, busy ${b}s)"
		case $sys in
		siptlsd) sys_siptlsd "$b" ;;
		siptlsd-nolimit) sys_siptlsd "$b" siptlsd-nolimit \
			"max_handshakes_in_flight = 0" ;;
		kamailio-fix) sys_kam kamailio-fix "$BIN/kam_forkfix.so" "$b" ;;
		kamailio) sys_kam kamailio "" "$b" ;;
		haproxy) sys_haproxy ;;
		*) log "unknown system $sys" ;;
		esac
		stop_all
		# The backend's own part of the latency (sip_proxy's exit line).
		[ -f "$T/proxy.log" ] && grep -h '^sip_proxy: dwell' "$T/proxy.log" |
			sed "s|^sip_proxy: |NOTE $sys backend |" >>"$RAW"
		rm -f "$T/proxy.log"
		sleep 2
	done
done
{
	echo "NOTE machine nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //; s/ /_/g')"
	echo "NOTE openssl=$(openssl version | sed 's/ /_/g')"
	echo "NOTE phones=$N busy_s=$BUSY calls_per_s=$CALLS reps=$REPS nofile=$NOFILE"
} >>"$RAW"
mkdir -p "$OUT"
python3 "$SRC/bench/scenario_table.py" "$RAW" >"$OUT/$NAME.md"
cat "$OUT/$NAME.md"
echo
echo "raw results: $OUT/$NAME.raw"
