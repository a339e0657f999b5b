#!/usr/bin/env bash
# Kamailio compatibility of the config corpus (tests/cfg).
#
# Every tls.cfg of tests/cfg/valid must also load in the installed Kamailio
# (5.6) unless its header says "# kamailio: no (why)"; every tls.cfg of
# tests/cfg/invalid must be refused by Kamailio too unless it says
# "# kamailio: accepts (why)" (the places where siptls is deliberately
# stricter, listed in docs/compatibility.md).
#
# How: for each file, a scratch directory gets a minimal kamailio.cfg
# (fork=no, one UDP listener on 127.0.0.1:24050, a tls: listener for every
# [server:IP:port] profile, which Kamailio requires; in fork=no mode it
# opens no TCP/TLS socket) and a copy of the test PKI under every relative
# path the profile names. Kamailio reads tls.cfg and loads every
# certificate and key before it forks its worker processes, so "accepted"
# means a worker process appeared; "refused" means Kamailio exited.
# Exit 77 (skip) when Kamailio or its tls module is absent.
set -u

KAM=$(command -v kamailio || true)
MODDIR=/usr/lib/x86_64-linux-gnu/kamailio/modules
if [ -z "$KAM" ] || [ ! -f "$MODDIR/tls.so" ]; then
	echo "kamailio or its tls module is not installed: skipped"
	exit 77
fi
SRC=${STLS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${STLS_BUILD_DIR:-$SRC/build}
CERTS=$BUILD/test-certs
mkdir -p "$BUILD"
flock "$CERTS.lock" bash "$SRC/tests/certs/mkcerts.sh" "$CERTS" >/dev/null ||
	{ echo "test PKI generation failed"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stls-kamcompat-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
UDP_PORT=24050

# Creates the files a tls.cfg names (relative paths, under $2) and prints
# one "listen=tls:..." line per server IP:port profile.
prepare() {
	python3 - "$1" "$2" "$CERTS" <<'PY'
import ipaddress, os, re, shutil, subprocess, sys
cfg, work, certs = sys.argv[1:4]
text = open(cfg, encoding="latin-1").read()
# Continuations and escapes as the grammar reads them (enough for paths).
text = text.replace("\\\r\n", "").replace("\\\n", "")
kinds = {"private_key": "key", "pkey_file": "key", "crl": "crl",
         "ca_list": "ca", "calist_file": "ca", "ca_path": "dir",
         "certificate": "cert", "cert_file": "cert"}
src = {"key": "server.key", "crl": "crl.pem", "ca": "calist.pem",
       "cert": "server.pem"}
listens = set()
for line in text.splitlines():
    m = re.match(r'\s*\[\s*(server|srv|s)\s*:\s*(.*?)\s*\]\s*(#.*)?$', line, re.I)
    if m:
        tgt = re.sub(r"\s+", "", m.group(2))
        # Only well-formed IP:port targets: a broken one must reach
        # Kamailio's tls.cfg parser, not break kamailio.cfg.
        hp = re.match(r"^(\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d+)$", tgt)
        if hp:
            try:
                ipaddress.ip_address(hp.group(2) or hp.group(3))
                listens.add(tgt)
            except ValueError:
                pass
        continue
    m = re.match(r'\s*(\w+)\s*=\s*("((?:[^"\\]|\\.)*)"|((?:[^\s#\\]|\\.)+))', line)
    if not m or m.group(1).lower() not in kinds:
        continue
    val = m.group(3) if m.group(3) is not None else m.group(4)
    val = re.sub(r"\\(.)", r"\1", val)
    if not val or val.startswith("/") or val.startswith("."):
        continue
    path = os.path.join(work, val)
    kind = kinds[m.group(1).lower()]
    if kind == "dir":
        os.makedirs(path, exist_ok=True)
        shutil.copy(os.path.join(certs, "ca.pem"), path)
        subprocess.run(["openssl", "rehash", path], capture_output=True)
        continue
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copy(os.path.join(certs, src[kind]), path)
with open(os.path.join(work, "cert.pem"), "w") as out:
    for name in ("server.pem", "server.key"):
        out.write(open(os.path.join(certs, name)).read())
for l in sorted(listens):
    print("listen=tls:" + l)
PY
}

# Runs Kamailio on tls.cfg $1 in directory $2. Returns 0 when it accepted.
kam_accepts() {
	local cfg=$1 dir=$2 pid i accepted=1
	mkdir -p "$dir"
	cp "$cfg" "$dir/tls.cfg"
	{
		echo '#!KAMAILIO'
		echo 'debug=2'
		echo 'log_stderror=yes'
		echo 'fork=no'
		echo 'children=1'
		echo "listen=udp:127.0.0.1:$UDP_PORT"
		prepare "$cfg" "$dir" || return 2
		echo 'enable_tls=yes'
		echo "mpath=\"$MODDIR/\""
		echo 'loadmodule "tls.so"'
		echo "modparam(\"tls\", \"config\", \"$dir/tls.cfg\")"
		echo 'request_route { drop; }'
	} >"$dir/kamailio.cfg"
	"$KAM" -f "$dir/kamailio.cfg" -D -E -m 32 -M 8 -w "$dir" \
		>"$dir/log" 2>&1 &
	pid=$!
	for i in $(seq 1 50); do
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		if pgrep -P "$pid" >/dev/null 2>&1; then
			accepted=0
			break
		fi
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	if [ $accepted = 0 ] && grep -q 'ERROR: tls' "$dir/log"; then
		accepted=1
	fi
	return $accepted
}

fail=0
checked=0
n=0
for f in "$SRC"/tests/cfg/valid/*.cfg "$SRC"/tests/cfg/invalid/*.cfg; do
	n=$((n + 1))
	name=${f#"$SRC"/tests/cfg/}
	case $name in
	valid/*) want=accept ;;
	*) want=refuse ;;
	esac
	if grep -q '^# kamailio: no' "$f"; then
		echo "skip   $name ($(grep -m1 '^# kamailio:' "$f" | cut -c13-))"
		continue
	fi
	grep -q '^# kamailio: accepts' "$f" && want=accept
	if kam_accepts "$f" "$WORK/$n"; then got=accept; else got=refuse; fi
	checked=$((checked + 1))
	if [ "$got" = "$want" ] && [ "$got" = refuse ]; then
		# Show Kamailio's own reason: it should be the same problem.
		why=$(grep -m1 -E 'ERROR: (tls|<core>) \[(tls_|core/cfg_parser)' \
			"$WORK/$n/log" | sed 's/.*\]: [a-z0-9_]*(): //')
		echo "ok     $name (kamailio refuses: $why)"
	elif [ "$got" = "$want" ]; then
		echo "ok     $name (kamailio: $got)"
	else
		echo "FAIL   $name: kamailio would $got, expected $want"
		grep -E 'ERROR|CRIT' "$WORK/$n/log" | head -5 | sed 's/^/       /'
		fail=1
	fi
done
echo "$checked corpus files checked against $("$KAM" -v | head -1)"
exit $fail
