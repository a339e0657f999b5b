#!/usr/bin/env bash
# Follows the README's quick start literally on a fresh clone of this
# repository: `make run`, then the OPTIONS client and `siptlsctl tls.list`
# from a second "terminal". Needs the fixed demo ports 5061 and 5060 free
# (skips with 77 otherwise). The clone builds its own release tree, so this
# is the slowest test (about a minute on two cores).
set -euo pipefail
SRC=${STLS_SOURCE_DIR:?}
port_busy() { ss -Htln "sport = :$1" | grep -q . || ss -Huln "sport = :$1" | grep -q .; }
if port_busy 5061; then
	echo "skip: port 5061 in use"
	exit 77
fi
T=$(mktemp -d)
RUN_PID=
cleanup() {
	[ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null && wait "$RUN_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
pass=0 fail=0
ok() { if "$@"; then pass=$((pass + 1)); echo "ok   $*"; else fail=$((fail + 1)); echo "FAIL: $*"; fi; }

# A fresh clone of what is committed (CI runs on a clean clone anyway).
git clone -q "$SRC" "$T/siptls"
cd "$T/siptls"
# Terminal 1: make run (in the background here), until siptlsd is ready.
# make run builds the whole release tree first (about 450 targets): on a
# loaded 2-core machine that took over 300 s, so wait up to 450 s.
setsid make run >"$T/run.log" 2>&1 &
RUN_PID=$!
for _ in $(seq 1 900); do
	grep -q "ready:" "$T/run.log" && break
	kill -0 "$RUN_PID" 2>/dev/null || break
	sleep 0.5
done
ok grep -q "making demo certificates in run/certs" "$T/run.log"
ok grep -q "ready:" "$T/run.log"
# Terminal 2: the OPTIONS client, holding the connection, then tls.list.
scripts/sip-options.py --ca run/certs/ca.pem --hold 8 127.0.0.1:5061 >"$T/opt.out" 2>&1 &
OPT_PID=$!
# The client may take seconds to connect on a busy machine: ask until
# tls.list shows it (8 s at most, the client holds as long).
for _ in $(seq 1 16); do
	sleep 0.5
	build-release/siptlsctl -s run/siptlsd.sock -t tls.list >"$T/list.out" 2>&1 || true
	grep -q "established" "$T/list.out" && break
done
build-release/siptlsctl -s run/siptlsd.sock tls.info >"$T/info.out" 2>&1 || true
wait "$OPT_PID" || true
cat "$T/opt.out" "$T/list.out"
ok grep -q "^SIP/2.0 200" "$T/opt.out"
ok grep -q "TLSs<default>" "$T/list.out"
ok grep -q "established" "$T/list.out"
ok grep -q '"opened_connections"' "$T/info.out"
# Ctrl-C stops it.
kill -INT -- -"$RUN_PID" 2>/dev/null || kill -INT "$RUN_PID"
for _ in $(seq 1 40); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.25; done
ok sh -c "! kill -0 $RUN_PID 2>/dev/null"
RUN_PID=
if [ "$fail" != 0 ]; then
	echo "--- the end of make run's output:"
	tail -30 "$T/run.log"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
