#!/usr/bin/env bash
# pg.sh: a throwaway PostgreSQL cluster for the tests and the benchmarks: initdb in a
# folder of its own, a unix socket in that folder and no TCP port at all, run as an
# unprivileged user (postgres, when started by root).
#
#   tools/pg.sh up DIR        start it (creating it on first use); prints its base URI,
#                             e.g. postgresql:///postgres?host=DIR/socket
#   tools/pg.sh createdb DIR NAME   a new empty database; prints its URI
#   tools/pg.sh restart DIR   stop and start it again (fast shutdown: connections drop)
#   tools/pg.sh stop DIR      stop it (the folder stays)
#   tools/pg.sh down DIR      stop it and delete the folder
#
# Environment: PG_DURABLE=1 keeps PostgreSQL's durable defaults (the benchmarks); by
# default the cluster is the tests' kind: fsync and synchronous_commit off.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 up|createdb|restart|stop|down DIR [NAME]" >&2; exit 2; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || {
	echo "pg.sh: PostgreSQL's server is missing: apt-get install postgresql (or: make deps)" >&2
	exit 1
}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data="$dir/data"
sock="$dir/socket"

# as root, the cluster runs as postgres (PostgreSQL refuses root); else as the caller
as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

uri() { echo "postgresql:///$1?host=$sock&user=postgres"; }

running() { [ -f "$data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }

start() {
	as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 30 start >/dev/null || {
		echo "pg.sh: PostgreSQL did not start; its log:" >&2
		tail -n 20 "$dir/postgres.log" >&2
		exit 1
	}
}

case $cmd in
up)
	if [ ! -f "$data/PG_VERSION" ]; then
		if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
		as_owner mkdir -p "$sock"
		as_owner chmod 700 "$sock"
		as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
			>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
		durable=""
		[ "${PG_DURABLE:-0}" = 1 ] || durable=$'fsync = off\nsynchronous_commit = off\nfull_page_writes = off'
		# no TCP at all: the socket, in a folder only the cluster's user (and root) can
		# enter, is the only way in
		as_owner tee -a "$data/postgresql.conf" >/dev/null <<CONF
listen_addresses = ''
unix_socket_directories = '$sock'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 128MB
$durable
CONF
	fi
	running || start
	uri postgres
	;;
createdb)
	name=${3:-}
	[[ $name =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { echo "pg.sh: a database name is [a-z_][a-z0-9_]*" >&2; exit 2; }
	as_owner "$bindir/createdb" -h "$sock" -U postgres "$name"
	uri "$name"
	;;
restart)
	as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
	start
	;;
stop)
	if running; then as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null; fi
	;;
down)
	if running; then as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null; fi
	rm -rf "$dir"
	;;
*)
	echo "usage: $0 up|createdb|restart|stop|down DIR [NAME]" >&2
	exit 2
	;;
esac
