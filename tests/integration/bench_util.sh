# Shared by the shell tests that drive bench/ programs (sourced, not run):
# bench_setup NAME makes $T (a temporary directory, removed at exit),
# $PIDS (every PID appended is killed and reaped at exit) and $CERTS (the
# test PKI, made once per build directory under a lock); fail MSG stops
# the test; wait_port PORT waits up to 5 s for a TCP listener on
# 127.0.0.1. Needs $BUILD and $SRC.

fail() { echo "FAIL: $*"; exit 1; }

bench_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}

bench_setup() {
	T=$(mktemp -d "/tmp/stls-$1.XXXXXX")
	PIDS=()
	trap bench_cleanup EXIT
	CERTS=$BUILD/test-certs
	flock "$CERTS.lock" bash "$SRC/tests/certs/mkcerts.sh" "$CERTS" \
		>/dev/null || fail "cannot make the test PKI"
}

wait_port() {
	local i
	for i in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
