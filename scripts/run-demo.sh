#!/usr/bin/env bash
# `make run`: starts siptlsd in the foreground with etc/siptlsd.cfg, from
# the top of the source tree. On first run it makes the demo PKI in
# run/certs with `siptlsctl cert` (a CA, and a server certificate for
# 127.0.0.1 and localhost). Stop with Ctrl-C.
#   usage: scripts/run-demo.sh BUILD_DIR
set -euo pipefail
BUILD=${1:?usage: scripts/run-demo.sh BUILD_DIR}
cd "$(dirname "$0")/.."
CTL="$BUILD/siptlsctl"
CERTS=run/certs
mkdir -p "$CERTS"
chmod 700 run
if [ ! -f "$CERTS/server.pem" ]; then
	echo "run-demo: making demo certificates in $CERTS"
	"$CTL" cert ca init "$CERTS/ca" \
		--subject "/O=siptls demo/CN=siptls demo CA" --force
	"$CTL" cert issue server server --ca "$CERTS/ca" \
		--dns localhost --dns sip.localhost --ip 127.0.0.1 --ip ::1 \
		--uri sip:localhost --out "$CERTS" --force
	cp "$CERTS/ca/ca.pem" "$CERTS/ca.pem"
fi
"$BUILD/siptlsd" -c etc/siptlsd.cfg --check
echo "run-demo: siptlsd on tls:127.0.0.1:5061 -> udp:127.0.0.1:5060;" \
	"try: openssl s_client -connect 127.0.0.1:5061 -CAfile $CERTS/ca.pem"
exec "$BUILD/siptlsd" -c etc/siptlsd.cfg
