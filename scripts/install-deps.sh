#!/usr/bin/env bash
# Installs the Debian packages that building and testing siptls needs.
# Idempotent: asks apt only for what is missing, and does nothing (not even
# an `apt-get update`) when everything is there. Runs as root (CI and the
# development machines); as another user it only reports what is missing.
set -euo pipefail

# Build: compiler, CMake, Ninja, OpenSSL 3, libuv, jansson (the JSON of
# the control socket), c-ares (the DNS resolver) and Lua 5.4 (the script
# hooks) headers.
# Tests: real peers and tools nobody here wrote (openssl s_client/s_server,
# gnutls-cli/serv, sipsak, sipp), valgrind, python3 for scripted UAs.
# DNS tests: nsd, an authoritative server the tests start on loopback.
# Fuzzing: clang with libFuzzer's runtime. TLS configuration scan: sslscan.
# HSM keys (docs/hsm.md): libp11's pkcs11 engine, the PKCS#11 headers of
# p11-kit, and for the tests a real software token (SoftHSM2) filled with
# pkcs11-tool (OpenSC). Profiles from a database (lib/db): SQLite and libpq
# headers; the tests start a real PostgreSQL server (postgresql: initdb,
# pg_ctl, psql) and use the sqlite3 client.
# Real SIP peers of the relay tests: Kamailio 5.6 as a UDP registrar and
# proxy behind siptlsd (its tls module also checks that our tls.cfg files
# parse in Kamailio), baresip (core: no sound card needed) as phones.
# Operations: libmicrohttpd (siptlsd's /metrics), libsystemd (sd_notify,
# watchdog); promtool (Debian's prometheus) checks the /metrics page and
# the Grafana dashboard's expressions.
# The Debian package (`make deb`, tests/integration/test_deb.sh):
# debhelper, dpkg-dev, fakeroot, lintian.
# faketime (an OCSP responder with its clock shifted) and haproxy (the
# PROXY v2 balancer in front of siptlsd) for the operations tests.
PKGS=(
	build-essential cmake ninja-build pkg-config
	libssl-dev openssl libuv1-dev libjansson-dev libc-ares-dev
	liblua5.4-dev
	libengine-pkcs11-openssl libp11-kit-dev softhsm2 opensc
	libsqlite3-dev libpq-dev sqlite3 postgresql
	python3 gnutls-bin sipsak sip-tester valgrind faketime haproxy
	clang libclang-rt-14-dev
	iproute2 procps psmisc sslscan nsd
	kamailio kamailio-tls-modules baresip-core
	libmicrohttpd-dev libsystemd-dev prometheus
	debhelper dpkg-dev fakeroot lintian
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
# Extra packages for `make bench` only (the comparison against the field).
if [ "${STLS_BENCH_DEPS:-0}" = 1 ]; then
	for p in kamailio kamailio-tls-modules haproxy stunnel4; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
fi

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "install-deps: missing: ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: not root; install them with apt-get" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
