#!/usr/bin/env bash
# bench/overload.sh BUILD_DIR: do the phones already connected keep being
# served while a storm of new handshakes arrives? (issue 19: their p99
# within 2x of the unloaded value.) docs/performance.md "Overload".
#
# One siptlsd in front of bench/sip_proxy (workers = OV_WORKERS, default
# 2; auto counts the CPUs it may run on, so 1 when pinned to one CPU
# with OV_EDGE_CPUS). For each config
# (default limits; max_handshakes_in_flight = 0, the behaviour before):
#   quiet  OV_PHONES (500) registered phones, OV_CALLS (20) calls/s,
#          REGISTER and keep-alive every 10 s, for OV_BUSY (40) s: the
#          latency per relayed message;
#   storm  the same, and OV_STORM (10000) new phones connecting at once
#          8 s into it (a second scenario process).
# OV_CONFIGS: "NAME|[core] line;NAME|line..." (default: the defaults, and
# max_handshakes_in_flight = 0). OV_STORM_NICE=N runs the storm's driver
# at nice N (its phones' handshakes then take the CPU the rest leaves, as
# phones on other hosts would; the default 0 makes them compete).
# OV_STAY (default OV_BUSY): the storm's phones stay connected that long
# after registering, so that their leaving all at once (a disconnect
# storm, measured on its own with OV_STAY=0) falls after the window.
# OV_EDGE_CPUS / OV_STORM_CPUS (taskset lists, e.g. 0 and 1): pin
# siptlsd, sip_proxy and the measuring driver to the first, the storm's
# driver to the second, so that the storm's client handshakes (and, on
# loopback, the kernel's receive work for what the storm sends, done on
# the sender's CPU) stay off the edge's CPU, as a storm from other hosts
# would; the quiet run is pinned alike, so the ratio compares like with
# like on half the machine. OV_PEER_CPUS (e.g. 1) pins the backend and
# the measuring driver apart from the edge instead: with OV_EDGE_CPUS=0
# the edge then has its CPU to itself, as on a host of its own (give the
# storm's driver OV_STORM_NICE=19 there, so that it takes only the CPU
# they leave, as phones on other hosts would).
# The latency figures: at arrival (the kernel's stamp in the receiving
# phone's socket: the edge's and the backend's time) and at read (the
# measuring driver's own delay added); sip_proxy's own dwell is noted.
# OV_SERVER_KEY: the edge's key: "ec" (P-256, the default) or rsa:BITS
# (a self-signed RSA certificate made here; the phones do not verify).
# An RSA signature costs the edge far more than its check costs the
# storm's driver, so with rsa:3072 one CPU of driver offers the edge
# more handshakes than it can serve: a storm above capacity. Such a
# storm lasts 25 to 30 s here: give it OV_BUSY=60 (the storm's bound is
# OV_BUSY less 10 s).
# OV_CAPACITY=1 first runs the storm alone (no measuring phones) and
# notes the edge's capacity (phones / time until all registered) and the
# rate the storm's driver can offer (phones / its own CPU seconds), and
# their ratio; that rate means something only with OV_STORM_CPUS, when
# the driver has a CPU of its own.
# OV_STORM_RATE=R: the storm's phones connect R a second instead of all
# at once (the driver's --rate; the OV_CAPACITY run still connects
# them at once): a storm at a stated multiple of the
# capacity that OV_CAPACITY measured, e.g. twice it, as issue 19 asks.
# OV_BACKEND_RT=P runs the backend (sip_proxy) under SCHED_FIFO priority
# P (chrt; root): it then takes the CPU the moment a datagram wakes it,
# as a backend on a host of its own would, instead of waiting behind the
# edge's handshakes on a shared CPU (its dwell is noted either way). The
# quiet run gets the same, so the ratio still compares like with like.
# OV_SCHED=S: perf sched for S seconds from the storm's start, summed up
# per program (bench/sched_delay.py: wake-up delays, run times).
# Output: the scenario lines and a summary; RESULT lines in
# bench/results/OVERLOAD.raw with the load average. Bounded in time;
# every process stopped by PID.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/bench/scenario" ]; then
	echo "usage: bench/overload.sh BUILD_DIR" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$BUILD/bench
