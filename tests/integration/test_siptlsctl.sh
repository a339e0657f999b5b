#!/usr/bin/env bash
# siptlsctl against a real control server.
#
# The server is the in-process test server of the unit test binary
# test_rpc_server (case serve_for_integration): the real dispatcher and
# socket server with a few test.* methods besides the built-ins. It runs
# until the stop file appears (at most 60 s). The real siptlsctl binary is
# checked for: a valid call, JSON and table output, params conversion, an
# unknown method (exit 1), bad params (exit 1), no daemon (exit 3, naming the
# socket), usage errors (exit 2), --help with and without a daemon,
# --version, SIPTLS_SOCKET, and the loopback TCP port refused for writes.
set -u

B=${STLS_BUILD_DIR:?}
CTL=$B/siptlsctl
SRV=$B/test_rpc_server
[ -x "$CTL" ] && [ -x "$SRV" ] || { echo "binaries not built"; exit 77; }

T=$(mktemp -d /tmp/stls-ctl-XXXXXX)
SOCK=$T/ctl.sock
SRV_PID=
cleanup() {
	touch "$T/stop"
	[ -n "$SRV_PID" ] && wait "$SRV_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

# run NAME WANT_RC CMD...: runs CMD, keeps stdout in $T/out, stderr in $T/err.
run() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit $rc, want $want"
		sed 's/^/    out: /' "$T/out"; sed 's/^/    err: /' "$T/err"
		return 1
	fi
	return 0
}
has() { # has NAME FILE TEXT
	if grep -qF -- "$3" "$T/$2"; then pass "$1"; else
		fail "$1: $2 lacks '$3'"; sed 's/^/    /' "$T/$2"; fi
}

# --- No daemon yet ---
run no_daemon 3 "$CTL" -s "$SOCK" core.version &&
	has no_daemon_names_socket err "cannot connect to $SOCK"
run help_without_daemon 0 "$CTL" -s "$SOCK" --help &&
	has help_without_daemon_usage out "usage: siptlsctl" &&
	has help_without_daemon_note out "not reachable at $SOCK"
run usage_no_method 2 "$CTL" -s "$SOCK" && has usage_text err "usage:"
run usage_bad_option 2 "$CTL" -Q core.version
run version 0 "$CTL" --version && has version_text out "siptlsctl "

# --- Start the test server ---
STLS_RPC_TEST_SOCKET=$SOCK STLS_RPC_TEST_STOP=$T/stop \
STLS_RPC_TEST_PORT_FILE=$T/port \
	"$SRV" -t serve_for_integration >"$T/server.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -S "$SOCK" ] && [ -s "$T/port" ] || { echo "server did not start"; cat "$T/server.log"; exit 1; }

run valid_call 0 "$CTL" -s "$SOCK" core.version &&
	has valid_call_json out '"name": "siptlsd"'
SIPTLS_SOCKET=$SOCK run env_socket 0 "$CTL" core.uptime &&
	has env_socket_json out '"uptime":'
run params 0 "$CTL" -s "$SOCK" core.echo tls connection_timeout 180 true 007 -5 &&
	has params_int out '  180,' && has params_bool out '  true,' &&
	has params_leading_zero_string out '"007"' && has params_negative out '  -5'
run params_strings 0 "$CTL" -s "$SOCK" -S core.echo 180 &&
	has params_strings_json out '"180"'
run unknown_method 1 "$CTL" -s "$SOCK" tls.nope &&
	has unknown_method_msg err "error -32601: method not found: tls.nope"
run bad_params 1 "$CTL" -s "$SOCK" test.kill abc &&
	has bad_params_msg err "error -32602: test.kill: parameter 'id' must be an integer" &&
	has bad_params_usage err "usage: test.kill id:int"
run missing_params 1 "$CTL" -s "$SOCK" test.set tls &&
	has missing_params_msg err "missing parameter 'name'"
run app_error 1 "$CTL" -s "$SOCK" test.kill 7 &&
	has app_error_msg err "error 404: TLS connection id not found"
# cfg.set-style positional call on a write method over the Unix socket.
run write_method 0 "$CTL" -s "$SOCK" test.set tls connection_timeout 180 &&
	has write_method_json out '"connection_timeout"'
run table_rows 0 "$CTL" -s "$SOCK" -t test.list &&
	has table_header out "id  src_ip       state" &&
	has table_row out "2   2001:db8::1  established"
run table_object 0 "$CTL" -s "$SOCK" -t test.info &&
	has table_kv out "max_connections:    2048"
run table_list 0 "$CTL" -s "$SOCK" -t system.listMethods &&
	has table_list_line out "core.version"
run help_with_daemon 0 "$CTL" -s "$SOCK" --help &&
	has help_methods out "Methods of the daemon at $SOCK" &&
	has help_method_line out "  test.kill id:int" &&
	has help_method_doc out "      Always: id not found."
run help_one 0 "$CTL" -s "$SOCK" --help test.set &&
	has help_one_line out "test.set group:str name:str value:int (changes state)"
run help_unknown 1 "$CTL" -s "$SOCK" --help tls.nope

# The loopback TCP port: reads work, state changes are refused (403).
PORT=$(cat "$T/port")
run tcp_read 0 "$CTL" -T "127.0.0.1:$PORT" core.version &&
	has tcp_read_json out '"version":'
run tcp_localhost 0 "$CTL" -T "localhost:$PORT" -t core.version &&
	has tcp_localhost_table out "name:    siptlsd"
run tcp_write_refused 1 "$CTL" -T "127.0.0.1:$PORT" test.set tls x 1 &&
	has tcp_write_msg err "error 403: test.set changes state"
run tcp_no_daemon 3 "$CTL" -T 127.0.0.1:1 core.version &&
	has tcp_no_daemon_msg err "cannot connect to 127.0.0.1:1"

# A daemon that does not answer in time: exit 3 with a message.
run timeout 3 "$CTL" -s "$SOCK" -w 1 test.sleep 1500 &&
	has timeout_msg err "no reply from $SOCK within 1 s"

if [ "$fails" -ne 0 ]; then
	echo "$fails failed"
	exit 1
fi
echo "all passed"
