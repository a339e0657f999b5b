# Sourced by bench/compare.sh and bench/scenario.sh: stopping the
# processes a script started (by PID only) and waiting for a port.

# stop_pid PID: SIGTERM, then SIGKILL after at most 5 s.
stop_pid() {
	local p=$1 i
	kill "$p" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$p" 2>/dev/null
}

# stop_tree PID: stops a process we started, then any of its children
# left behind (Kamailio's workers).
stop_tree() {
	local kids k
	kids=$(pgrep -P "$1" 2>/dev/null)
	stop_pid "$1"
	for k in $kids; do
		kill -9 "$k" 2>/dev/null
	done
}

# wait_port PORT: waits (at most 10 s) until TCP PORT on 127.0.0.1
# accepts.
wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
