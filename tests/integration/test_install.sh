#!/usr/bin/env bash
# `make install` layout: binaries, library, headers, man pages, systemd
# unit (with the prefix substituted) and docs land under the prefix, and
# the installed binaries run.
set -euo pipefail
B=${STLS_BUILD_DIR:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cmake --install "$B" --prefix "$T/usr" >/dev/null
pass=0 fail=0
ok() { if "$@"; then pass=$((pass + 1)); else echo "FAIL: $*"; fail=$((fail + 1)); fi; }
ok test -x "$T/usr/sbin/siptlsd"
ok test -x "$T/usr/bin/siptlsctl"
ok test -f "$T/usr/lib/libsiptls.a"
ok test -f "$T/usr/include/stls/conn.h"
ok test -f "$T/usr/share/man/man8/siptlsd.8"
ok test -f "$T/usr/share/man/man1/siptlsctl.1"
ok test -f "$T/usr/share/doc/siptls/parameters.md"
ok grep -q "^ExecStart=/usr/local/sbin/siptlsd -c" "$B/siptlsd.service"
ok grep -q "ExecReload=/bin/kill -HUP" "$T/usr/lib/systemd/system/siptlsd.service"
ok grep -q "^Type=notify$" "$T/usr/lib/systemd/system/siptlsd.service"
ok grep -q "^WatchdogSec=" "$T/usr/lib/systemd/system/siptlsd.service"
ok sh -c "'$T/usr/sbin/siptlsd' --version | grep -q '^siptlsd '"
ok sh -c "'$T/usr/bin/siptlsctl' --version | grep -q '^siptlsctl '"
if command -v man >/dev/null; then
	ok sh -c "man -l '$T/usr/share/man/man8/siptlsd.8' 2>/dev/null | grep -q 'SIP over TLS edge daemon'"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
