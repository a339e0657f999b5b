# Sourced by the bench scripts: stopping the
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

# bench_scratch PREFIX [RESULT [append]]: a scratch directory $T
# (removed at exit), $RAW inside it for RESULT lines (copied to
# bench/results/RESULT at exit when not empty, or appended to it with
# "append": a file that keeps every run's lines), and $PIDS, the
# processes started, all stopped by PID at exit or on a signal. Needs
# $SRC.
bench_scratch() {
	T=$(mktemp -d "/tmp/$1.XXXXXX")
	RAW=$T/raw
	PIDS=()
	BENCH_RESULT=${2:-}
	BENCH_APPEND=${3:-}
	trap bench_scratch_end EXIT
	trap 'exit 130' INT TERM
}

bench_scratch_end() {
	local p
	for p in "${PIDS[@]}"; do stop_tree "$p"; done
	if [ -n "$BENCH_RESULT" ] && [ -s "$RAW" ]; then
		mkdir -p "$SRC/bench/results"
		if [ "$BENCH_APPEND" = append ]; then
			cat "$RAW" >>"$SRC/bench/results/$BENCH_RESULT"
		else
			cp "$RAW" "$SRC/bench/results/$BENCH_RESULT"
		fi
	fi
	rm -rf "$T"
}

# load: the load averages, "1/5/15".
load() { cut -d" " -f1-3 /proc/loadavg | tr " " "/"; }
