#!/usr/bin/env bash
# bench/hsm.sh SIPTLSD [DUR] [REPS]: what a key in an HSM costs. The same
# ECDSA P-256 and RSA-2048 keys, once as PEM files and once imported into a
# SoftHSM2 token (used through the pkcs11 engine), serve TLS 1.3
# handshakes to bench/loadgen (mode handshake, 8 connections at once) from
# siptlsd with 1 and 2 workers (echo handler: the TLS path only). For each
# case: handshakes per second and server CPU per handshake (loadgen
# --server-pid, the daemon's whole process), median of REPS runs of DUR
# seconds. The machine has 2 cores shared with the load generator, so the
# CPU per handshake is the figure to compare; handshakes/s shows where a
# token caps throughput. Prints a markdown table (docs/hsm.md quotes it).
#
# Needs softhsm2, opensc and libengine-pkcs11-openssl (scripts/
# install-deps.sh). Environment: PORT (default 29150). Every process
# started here is stopped by its PID; every run is bounded by --duration.
set -uo pipefail
if [ $# -lt 1 ] || [ ! -x "$1" ]; then
	echo "usage: bench/hsm.sh SIPTLSD [DUR] [REPS]" >&2
	exit 2
fi
SIPTLSD=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
BUILD=$(dirname "$SIPTLSD")
LG=$BUILD/bench/loadgen CTL=$BUILD/siptlsctl
DUR=${2:-3} REPS=${3:-3} PORT=${PORT:-29150}
for f in "$LG" "$CTL"; do
	[ -x "$f" ] || { echo "hsm.sh: $f not built" >&2; exit 2; }
done
MODULE=
for m in /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
	/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so \
	/usr/lib/softhsm/libsofthsm2.so; do
	[ -r "$m" ] && MODULE=$m && break
done
[ -n "$MODULE" ] || { echo "hsm.sh: softhsm2 missing" >&2; exit 2; }

T=$(mktemp -d /tmp/stls-hsm-bench.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The token, and the same two keys as files and in the token.
mkdir -p "$T/tokens"
cat >"$T/softhsm2.conf" <<EOF
directories.tokendir = $T/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
export SOFTHSM2_CONF=$T/softhsm2.conf
softhsm2-util --init-token --free --label bench --so-pin 87654321 \
	--pin 1234 >/dev/null || exit 1
cat >"$T/engine.cnf" <<EOF
siptls = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
MODULE_PATH = $MODULE
PIN = 1234
init = 0
EOF
chmod 600 "$T/engine.cnf"
(cd "$T" && "$CTL" cert ca init ca >/dev/null &&
	"$CTL" cert issue server ec.bench.test --ca ca --ec >/dev/null &&
	"$CTL" cert issue server rsa.bench.test --ca ca --rsa 2048 \
		>/dev/null) || exit 1
id=1
for k in ec rsa; do
	softhsm2-util --import "$T/$k.bench.test.key" --token bench \
		--label "$k" --id "0$id" --pin 1234 >/dev/null || exit 1
	id=$((id + 1))
done

# run KEY(ec|rsa) SOURCE(file|token) WORKERS -> "rate cpu_us"
run() {
	local key=$1 src=$2 workers=$3 k r
	k=$T/$key.bench.test.key
	[ "$src" = token ] && k="pkcs11:token=bench;object=$key"
	cat >"$T/b.conf" <<EOF
[core]
listen = tls:127.0.0.1:$PORT
backend = udp:127.0.0.1:9
handler = echo
workers = $workers
[tls]
engine = pkcs11
engine_config = $T/engine.cnf
[server:default]
certificate = $T/$key.bench.test.pem
private_key = $k
[client:default]
EOF
	"$SIPTLSD" -c "$T/b.conf" 2>"$T/d.log" &
	PID=$!
	for _ in $(seq 50); do
		grep -q "ready:" "$T/d.log" && break
		sleep 0.1
	done
	grep -q "ready:" "$T/d.log" || { cat "$T/d.log" >&2; exit 1; }
	r=$("$LG" -m handshake -t "127.0.0.1:$PORT" -V 1.3 -c 8 -d "$DUR" \
		--cafile "$T/ca/ca.pem" --sni "$key.bench.test" \
		--server-pid "$PID" --label "$key-$src-$workers" | grep RESULT)
	kill "$PID" && wait "$PID" 2>/dev/null
	PID=
	echo "$r" | sed -E 's/.* rate=([0-9.]+) .* server_cpu_us_per_op=([0-9.]+) .*/\1 \2/'
	echo "$r" | grep -q " errors=0 " || echo "hsm.sh: errors: $r" >&2
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "| key | source | workers | handshakes/s | server CPU per handshake |"
echo "| --- | --- | --- | ---: | ---: |"
for key in ec rsa; do
	for src in file token; do
		for w in 1 2; do
			: >"$T/rates"
			: >"$T/cpus"
			for _ in $(seq "$REPS"); do
				set -- $(run "$key" "$src" "$w")
				echo "$1" >>"$T/rates"
				echo "$2" >>"$T/cpus"
			done
			printf "| %s | %s | %d | %.0f | %.0f µs |\n" \
				"$([ $key = ec ] && echo ECDSA P-256 || echo RSA-2048)" \
				"$src" "$w" "$(median <"$T/rates")" \
				"$(median <"$T/cpus")"
		done
	done
done
