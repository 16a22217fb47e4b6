#!/usr/bin/env bash
#
# run-scaleout-bench.sh - sync EC-P256 signing throughput of one, two and
# three signetd nodes on one PostgreSQL, on this machine (issue 13).
#
# Starts a throwaway PostgreSQL 15 cluster (tests/tools/pg-cluster.sh) in a
# temporary directory, one master key file shared by the nodes
# (SIGNET_MASTER_KEY_FILE) and node 1 on it (SIGNET_STORE_URL); creates a
# signer and an EC-P256 key; then for 1, 2 and 3 nodes (nodes 2 and 3 are
# started when their turn comes) runs one bench_sign per node at the same
# time, THREADS client threads split evenly over the nodes, for DURATION
# seconds.  Every bench_sign checks every answer (200 with a signature) and
# verifies signatures with OpenSSL against the exported public key, as
# bench/run-sign-bench.sh does; a run with a failed answer or a signature
# OpenSSL refuses makes the script exit 1.  Prints one table: total and per
# node signatures/s, latency, the CPU signetd and PostgreSQL used per
# signature, and the load average (the machine may be shared: say so when
# quoting the figures).  Builds nothing; uses $BUILD/bin/signetd and
# $BUILD/bin/bench_sign.
#
# Knobs (environment):
#   BUILD=dir        build directory (default build/ next to bench/)
#   NODES="1 2 3"    the node counts to measure, in increasing order
#   THREADS=12       client threads in all (split over the nodes)
#   DURATION=10      seconds of load per node count
#   SERVER_THREADS=8 HTTP threads per node (SIGNET_THREADS)
#   LOG_LEVEL=info   signetd log level
#   KEEP=1           keep the temporary directory (logs) afterwards
#
# Exit status: 0 when every run had only good answers and verified signatures.

set -u
set -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${BUILD:-$here/../build}
NODES=${NODES:-"1 2 3"}
THREADS=${THREADS:-12}
DURATION=${DURATION:-10}
SERVER_THREADS=${SERVER_THREADS:-8}
LOG_LEVEL=${LOG_LEVEL:-info}
pg_cluster=$here/../tests/tools/pg-cluster.sh

signetd=$BUILD/bin/signetd
bench=$BUILD/bin/bench_sign
for f in "$signetd" "$bench"; do
	if [ ! -x "$f" ]; then
		echo "run-scaleout-bench: $f is missing; build it first (make build)" >&2
		exit 2
	fi
done
for tool in curl openssl psql python3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "run-scaleout-bench: '$tool' is required" >&2; exit 2; }
done
case $DURATION$THREADS$SERVER_THREADS${NODES// /} in
*[!0-9]*) echo "run-scaleout-bench: DURATION, THREADS, SERVER_THREADS and NODES must be whole numbers" >&2; exit 2 ;;
esac
for k in $NODES; do
	if [ "$k" -lt 1 ] || [ "$k" -gt 8 ] || [ "$THREADS" -lt "$k" ]; then
		echo "run-scaleout-bench: node counts go from 1 to 8, and THREADS must be at least the node count" >&2
		exit 2
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/signet-scaleout-bench.XXXXXX") || exit 2
# As root the PostgreSQL cluster belongs to the postgres user: it must reach tmp/pg.
chmod 711 "$tmp"
declare -a pids=() urls=()

