#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests: a real server, made and removed
# by the test itself.
#
#   pg_server.sh start DIR   initdb + pg_ctl start in DIR (created; must
#                            not exist); prints the port on stdout
#   pg_server.sh stop DIR    stops the server by the PID of its
#                            postmaster.pid (fast shutdown, then SIGKILL
#                            after 30 s) and removes DIR
#
# The server listens on 127.0.0.1 only, on a free port, without a Unix
# socket. Its superuser is "siptls" with a random password checked with
# scram-sha-256; DIR/pgpass (mode 0600, for PGPASSFILE) holds it, DIR/port
# the port, DIR/uri a URI without password. Run as root, the server runs
# as the unprivileged user nobody (runuser), which owns DIR/run/ (data
# directory and log); otherwise as the caller. The binaries come from
# Debian's postgresql package (/usr/lib/postgresql/<version>/bin, or
# $PG_BIN).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

pg_bin() {
	if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && { echo "$d"; return; }
	done
	echo "pg_server: no PostgreSQL server binaries (Debian package" \
		"postgresql; make test installs it)" >&2
	exit 1
}

# as_pg CMD...: runs CMD as the server's user.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
	local bin pw port try log
	bin=$(pg_bin)
	mkdir -m 0755 "$dir"
	mkdir -m 0700 "$dir/run"
	[ "$(id -u)" = 0 ] && chown nobody:nogroup "$dir/run"
	pw=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
	( umask 077; printf '%s\n' "$pw" >"$dir/run/pw" )
	[ "$(id -u)" = 0 ] && chown nobody:nogroup "$dir/run/pw"
	as_pg "$bin/initdb" -D "$dir/run/data" -U siptls --pwfile="$dir/run/pw" \
		-A scram-sha-256 -E UTF8 --locale=C --no-sync \
		>"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	rm -f "$dir/run/pw"
	log=$dir/run/server.log
	for try in 1 2 3 4 5; do
		port=$(free_port)
		if as_pg "$bin/pg_ctl" -D "$dir/run/data" -l "$log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port \
			-c unix_socket_directories='' -c fsync=off \
			-c full_page_writes=off -c synchronous_commit=off \
			-c shared_buffers=16MB -c max_connections=40" \
			start >"$dir/pg_ctl.log" 2>&1; then
			break
		fi
		port=
	done
	if [ -z "$port" ]; then
		cat "$dir/pg_ctl.log" "$log" >&2 2>/dev/null || true
		exit 1
	fi
	( umask 077; printf '127.0.0.1:%s:*:siptls:%s\n' "$port" "$pw" \
		>"$dir/pgpass" )
	echo "$port" >"$dir/port"
	echo "postgresql://siptls@127.0.0.1:$port/postgres" >"$dir/uri"
	echo "$port"
}

stop() {
	local pidfile=$dir/run/data/postmaster.pid pid i
	if [ -f "$pidfile" ]; then
		pid=$(head -n 1 "$pidfile")
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill -INT "$pid" 2>/dev/null || true
			for i in $(seq 1 300); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		fi
	fi
	rm -rf "$dir"
}

case $cmd in
start) start ;;
stop) stop ;;
*) usage ;;
esac
