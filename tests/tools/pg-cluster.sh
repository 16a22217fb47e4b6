#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests (Debian's postgresql-15).
#
#   tests/tools/pg-cluster.sh start DIR   create and start a cluster in DIR, print its URL
#   tests/tools/pg-cluster.sh stop DIR    stop it (fast shutdown); DIR is left for rm -rf
#   tests/tools/pg-cluster.sh kill DIR    stop it at once (immediate shutdown)
#   tests/tools/pg-cluster.sh restart DIR start a stopped cluster again (same port)
#   tests/tools/pg-cluster.sh url DIR     print the URL again
#
# The cluster listens on 127.0.0.1 at a free port and on a socket in DIR. It has
# one role "signet" (password "signet") that owns one database "signet"; the URL
# printed is postgresql://signet:signet@127.0.0.1:PORT/signet. initdb refuses to
# run as root, so as root the cluster belongs to the "postgres" user that the
# Debian package creates (or "nobody"); DIR is made writable for that user.
# fsync stays on: the tests rely on durability as production would. max_connections is 200:
# each signetd opens up to 24 connections (src/store/pg_int.h), and tests run four nodes.
set -euo pipefail
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
	echo "usage: $0 start|stop|kill|restart|url DIR" >&2
	exit 2
fi
BIN=""
for v in 15 16 17; do
	if [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then BIN=/usr/lib/postgresql/$v/bin; break; fi
done
if [ -z "$BIN" ]; then
	echo "$0: PostgreSQL server binaries not found (apt-get install postgresql-15)" >&2
	exit 3
fi
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		local u=postgres
		getent passwd postgres >/dev/null || u=nobody
		runuser -u "$u" -- "$@"
	else
		"$@"
	fi
}
data=$dir/data

free_port() {
	python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

pgctl_start() {
	local port
	port=$(cat "$dir/port")
	as_owner "$BIN/pg_ctl" -D "$data" -l "$dir/log" -w -t 60 \
		-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
}

case "$cmd" in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	data=$dir/data
	if [ "$(id -u)" = 0 ]; then
		u=postgres
		getent passwd postgres >/dev/null || u=nobody
		chown "$u" "$dir"
		chmod 0700 "$dir"
	fi
	if [ ! -d "$data" ]; then
		printf 'signet\n' >"$dir/pwfile.tmp"
		chmod 0644 "$dir/pwfile.tmp"
		as_owner "$BIN/initdb" -D "$data" -U signet --pwfile="$dir/pwfile.tmp" \
			-A scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
			cat "$dir/initdb.log" >&2
			exit 1
		}
		rm -f "$dir/pwfile.tmp"
		free_port >"$dir/port"
	fi
	pgctl_start
	port=$(cat "$dir/port")
	if ! PGPASSWORD=signet "$BIN/psql" -h 127.0.0.1 -p "$port" -U signet -d postgres -qtAc \
		"SELECT 1 FROM pg_database WHERE datname='signet'" | grep -q 1; then
		PGPASSWORD=signet "$BIN/psql" -h 127.0.0.1 -p "$port" -U signet -d postgres -qc \
			"CREATE DATABASE signet OWNER signet" >/dev/null
	fi
	echo "postgresql://signet:signet@127.0.0.1:$port/signet"
	;;
restart)
	pgctl_start
	;;
stop)
	[ -d "$data" ] && as_owner "$BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
	;;
kill)
	[ -d "$data" ] && as_owner "$BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	;;
url)
	echo "postgresql://signet:signet@127.0.0.1:$(cat "$dir/port")/signet"
	;;
*)
	echo "usage: $0 start|stop|kill|restart|url DIR" >&2
	exit 2
	;;
esac