stop_nodes() {
	local i
	for i in "${!pids[@]}"; do
		[ -n "${pids[i]}" ] && kill -TERM "${pids[i]}" 2>/dev/null
	done
	for i in "${!pids[@]}"; do
		[ -n "${pids[i]}" ] && wait "${pids[i]}" 2>/dev/null
		pids[i]=""
	done
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	stop_nodes
	[ -d "$tmp/pg/data" ] && bash "$pg_cluster" stop "$tmp/pg" >/dev/null 2>&1
	if [ "${KEEP:-0}" = 1 ]; then
		echo "run-scaleout-bench: kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_url=$(bash "$pg_cluster" start "$tmp/pg") || { echo "run-scaleout-bench: PostgreSQL did not start" >&2; exit 1; }
(umask 077 && head -c 32 /dev/urandom >"$tmp/master.key")
admin_key="bench-admin-$(openssl rand -hex 24)"
unset SIGNET_CONFIG SIGNET_LISTEN SIGNET_DATA_DIR

# start_node I: node I on a free loopback port, its own data directory
start_node() {
	local i=$1 k port=""
	env SIGNET_BOOTSTRAP_API_KEY="$admin_key" SIGNET_LOG_LEVEL="$LOG_LEVEL" \
		SIGNET_STORE_URL="$pg_url" SIGNET_MASTER_KEY_FILE="$tmp/master.key" \
		SIGNET_THREADS="$SERVER_THREADS" \
		SIGNET_RATE_LIMIT_PRINCIPAL=1000000 SIGNET_RATE_LIMIT_ADDRESS=1000000 \
		"$signetd" --listen 127.0.0.1:0 --data-dir "$tmp/node$i" \
		>"$tmp/node$i.out" 2>"$tmp/node$i.log" &
	pids[i]=$!
	for ((k = 0; k < 600; k++)); do
		port=$(grep -m1 -o 'listening on [a-z]*://[^ ]* (port [0-9]*)' "$tmp/node$i.log" 2>/dev/null |
			sed 's/.*(port \([0-9]*\))/\1/')
		[ -n "$port" ] && break
		kill -0 "${pids[i]}" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ] || [ "$port" = 0 ]; then
		echo "run-scaleout-bench: node $i did not start; its log:" >&2
		tail -n 30 "$tmp/node$i.log" >&2
		return 1
	fi
	urls[i]="http://127.0.0.1:$port"
	for ((k = 0; k < 200; k++)); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${urls[i]}/readyz")" = 200 ] && return 0
		sleep 0.05
	done
	echo "run-scaleout-bench: node $i is not ready" >&2
	return 1
}

