#!/usr/bin/env bash
# Smoke test of the scenario benchmark (bench/scenario, bench/sip_proxy):
# siptlsd in front of sip_proxy, 30 phones registering over TLS, then a
# 3 s busy hour with calls between them. Checks that every phone
# registers, no relayed message is lost, each latency is measured at
# arrival with the kernel's stamp (none missing, and never later than at
# read), and that sip_proxy reports its own dwell. Builds nothing: the
# programs come from $STLS_BUILD_DIR. Ports 25910-25912.
set -uo pipefail
BUILD=${STLS_BUILD_DIR:?}
SRC=${STLS_SOURCE_DIR:?}
B=$BUILD/bench
for p in "$B/scenario" "$B/sip_proxy" "$BUILD/siptlsd"; do
	[ -x "$p" ] || { echo "SKIP: $p not built"; exit 77; }
done
. "$SRC/tests/integration/bench_util.sh"
bench_setup bench-scn
BE=25910 EDGE=25911

"$B/sip_proxy" --udp "127.0.0.1:$BE" --max-bindings 100 --duration 60 \
	2>"$T/proxy.log" &
PP=$!
PIDS+=("$PP")
cat >"$T/s.conf" <<EOF
[core]
listen = tls:127.0.0.1:$EDGE
backend = udp:127.0.0.1:$BE
workers = 2
[server:default]
certificate = $CERTS/server.pem
private_key = $CERTS/server.key
verify_certificate = no
EOF
"$BUILD/siptlsd" -c "$T/s.conf" 2>"$T/d.log" &
DP=$!
PIDS+=("$DP")
wait_port "$EDGE" || fail "siptlsd did not listen: $(tail -5 "$T/d.log")"

out=$(timeout 60 "$B/scenario" -t "127.0.0.1:$EDGE" -n 30 --storm-timeout 20 \
	--busy 3 --calls 5 --call-hold 1 --drain 2 --reg-interval 2 \
	--ka-interval 2 --server-pid "$DP" --label smoke 2>&1)
echo "$out" | grep -v '^RESULT'
storm=$(grep '^RESULT label=smoke/storm' <<<"$out") || fail "no storm line: $out"
busy=$(grep '^RESULT label=smoke/busy' <<<"$out") || fail "no busy line: $out"
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
[ "$(kv "$storm" registered)" = 30 ] || fail "not all registered: $storm"
[ "$(kv "$storm" failed)" = 0 ] || fail "failures: $storm"
[ "$(kv "$busy" lost)" = 0 ] || fail "messages lost: $busy"
[ "$(kv "$busy" msgs)" -ge 35 ] || fail "too few relayed messages: $busy"
[ "$(kv "$busy" no_stamp)" = 0 ] || fail "messages without a kernel stamp: $busy"
[ "$(kv "$busy" ka_pongs)" = "$(kv "$busy" ka_sent)" ] ||
	fail "keep-alives unanswered: $busy"
[ "$(kv "$busy" refreshes)" -ge 1 ] || fail "no REGISTER refresh timed: $busy"
awk -v a="$(kv "$busy" arr_p99_ms)" -v r="$(kv "$busy" p99_ms)" \
	'BEGIN { exit !(a > 0 && a <= r) }' ||
	fail "p99 at arrival not in (0, p99 at read]: $busy"
kill "$PP"
wait "$PP" 2>/dev/null
grep -Eq '^sip_proxy: dwell .* of [1-9][0-9]* datagrams: p50 [0-9.]+ ms' \
	"$T/proxy.log" || fail "sip_proxy reported no dwell: $(cat "$T/proxy.log")"
grep '^sip_proxy: dwell' "$T/proxy.log"
echo "PASS"