PHONES=${OV_PHONES:-500}
CALLS=${OV_CALLS:-20}
BUSY=${OV_BUSY:-40}
STORM=${OV_STORM:-10000}
PORT=${OV_PORT:-25700}
. "$SRC/bench/procs.sh"
bench_scratch stls-ovl OVERLOAD.raw append
ulimit -n "$(ulimit -Hn)" 2>/dev/null
bash "$SRC/tests/certs/mkcerts.sh" "$T/certs" >/dev/null || exit 1
CERT=$T/certs/server.pem
KEY=$T/certs/server.key
case ${OV_SERVER_KEY:-ec} in
ec) ;;
rsa:[1-9][0-9][0-9][0-9] | rsa:[1-9][0-9][0-9][0-9][0-9])
	CERT=$T/edge.pem
	KEY=$T/edge.key
	openssl req -x509 -newkey "$OV_SERVER_KEY" -nodes -days 30 \
		-subj "/CN=sip.example.test" -keyout "$KEY" -out "$CERT" 2>/dev/null || exit 1
	;;
*)
	echo "OV_SERVER_KEY: ec or rsa:BITS, not $OV_SERVER_KEY" >&2
	exit 2
	;;
esac
EDGE_PIN=()
STORM_PIN=()
[ -n "${OV_EDGE_CPUS:-}" ] && EDGE_PIN=(taskset -c "$OV_EDGE_CPUS")
[ -n "${OV_STORM_CPUS:-}" ] && STORM_PIN=(taskset -c "$OV_STORM_CPUS")
# The backend and the measuring phones: with the edge unless OV_PEER_CPUS.
PEER_PIN=("${EDGE_PIN[@]}")
[ -n "${OV_PEER_CPUS:-}" ] && PEER_PIN=(taskset -c "$OV_PEER_CPUS")
BE_PRIO=()
[ -n "${OV_BACKEND_RT:-}" ] && BE_PRIO=(chrt -f "$OV_BACKEND_RT")

