#!/usr/bin/env bash
# bench/hs_offload.sh BUILD_DIR: does running handshake steps on the
# handshake threads ([core] handshake_threads, docs/daemon.md) cost
# handshake throughput? The make-bench handshake cells (bench/loadgen,
# full handshakes, 8 at once, ECDSA P-256, session cache on) against one
# siptlsd (2 workers, echo handler) per config, the configs alternating
# run by run so that the machine's drift hits both alike.
# HO_CONFIGS: "NAME|[core] line;..." (default: inline with
# handshake_threads = 0, offload with the default); HO_REPS (5) runs of
# HO_DURATION (5) s per config and TLS version; HO_PORT (47300).
# Output: one line per config and version (median handshakes a second,
# server CPU per handshake, p99), the RESULT lines in
# bench/results/HS_OFFLOAD.raw. Every process stopped by PID.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/bench/loadgen" ]; then
	echo "usage: bench/hs_offload.sh BUILD_DIR" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
REPS=${HO_REPS:-5}
DUR=${HO_DURATION:-5}
PORT=${HO_PORT:-47300}
. "$SRC/bench/procs.sh"
bench_scratch stls-hsoff HS_OFFLOAD.raw
bash "$SRC/tests/certs/mkcerts.sh" "$T/certs" >/dev/null || exit 1
IFS=';' read -r -a CFGS <<<"${HO_CONFIGS:-inline|handshake_threads = 0;offload|}"

# run NAME CORE_LINE VERSION: one siptlsd, one loadgen run.
run() {
	local name=$1 extra=$2 ver=$3 dp
	cat >"$T/s.conf" <<EOF2
[core]
listen = tls:127.0.0.1:$PORT
backend = udp:127.0.0.1:9
handler = echo
workers = 2
$extra
[tls]
session_cache = 1
[server:default]
certificate = $T/certs/server.pem
private_key = $T/certs/server.key
verify_certificate = no
require_certificate = no
EOF2
	"$BUILD/siptlsd" -c "$T/s.conf" 2>"$T/d.log" &
	dp=$!
	PIDS=("$dp")
	wait_port "$PORT" || { echo "siptlsd did not start" >&2; cat "$T/d.log" >&2; return 1; }
	"$BUILD/bench/loadgen" -m full -t "127.0.0.1:$PORT" --no-verify -d 1 -c 2 \
		>/dev/null 2>&1
	timeout $((DUR + 60)) "$BUILD/bench/loadgen" -m handshake -V "$ver" \
		-t "127.0.0.1:$PORT" --cafile "$T/certs/ca.pem" \
		--sni sip.example.test -d "$DUR" -T 5 -c 8 --server-pid "$dp" \
		--label "$name/hs${ver/./}" 2>&1 | grep '^RESULT' | tee -a "$RAW" >/dev/null
	stop_tree "$dp"
	PIDS=()
}

for r in $(seq "$REPS"); do
	for cfg in "${CFGS[@]}"; do
		for ver in 1.3 1.2; do
			run "${cfg%%|*}" "${cfg#*|}" "$ver"
		done
	done
done
python3 - "$RAW" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
    rows.setdefault(kv["label"], []).append(kv)
for label, rs in rows.items():
    med = lambda k: statistics.median(float(r[k]) for r in rs)
    print("%-16s %d runs: %7.1f handshakes/s, server CPU %6.1f us/handshake, p99 %6.2f ms, errors %d"
          % (label, len(rs), med("rate"), med("server_cpu_us_per_op"),
             med("p99_ms"), sum(int(r["errors"]) for r in rs)))
PY
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)  nproc: $(nproc)  $(openssl version)"
