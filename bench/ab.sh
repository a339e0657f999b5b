#!/usr/bin/env bash
# bench/ab.sh BASE_SIPTLSD NEW_SIPTLSD [REPS] [MODES...]: an interleaved
# before/after comparison of two siptlsd binaries on this machine. Each
# repetition starts BASE, runs every mode, stops it, then does the same
# with NEW, so both see the same machine load; the table gives the median
# server CPU per operation (loadgen --server-pid) of each. One worker, the
# echo handler (TLS path only, loadgen --echo-ok), session cache on, the
# test PKI. loadgen comes from the build directory next to NEW_SIPTLSD.
#
# Modes: hs13 hs12 rsa13 full13 res12 res13 pers idle (idle: IDLE
# connections, default 10000, held 5 s; memory per connection instead of
# CPU). Environment: DUR (seconds per run, default 3), PORT (default
# 29050; uses PORT and PORT+1), IDLE. Every process started here is
# stopped by PID; every run is bounded by --duration and timeout.
set -uo pipefail
if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
	echo "usage: bench/ab.sh BASE_SIPTLSD NEW_SIPTLSD [REPS] [MODES...]" >&2
	exit 2
fi
BASE=$1 NEW=$2
REPS=${3:-3}
shift $(($# < 3 ? $# : 3))
MODES=("$@")
[ ${#MODES[@]} -eq 0 ] && MODES=(hs13 hs12 rsa13 full13 res12 res13 pers)
SRC=$(cd "$(dirname "$0")/.." && pwd)
LG=$(dirname "$NEW")/bench/loadgen
[ -x "$LG" ] || { echo "ab: $LG not built" >&2; exit 2; }
PORT=${PORT:-29050} DUR=${DUR:-3} IDLE=${IDLE:-10000}
T=$(mktemp -d /tmp/stls-ab.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n 20000 2>/dev/null

bash "$SRC/tests/certs/mkcerts.sh" "$T/certs" >/dev/null || exit 1
cat >"$T/ab.conf" <<EOF
[core]
listen = tls:127.0.0.1:$PORT
listen = tls:127.0.0.1:$((PORT + 1))
backend = udp:127.0.0.1:9
rpc_socket = $T/ab.sock
handler = echo
workers = 1
max_connections = $((IDLE + 100))

[tls]
session_cache = 1

[server:default]
certificate = $T/certs/server.pem
private_key = $T/certs/server.key
verify_certificate = no
require_certificate = no

[server:127.0.0.1:$((PORT + 1))]
certificate = $T/certs/server-rsa.pem
private_key = $T/certs/server-rsa.key
verify_certificate = no
require_certificate = no
EOF

# run LABEL MODE: one loadgen run against $PID, RESULT line appended.
run() {
	local t=127.0.0.1:$PORT a d=$DUR
	case $2 in
	hs13) a=(-m handshake -V 1.3 -c 8) ;;
	hs12) a=(-m handshake -V 1.2 -c 8) ;;
	rsa13) a=(-m handshake -V 1.3 -c 8); t=127.0.0.1:$((PORT + 1)) ;;
	full13) a=(--echo-ok -m full -V 1.3 -c 8) ;;
	res12) a=(-m resume -V 1.2 -c 8) ;;
	res13) a=(-m resume -V 1.3 -c 8) ;;
	pers) a=(--echo-ok -m persistent -V 1.3 -c 10 -p 4) ;;
	idle) a=(-m idle -V 1.3 -c "$IDLE" -P 64 -H 5); d=$((IDLE / 100 + 30)) ;;
	*) echo "ab: unknown mode $2" >&2; return ;;
	esac
	timeout $((d + 60)) "$LG" "${a[@]}" -t "$t" -d "$d" --no-verify \
		--server-pid "$PID" --label "$1/$2" 2>/dev/null |
		grep '^RESULT' >>"$T/raw"
}

: >"$T/raw"
for r in $(seq "$REPS"); do
	for v in base new; do
		bin=$BASE
		[ $v = new ] && bin=$NEW
		"$bin" -c "$T/ab.conf" >"$T/$v.log" 2>&1 &
		PID=$!
		for i in $(seq 100); do
			(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
			sleep 0.1
		done
		for m in "${MODES[@]}"; do
			run "$v" "$m"
		done
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		PID=
	done
done

python3 - "$T/raw" <<'EOF'
import statistics, sys
cells = {}
for line in open(sys.argv[1]):
    kv = dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)
    v, m = kv["label"].split("/")
    key = "server_kb_per_conn" if m == "idle" else "server_cpu_us_per_op"
    x = float(kv.get(key, "-1"))
    if x >= 0 and int(kv.get("errors", "1")) == 0:
        cells.setdefault(m, {}).setdefault(v, []).append(x)
print("| mode | base | new | change |")
print("|---|---|---|---|")
for m, c in cells.items():
    b = statistics.median(c.get("base", [float("nan")]))
    n = statistics.median(c.get("new", [float("nan")]))
    unit = " KB/conn" if m == "idle" else " us/op"
    print(f"| {m} | {b:.1f}{unit} | {n:.1f}{unit} | {100 * (n - b) / b:+.0f}% |")
EOF