# one NAME CORE_LINE STORM: STORM 0 the measuring phones alone, 1 with
# the storm, 2 the storm alone (the capacity run)
one() {
	local name=$1 extra=$2 storm=$3 dp pp sp=
	"${PEER_PIN[@]}" "${BE_PRIO[@]}" "$BIN/sip_proxy" --udp "127.0.0.1:$PORT" --max-bindings $((STORM + PHONES + 100)) \
		--duration 600 2>"$T/p.log" &
	pp=$!
	PIDS=("$pp")
	cat >"$T/s.conf" <<EOF2
[core]
listen = tls:127.0.0.1:$((PORT + 1))
backend = udp:127.0.0.1:$PORT
workers = ${OV_WORKERS:-2}
max_connections = $((STORM + PHONES + 1000))
$extra
[server:default]
certificate = $CERT
private_key = $KEY
verify_certificate = no
EOF2
	"${EDGE_PIN[@]}" "$BUILD/siptlsd" -c "$T/s.conf" 2>"$T/d.log" &
	dp=$!
	PIDS+=("$dp")
	wait_port $((PORT + 1)) || { echo "siptlsd did not start" >&2; return 1; }
	local l mp=
	l=$(load)
	if [ "$storm" != 2 ]; then
		timeout $((BUSY + 120)) "${PEER_PIN[@]}" "$BIN/scenario" -t "127.0.0.1:$((PORT + 1))" \
			-n "$PHONES" --busy "$BUSY" --calls "$CALLS" --reg-interval 10 \
			--ka-interval 10 --server-pid "$dp" --label "$name" >"$T/m.out" 2>&1 &
		mp=$!
	fi
	if [ "$storm" != 0 ]; then
		[ "$storm" = 2 ] || sleep 8
		# The capacity run (2) always connects at once.
		local rate=()
		[ "$storm" = 1 ] && [ -n "${OV_STORM_RATE:-}" ] && rate=(--rate "$OV_STORM_RATE")
		timeout $((BUSY + 60 + ${OV_STAY:-$BUSY})) "${STORM_PIN[@]}" nice -n "${OV_STORM_NICE:-0}" "$BIN/scenario" -t "127.0.0.1:$((PORT + 1))" \
			-n "$STORM" --storm-timeout $((BUSY - 10)) --prefix s --label "$name-storm" \
			"${rate[@]}" \
			--stay "$([ "$storm" = 2 ] && echo 0 || echo "${OV_STAY:-$BUSY}")" \
			>"$T/s.out" 2>&1 &
		sp=$!
	fi
	if [ "$storm" = 1 ] && [ -n "${OV_SCHED:-}" ] && command -v perf >/dev/null; then
		# Where the time goes while the storm lasts.
		timeout $((OV_SCHED + 30)) perf sched record -q -o "$T/sched.data" \
			-- sleep "$OV_SCHED" >/dev/null 2>&1
	fi
	[ -n "$mp" ] && wait "$mp"
	[ -n "$sp" ] && wait "$sp"
	if [ -s "$T/sched.data" ]; then
		perf sched timehist -i "$T/sched.data" >"$T/sched.txt" 2>/dev/null
		python3 "$SRC/bench/sched_delay.py" sched "$T/sched.txt" \
			'stls-w*' 'stls-hs*' siptlsd sip_proxy scenario ksoftirqd/0 ksoftirqd/1 | sed "s|^NOTE |NOTE $name |" |
			tee -a "$RAW" >&2
		rm -f "$T/sched.data" "$T/sched.txt"
	fi
	local outs=()
	[ -n "$mp" ] && outs+=("$T/m.out")
	[ -n "$sp" ] && outs+=("$T/s.out")
	cat "${outs[@]}" | grep -v '^RESULT' >&2
	grep -h '^RESULT' "${outs[@]}" | sed "s|\$| load_start=$l|" >>"$RAW"
	if [ "$storm" = 2 ]; then
		grep -h '^RESULT' "$T/s.out" | awk -v n="$name" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			if (v["t_all_s"] > 0 && v["client_cpu_s"] > 0)
				printf "NOTE %s capacity %.0f handshakes/s (%s phones in %s s), driver can offer %.0f/s (%s s of its CPU): offered/capacity %.2f\n",
					n, v["registered"] / v["t_all_s"], v["registered"], v["t_all_s"],
					v["registered"] / v["client_cpu_s"], v["client_cpu_s"], v["t_all_s"] / v["client_cpu_s"] }' |
			tee -a "$RAW" >&2
	fi
	# The shedding, counted: SIGUSR1 logs the counters, the total last.
	kill -USR1 "$dp" 2>/dev/null
	sleep 0.5
	grep 'stats: total:' "$T/d.log" | tail -1 | awk -v n="$name" '{ s = ""
		for (i = 1; i <= NF; i++)
			if ($i ~ /^(handshake_limit_pauses|shed_handshakes|handshake_steps_offloaded|handshake_flights_direct|closed_[a-z_]+)=/)
				s = s " " $i
		if (s != "") print "NOTE " n " counters" s }' | tee -a "$RAW" >&2
	echo "NOTE $name workers=$(ps -L -o comm= -p "$dp" | grep -c '^stls-w') handshake_threads=$(ps -L -o comm= -p "$dp" | grep -c '^stls-hs')" >>"$RAW"
	stop_tree "$dp"
	stop_tree "$pp"
	grep -h '^sip_proxy: dwell' "$T/p.log" | sed "s|^sip_proxy: |NOTE $name backend |" |
		tee -a "$RAW" >&2
	PIDS=()
	sleep 2
}

IFS=';' read -r -a CFGS <<<"${OV_CONFIGS:-default|;nolimit|max_handshakes_in_flight = 0}"
for cfg in "${CFGS[@]}"; do
	name=${cfg%%|*}
	extra=${cfg#*|}
	if [ -n "${OV_CAPACITY:-}" ]; then
		echo "=== $name: the storm alone (capacity)" >&2
		one "$name-capacity" "$extra" 2
	fi
	if [ -z "${OV_NO_QUIET:-}" ]; then
		echo "=== $name: quiet" >&2
		one "$name-quiet" "$extra" 0
	fi
	echo "=== $name: storm of $STORM" >&2
	one "$name-storm" "$extra" 1
done
echo
grep '/busy' "$RAW" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "%-22s at arrival p50 %s ms  p99 %s ms  p999 %s ms;  at read p50 %s ms  p99 %s ms  p999 %s ms;  lost %s  server CPU %s %%  load %s\n", v["label"], v["arr_p50_ms"], v["arr_p99_ms"], v["arr_p999_ms"], v["p50_ms"], v["p99_ms"], v["p999_ms"], v["lost"], v["cpu_pct"], v["load_start"] }'
grep -- '-storm-storm/storm' "$RAW" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "%-22s storm: %s of %s registered in %s s, %s failed\n", v["label"], v["registered"], v["phones"], v["t_all_s"], v["failed"] }'