# api KEY METHOD PATH [BODY] on node 1: prints the body; fails on a status other than 200/201.
api() {
	local out status
	out=$(curl -s --max-time 60 -w '\n%{http_code}' -X "$2" -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/json' ${4:+--data-raw "$4"} "${urls[1]}$3") || return 1
	status=${out##*$'\n'}
	out=${out%$'\n'*}
	if [ "$status" != 200 ] && [ "$status" != 201 ]; then
		echo "run-scaleout-bench: $2 $3 answered $status: $out" >&2
		return 1
	fi
	printf '%s' "$out"
}
field() {
	sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"
}
get() { # get KEY RESULT-LINE
	sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<" $2"
}
# cpu_ticks PID...: user+system clock ticks of the processes (and their threads)
cpu_ticks() {
	local p t=0 f
	for p in "$@"; do
		f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		f=${f##*) }
		# fields after the command: state is 1st, utime 12th, stime 13th
		read -r -a a <<<"$f"
		t=$((t + a[11] + a[12]))
	done
	echo "$t"
}
# pg_pids: the postmaster and its children (the nodes' backends among
# them), read from /proc (no procps needed)
pg_pids() {
	local pm f st
	pm=$(head -n1 "$tmp/pg/data/postmaster.pid" 2>/dev/null) || return 0
	echo "$pm"
	for f in /proc/[0-9]*/stat; do
		st=$(<"$f") 2>/dev/null || continue
		st=${st##*) }
		read -r -a st <<<"$st"
		[ "${st[1]}" = "$pm" ] && { f=${f#/proc/}; echo "${f%/stat}"; }
	done
	return 0
}

start_node 1 || exit 1
resp=$(api "$admin_key" POST /v1/principals '{"name":"bench-signer","roles":["signer"]}') || exit 1
signer_key=$(printf '%s' "$resp" | field api_key)
api "$admin_key" POST /v1/keys '{"alias":"bench-ec-p256","algorithm":"EC-P256"}' >/dev/null || exit 1

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
hz=$(getconf CLK_TCK)
echo "machine:  $(nproc) CPUs, ${cpu_model:-unknown CPU}; $(uname -sr); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "database: PostgreSQL $(psql "$pg_url" -qtAXc 'SHOW server_version'), one throwaway cluster on this machine (fsync on)"
echo "load:     EC-P256 sync POST /v1/sign, $THREADS client threads in all split over the nodes, $DURATION s per row;"
echo "          nodes: $SERVER_THREADS HTTP threads each, log $LOG_LEVEL; clients, nodes and PostgreSQL share the machine"
echo

rc=0
rows=()
started=1
for k in $NODES; do
	while [ "$started" -lt "$k" ]; do
		started=$((started + 1))
		start_node "$started" || exit 1
	done
	node_pids=()
	for ((i = 1; i <= k; i++)); do
		node_pids+=("${pids[i]}")
	done
	# shellcheck disable=SC2207
	pgp=($(pg_pids))
	c0_nodes=$(cpu_ticks "${node_pids[@]}")
	c0_pg=$(cpu_ticks "${pgp[@]}")
	bpids=()
	for ((i = 1; i <= k; i++)); do
		th=$((THREADS / k + (i <= THREADS % k ? 1 : 0)))
		timeout $((DURATION + 120)) "$bench" --url "${urls[i]}" --api-key "$signer_key" \
			--key bench-ec-p256 --algorithm EC-P256 --threads "$th" --seconds "$DURATION" \
			--raw-seconds 0 --server-pid "${pids[i]}" >"$tmp/bench.$k.$i" 2>&1 &
		bpids+=($!)
	done
	status=0
	for p in "${bpids[@]}"; do
		wait "$p" || status=1
	done
	# shellcheck disable=SC2207
	pgp=($(pg_pids))
	c1_nodes=$(cpu_ticks "${node_pids[@]}")
	c1_pg=$(cpu_ticks "${pgp[@]}")
	total=0 ok=0 failed=0 verified="" p50s="" p99max=0 per=""
	for ((i = 1; i <= k; i++)); do
		r=$(grep '^RESULT ' "$tmp/bench.$k.$i")
		if [ -z "$r" ]; then
			echo "run-scaleout-bench: bench_sign on node $i ($k nodes) printed no result:" >&2
			tail -n 20 "$tmp/bench.$k.$i" >&2
			rc=1
			continue
		fi
		total=$(awk -v a="$total" -v b="$(get signed_per_s "$r")" 'BEGIN { printf "%.1f", a + b }')
		per+="${per:+ / }$(get signed_per_s "$r" | cut -d. -f1)"
		ok=$((ok + $(get ok "$r")))
		failed=$((failed + $(get failed "$r")))
		verified+="${verified:+ }$(get verified "$r")"
		p50s+=" $(get p50_ms "$r")"
		p99max=$(awk -v a="$p99max" -v b="$(get p99_ms "$r")" 'BEGIN { print (b > a ? b : a) }')
	done
	if [ "$status" -ne 0 ]; then
		echo "run-scaleout-bench: a bench_sign failed with $k node(s) (failed answers or a signature OpenSSL refused):" >&2
		grep -h -iE 'fail|error|verif' "$tmp"/bench."$k".* | head -n 10 >&2
		rc=1
	fi
	p50=$(awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.2f", s / NF }' <<<"$p50s")
	us_nodes=$(awk -v c=$((c1_nodes - c0_nodes)) -v hz="$hz" -v n="$ok" 'BEGIN { if (n > 0) printf "%.0f", c / hz * 1e6 / n; else print "n/a" }')
	us_pg=$(awk -v c=$((c1_pg - c0_pg)) -v hz="$hz" -v n="$ok" 'BEGIN { if (n > 0) printf "%.0f", c / hz * 1e6 / n; else print "n/a" }')
	rows+=("| $k | $THREADS | $total | $per | $p50 | $p99max | $us_nodes | $us_pg | $failed | $verified | $(cut -d' ' -f1 /proc/loadavg) |")
	echo "$k node(s): $total signatures/s ($per), p50 $p50 ms, p99 $p99max ms, $failed failed, verified $verified"
done

echo
echo "== scale-out on PostgreSQL ($(nproc) CPUs, ${cpu_model:-unknown CPU}; EC-P256 sync, $THREADS client threads, $DURATION s per row)"
echo
echo "| nodes | client threads | signatures/s (all nodes) | per node | p50 ms (mean of nodes) | p99 ms (worst node) | signetd CPU us/sign (all nodes) | PostgreSQL CPU us/sign | failed | verified (per node) | load avg (1 min) after |"
echo "|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
stop_nodes
for ((i = 1; i <= started; i++)); do
	if grep -q ' ERROR ' "$tmp/node$i.log"; then
		echo "run-scaleout-bench: node $i logged errors:" >&2
		grep ' ERROR ' "$tmp/node$i.log" | head -n 10 >&2
		rc=1
	fi
done
exit $rc
