# Sourced by bench/compare.sh: how to configure, start and measure each
# system of the field. Uses compare.sh's variables (T, C, BIN, PORT,
# ECHO_PORT, IDLE_N, PIDS) and functions (measure, lg, wait_port, stop_pid).

# Stops every server started for one system; the echo backend (PIDS[0])
# keeps running.
stop_all_but_echo() {
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 1; i--)); do
		stop_tree "${PIDS[$i]}"
		unset "PIDS[$i]"
	done
	PIDS=("${PIDS[@]}")
}

note() { echo "NOTE $*" >>"$T/notes.$1"; }

run_haproxy() {
	local ec=$((PORT + 10)) rsa=$((PORT + 11)) pid
	command -v haproxy >/dev/null || { note haproxy "not installed"; return 1; }
	cat >"$T/haproxy.cfg" <<EOF
global
	nbthread 2
	maxconn $((IDLE_N + 50))
defaults
	mode tcp
	timeout connect 5s
	timeout client 300s
	timeout server 300s
frontend sip_ec
	bind 127.0.0.1:$ec ssl crt $C/haproxy-ec.pem ssl-min-ver TLSv1.2
	default_backend echo
frontend sip_rsa
	bind 127.0.0.1:$rsa ssl crt $C/haproxy-rsa.pem ssl-min-ver TLSv1.2
	default_backend echo
backend echo
	server echo 127.0.0.1:$ECHO_PORT
EOF
	haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_port "$ec" || { note haproxy "did not start: $(tail -c 300 "$T/haproxy.log" | tr '\n' ' ')"; return 1; }
	note haproxy "version=$(haproxy -v | head -1 | awk '{print $3}') nbthread=2 mode=tcp backend=tcp-echo"
	measure haproxy "$pid" "$ec" "$rsa"
}

run_stunnel() {
	local ec=$((PORT + 20)) rsa=$((PORT + 21)) pid
	command -v stunnel4 >/dev/null || { note stunnel "not installed"; return 1; }
	cat >"$T/stunnel.conf" <<EOF
foreground = yes
pid =
debug = 3
[ec]
accept = 127.0.0.1:$ec
connect = 127.0.0.1:$ECHO_PORT
cert = $C/server.pem
key = $C/server.key
sslVersionMin = TLSv1.2
[rsa]
accept = 127.0.0.1:$rsa
connect = 127.0.0.1:$ECHO_PORT
cert = $C/server-rsa.pem
key = $C/server-rsa.key
sslVersionMin = TLSv1.2
EOF
	stunnel4 "$T/stunnel.conf" >"$T/stunnel.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_port "$ec" || { note stunnel "did not start"; return 1; }
	# stunnel makes its DH parameters in the background after start.
	sleep 3
	note stunnel "version=$(stunnel4 -version 2>&1 | awk '/^stunnel/ {print $2; exit}') threads=one-per-connection backend=tcp-echo"
	measure stunnel "$pid" "$ec" "$rsa"
}

# kam_conf DIR: Kamailio 5.6 configuration (TLS on two ports, UDP for the
# relay), answering with sl_send_reply or relaying to the UDP echo backend.
kam_conf() {
	local d=$1 ec=$((PORT + 30)) rsa=$((PORT + 31)) udp=$((PORT + 32)) s
	mkdir -p "$d"
	{
		for s in "default:server" "127.0.0.1:$ec:server" "127.0.0.1:$rsa:server-rsa"; do
			echo "[server:${s%:*}]"
			echo "method = TLSv1.2+"
			echo "certificate = $C/${s##*:}.pem"
			echo "private_key = $C/${s##*:}.key"
			echo "verify_certificate = no"
			echo "require_certificate = no"
			echo
		done
		printf '[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\n'
	} >"$d/tls.cfg"
	cat >"$d/kamailio.cfg" <<EOF
#!KAMAILIO
debug=1
log_stderror=yes
children=2
tcp_children=2
enable_tls=yes
tcp_max_connections=$((IDLE_N + 1000))
tls_max_connections=$((IDLE_N + 1000))
tcp_connection_lifetime=3605
listen=tls:127.0.0.1:$ec
listen=tls:127.0.0.1:$rsa
listen=udp:127.0.0.1:$udp
mpath="$KAM_MODULES/"
loadmodule "tls.so"
loadmodule "sl.so"
modparam("tls", "config", "$d/tls.cfg")
modparam("tls", "session_cache", 1)
request_route {
	if (uri =~ "^sip:relay@") {
		forward_udp("127.0.0.1", $ECHO_PORT);
		exit;
	}
	sl_send_reply("200", "OK");
}
EOF
}

# kam_start NAME [PRELOAD]: starts Kamailio, prints its PID.
kam_start() {
	local name=$1 pre=${2:-}
	LD_PRELOAD=$pre kamailio -f "$T/$name/kamailio.cfg" -DD -E -m 3072 \
		-M 32 >"$T/$name.log" 2>&1 &
	echo $!
}

# kam_watch NAME PID: what Kamailio's log and process table say so far.
kam_watch() {
	local log=$T/$1.log
	printf 'double_frees=%s child_signals=%s main_alive=%s' \
		"$(grep -c 'freeing already freed' "$log")" \
		"$(grep -c 'exited by a signal' "$log")" \
		"$(kill -0 "$2" 2>/dev/null && echo yes || echo no)"
}

