#!/usr/bin/env bash
# What scraping /metrics every second costs siptlsd's workers: the
# handshake bench (loadgen -m handshake, TLS 1.3, full handshakes) and the
# transaction bench (loadgen -m persistent: OPTIONS through the relay to
# the UDP echo backend, 10 connections x 4 in flight) against siptlsd in
# three set-ups, taken in turn REPS times so that drift in the machine's
# load hits each alike:
#   off      no [core] metrics
#   idle     metrics = 127.0.0.1:PORT, nobody scrapes
#   scraped  the same, scraped every second (a curl loop) during the run
# Prints one line per run and a table of medians: operations per second,
# server CPU per operation (loadgen reads siptlsd's /proc: every thread,
# the metrics thread too), latency, the scrapes made and their mean time.
#   bench/metrics_cost.sh BUILD_DIR [REPS] [SECONDS]
# BUILD_DIR holds siptlsd, bench/loadgen and bench/echo_backend (a
# Release build: `make release`). Ports 23100-23103.
set -uo pipefail
B=${1:?usage: bench/metrics_cost.sh BUILD_DIR [REPS] [SECONDS]}
REPS=${2:-3}
DUR=${3:-8}
SRC=$(cd "$(dirname "$0")/.." && pwd)
ECHO=23100 TLS=23101 MET=23102
T=$(mktemp -d /tmp/stls-metrics-cost.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
bash "$SRC/tests/certs/mkcerts.sh" "$T/certs" >/dev/null || exit 1
C=$T/certs
"$B/bench/echo_backend" --udp "127.0.0.1:$ECHO" --tcp "127.0.0.1:$ECHO" \
	--duration 3600 2>"$T/echo.log" &
PIDS+=($!)
wait_port "$ECHO" || { echo "echo backend did not start" >&2; exit 1; }

# conf CASE: siptlsd's configuration for one set-up.
conf() {
	cat >"$T/siptlsd.cfg" <<CFG
[core]
listen = tls:127.0.0.1:$TLS
backend = udp:127.0.0.1:$ECHO
rpc_socket = $T/siptlsd.sock
workers = 2
$([ "$1" = off ] || echo "metrics = 127.0.0.1:$MET")
[tls]
session_cache = 1
[server:default]
certificate = $C/server.pem
private_key = $C/server.key
verify_certificate = no
require_certificate = no
CFG
}

# scraper N: N scrapes, one a second; each time_total into scrapes.txt.
scraper() {
	local i
	for i in $(seq "$1"); do
		curl -s -o /dev/null -w '%{time_total}\n' \
			"http://127.0.0.1:$MET/metrics" >>"$T/scrapes.txt"
		sleep 1
	done
}

RAW=$T/raw.txt
: >"$RAW"
for r in $(seq "$REPS"); do
	for c in off idle scraped; do
		conf "$c"
		"$B/siptlsd" -c "$T/siptlsd.cfg" 2>"$T/siptlsd.log" &
		pid=$!
		wait_port "$TLS" || { echo "siptlsd did not start:" >&2; cat "$T/siptlsd.log" >&2; exit 1; }
		"$B/bench/loadgen" -m full -t "127.0.0.1:$TLS" --no-verify \
			-d 1 -c 2 >/dev/null 2>&1
		for mode in handshake persistent; do
			: >"$T/scrapes.txt"
			spid=
			if [ "$c" = scraped ]; then
				scraper "$((DUR + 1))" &
				spid=$!
			fi
			extra=(-c 4)
			[ "$mode" = persistent ] && extra=(-c 10 -p 4)
			out=$(timeout $((DUR + 60)) "$B/bench/loadgen" -m "$mode" \
				-V 1.3 -t "127.0.0.1:$TLS" --cafile "$C/ca.pem" \
				--sni sip.example.test -d "$DUR" -T 5 \
				--server-pid "$pid" --label "$c/$mode" "${extra[@]}" |
				grep '^RESULT')
			[ -n "$spid" ] && wait "$spid"
			n=$(wc -l <"$T/scrapes.txt")
			ms=$(awk '{s += $1} END {if (NR) printf "%.2f", 1000 * s / NR; else print "-"}' "$T/scrapes.txt")
			echo "$out scrapes=$n scrape_ms=$ms" | tee -a "$RAW"
		done
		kill "$pid"
		wait "$pid"
	done
done
# The scrape alone: siptlsd's CPU (every thread, from /proc) over N
# back-to-back scrapes with no other load, per scrape; and the page size.
conf idle
"$B/siptlsd" -c "$T/siptlsd.cfg" 2>"$T/siptlsd.log" &
pid=$!
wait_port "$MET" || { echo "metrics did not start" >&2; exit 1; }
"$B/bench/loadgen" -m full -t "127.0.0.1:$TLS" --no-verify -d 1 -c 2 \
	>/dev/null 2>&1
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
N=200
c0=$(cpu)
t0=$(date +%s.%N)
for i in $(seq "$N"); do
	curl -s -o "$T/page.txt" "http://127.0.0.1:$MET/metrics"
done
t1=$(date +%s.%N)
c1=$(cpu)
kill "$pid"
wait "$pid"
awk -v c0="$c0" -v c1="$c1" -v n="$N" -v hz="$(getconf CLK_TCK)" \
	-v t0="$t0" -v t1="$t1" -v bytes="$(wc -c <"$T/page.txt")" \
	-v lines="$(grep -vc '^#' "$T/page.txt")" 'BEGIN {
	us = (c1 - c0) / hz * 1e6 / n
	printf "RESULT label=scrape/alone scrapes=%d server_cpu_us_per_scrape=%.0f wall_ms_per_scrape=%.2f page_bytes=%d samples=%d share_of_a_core_at_1_per_s=%.4f%%\n",
		n, us, (t1 - t0) * 1000 / n, bytes, lines, us / 1e6 * 100
}' | tee -a "$RAW"

python3 - "$RAW" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = dict(re.findall(r"(\w+)=(\S+)", line))
    if f["label"] == "scrape/alone":
        continue
    rows.setdefault(f["label"], []).append(f)
def med(rs, k):
    v = [float(r[k]) for r in rs if r.get(k) not in (None, "-")]
    return statistics.median(v) if v else float("nan")
print()
print("| Bench | Set-up | ops/s | server CPU us/op | p50 ms | p99 ms | errors | scrapes/run | scrape ms |")
print("|---|---|---|---|---|---|---|---|---|")
for mode in ("handshake", "persistent"):
    for c in ("off", "idle", "scraped"):
        rs = rows.get("%s/%s" % (c, mode), [])
        if not rs:
            continue
        print("| %s | %s | %.0f | %.1f | %.2f | %.2f | %d | %.0f | %s |" % (
            mode, c, med(rs, "rate"), med(rs, "server_cpu_us_per_op"),
            med(rs, "p50_ms"), med(rs, "p99_ms"),
            sum(int(r.get("errors", 0)) for r in rs), med(rs, "scrapes"),
            "%.2f" % med(rs, "scrape_ms") if c == "scraped" else "-"))
PY
