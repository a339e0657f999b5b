#!/usr/bin/env bash
# TLS configuration scan of siptlsd with the default configuration (only a
# certificate and key: <config dir>/cert.pem), by tools nobody here wrote:
# sslscan for protocols, cipher suites, renegotiation and compression,
# openssl s_client for compression and client-initiated renegotiation.
# Asserts: no SSLv2/SSLv3/TLS 1.0/TLS 1.1; only AEAD suites with ECDHE or
# DHE (no NULL, export, RC4, DES, 3DES, MD5, anonymous, PSK or CBC suites),
# at least 128 bits; no compression; no insecure renegotiation; a client's
# renegotiation request closes its connection. Skips (77) without sslscan.
set -uo pipefail
BUILD=${STLS_BUILD_DIR:-build}
SRC=${STLS_SOURCE_DIR:-.}
command -v sslscan >/dev/null || { echo "SKIP: sslscan not installed"; exit 77; }

tmp=$(mktemp -d /tmp/stls-scan-XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }
expect() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

pki="$BUILD/test-certs"
flock "$pki.lock" bash "$SRC/tests/certs/mkcerts.sh" "$pki" >/dev/null
cat "$pki/server.pem" "$pki/server.key" >"$tmp/cert.pem"
chmod 600 "$tmp/cert.pem"
cat >"$tmp/siptlsd.cfg" <<CFG
[core]
listen = tls:127.0.0.1:0
backend = udp:127.0.0.1:9
handler = echo
workers = 1
CFG
"$BUILD/siptlsd" -c "$tmp/siptlsd.cfg" 2>"$tmp/log" &
pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on tls:127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$tmp/log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/log"; echo "FAIL: siptlsd did not start"; exit 1; }

timeout 180 sslscan --no-colour 127.0.0.1:"$port" >"$tmp/scan" 2>&1
cat "$tmp/scan"
for p in SSLv2 SSLv3 TLSv1.0 TLSv1.1; do
	expect "$p disabled" "grep -Eq '^$p +disabled' '$tmp/scan'"
done
expect "TLSv1.2 enabled" "grep -Eq '^TLSv1.2 +enabled' '$tmp/scan'"
expect "TLSv1.3 enabled" "grep -Eq '^TLSv1.3 +enabled' '$tmp/scan'"
grep -E '^(Preferred|Accepted) ' "$tmp/scan" >"$tmp/suites"
expect "cipher suites listed" "[ -s '$tmp/suites' ]"
while read -r _ ver bits _ name _; do
	case $name in
	TLS_AES_*_GCM_*|TLS_CHACHA20_POLY1305_*|TLS_AES_128_CCM_SHA256) good=1 ;;
	ECDHE-*-GCM-*|ECDHE-*-CHACHA20-POLY1305|DHE-*-GCM-*) good=1 ;;
	*) good=0 ;;
	esac
	expect "$ver $name: AEAD with forward secrecy, $bits bits" \
		"[ $good = 1 ] && [ $bits -ge 128 ]"
done <"$tmp/suites"
expect "no NULL/export/RC4/DES/MD5/anon/PSK/CBC suites" \
	"! grep -Eiq 'NULL|EXP|RC4|DES|MD5|ADH|AECDH|PSK|CBC|-SHA$' '$tmp/suites'"
expect "no insecure renegotiation" \
	"! grep -q 'Insecure session renegotiation supported' '$tmp/scan'"
expect "no compression" "! grep -q 'Compression enabled' '$tmp/scan'"

# Compression as the server answers a TLS 1.2 client, and a client-initiated
# renegotiation: the daemon sends no_renegotiation and closes.
{ echo hello; sleep 1; echo R; sleep 2; } |
	timeout 20 openssl s_client -connect 127.0.0.1:"$port" -tls1_2 \
		>"$tmp/reneg" 2>&1
expect "s_client: Compression: NONE" "grep -q 'Compression: NONE' '$tmp/reneg'"
expect "s_client: the server has the secure renegotiation extension" \
	"grep -q 'Secure Renegotiation IS supported' '$tmp/reneg'"
expect "s_client: client-initiated renegotiation refused" \
	"grep -q 'RENEGOTIATING' '$tmp/reneg' && grep -q 'no renegotiation' '$tmp/reneg'"
kill -USR1 "$pid"
sleep 0.5
expect "counted renegotiations_refused=1" \
	"grep -q 'stats: tls: .*renegotiations_refused=1 ' '$tmp/log'"
kill "$pid"
wait "$pid"
rc=$?
pid=
expect "daemon exits 0" "[ $rc = 0 ]"
expect "no sanitizer report" \
	"! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' '$tmp/log'"
grep -E '^Secure Renegotiation|^ *Compression|Session renegotiation' \
	"$tmp/reneg" "$tmp/scan" | sed 's/^/     /'
echo "$((fails == 0 ? 1 : 0)) passed, $((fails > 0 ? 1 : 0)) failed"
[ $fails = 0 ]