# kam_survive NAME PID: handshake load in 1 s steps for at most 30 s;
# records when the first corruption, the first crash and the end came.
kam_survive() {
	local name=$1 pid=$2 ec=$((PORT + 30)) t0 i now df="" sig="" dead=""
	t0=$(date +%s.%N)
	for i in $(seq 30); do
		"$BIN/loadgen" -m handshake -t "127.0.0.1:$ec" --no-verify \
			-c 8 -d 1 -T 2 >>"$T/$name.survive" 2>&1
		now=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
		[ -z "$df" ] && grep -q 'freeing already freed' "$T/$name.log" && df=$now
		[ -z "$sig" ] && grep -q 'exited by a signal' "$T/$name.log" && sig=$now
		if ! kill -0 "$pid" 2>/dev/null || ! wait_port_once "$ec"; then
			dead=$now
			break
		fi
	done
	note "$name" "survival: handshake load c=8, 30 runs of 1 s:" \
		"first_double_free_s=${df:-none} first_child_crash_s=${sig:-none}" \
		"stopped_serving_s=${dead:-no} $(kam_watch "$name" "$pid")" \
		"ops=$(awk '/^RESULT/ { for (i = 1; i <= NF; i++) if ($i ~ /^ops=/) s += substr($i, 5) } END { print s + 0 }' "$T/$name.survive")"
}

wait_port_once() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

kam_run() {
	local name=$1 pre=${2:-} pid
	command -v kamailio >/dev/null && [ -f "$KAM_MODULES/tls.so" ] ||
		{ note "$name" "kamailio or kamailio-tls-modules not installed"; return 1; }
	kam_conf "$T/$name"
	pid=$(kam_start "$name" "$pre")
	PIDS+=("$pid")
	wait_port "$((PORT + 30))" || { note "$name" "did not start: $(grep -m2 ERROR "$T/$name.log")"; return 1; }
	note "$name" "version=$(kamailio -v | awk '/^version/ {print $3; exit}') tcp_children=2 preload=${pre:-none}"
	kam_survive "$name" "$pid"
	stop_all_but_echo
	mv "$T/$name.log" "$T/$name.survival.log"
	# Measurements on a fresh instance (restarted once if it died).
	pid=$(kam_start "$name" "$pre")
	PIDS+=("$pid")
	wait_port "$((PORT + 30))" || return 1
	if ! measure "$name" "$pid" "$((PORT + 30))" "$((PORT + 31))" \
		"sip:relay@127.0.0.1"; then
		note "$name" "measure: died during the runs ($(kam_watch "$name" "$pid"))"
		return 1
	fi
	note "$name" "measurement instance, at the end: $(kam_watch "$name" "$pid")"
}

run_kamailio() { kam_run kamailio; }
run_kamailio-fix() { kam_run kamailio-fix "$BIN/kam_forkfix.so"; }

# sipt_conf HANDLER: the siptlsd configuration (two TLS listeners, ECDSA
# and RSA, the UDP echo backend, session cache on as for Kamailio).
sipt_conf() {
	local ec=$((PORT + 50)) rsa=$((PORT + 51))
	cat >"$T/siptlsd.conf" <<EOF
[core]
listen = tls:127.0.0.1:$ec
listen = tls:127.0.0.1:$rsa
backend = udp:127.0.0.1:$ECHO_PORT
rpc_socket = $T/siptlsd.sock
handler = $1
workers = 2
max_connections = $((IDLE_N + 100))

[tls]
session_cache = 1

[server:default]
certificate = $C/server.pem
private_key = $C/server.key
verify_certificate = no
require_certificate = no

[server:127.0.0.1:$rsa]
certificate = $C/server-rsa.pem
private_key = $C/server-rsa.key
verify_certificate = no
require_certificate = no
EOF
}

# sipt_start: starts siptlsd on $T/siptlsd.conf; prints its PID.
sipt_start() {
	"$BUILD/siptlsd" -c "$T/siptlsd.conf" >"$T/siptlsd.log" 2>&1 &
	echo $!
}

# siptlsd, when this build has one that runs with -c FILE. The SIP relay
# (handler = relay) is used when it is built in; otherwise the echo
# handler measures the TLS path alone (loadgen --echo-ok: the echoed
# OPTIONS is the answer), and the notes say so.
run_siptlsd() {
	local ec=$((PORT + 50)) d=$BUILD/siptlsd pid h
	h=${BENCH_SIPTLSD_HANDLER:-relay}
	if [ ! -x "$d" ]; then
		note siptlsd "not available: $d not built"
		return 1
	fi
	sipt_conf "$h"
	if ! timeout 20 "$d" -c "$T/siptlsd.conf" --check >"$T/siptlsd.check" 2>&1; then
		note siptlsd "not available: '$d -c FILE --check' failed: $(head -c 200 "$T/siptlsd.check" | tr '\n' ' ')"
		return 1
	fi
	pid=$(sipt_start)
	PIDS+=("$pid")
	wait_port "$ec" || { note siptlsd "not available: did not listen on $ec"; return 1; }
	if [ "$h" = relay ] && grep -q 'relay is not built in' "$T/siptlsd.log"; then
		stop_all_but_echo
		h=echo
		sipt_conf "$h"
		pid=$(sipt_start)
		PIDS+=("$pid")
		wait_port "$ec" || { note siptlsd "not available: did not listen on $ec"; return 1; }
	fi
	[ "$h" = echo ] && LG_EXTRA=(--echo-ok)
	note siptlsd "version=$("$d" --version 2>/dev/null | awk '{print $2}') workers=2 handler=$h backend=udp-echo session_cache=1$([ "$h" = echo ] && echo ' (echo handler: the TLS path alone, no SIP relay yet; the HS+OPTIONS and Transaction cells are TLS echoes)')"
	measure siptlsd "$pid" "$ec" "$((PORT + 51))"
	LG_EXTRA=()
}
