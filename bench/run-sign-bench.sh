#!/usr/bin/env bash
#
# run-sign-bench.sh - the sign-path benchmark in one command.
#
# Starts a throw-away signetd on a free loopback port with a fresh data
# directory, creates a signer principal and one key per algorithm, runs
# bench_sign against each key for a fixed time, prints every table and a
# summary, then stops signetd and deletes the directory.  Builds nothing:
# it uses $BUILD/bin/signetd and $BUILD/bin/bench_sign (BUILD defaults to
# build/ next to this script's parent).  Loopback only, fixed durations.
#
# Knobs (environment):
#   BUILD=dir            build directory holding bin/signetd and bin/bench_sign
#   ALGORITHMS="EC-P256 Ed25519 RSA-2048"
#   THREADS=16           client threads (and connections)
#   DURATION=10          seconds of load per algorithm
#   RAW_SECONDS=3        seconds for each raw OpenSSL measurement (0: skip)
#   ASYNC=0              1: also run each algorithm with "async": true
#   SERVER_THREADS=16    signetd HTTP threads (SIGNET_THREADS)
#   LOG_LEVEL=info       signetd log level (info logs one line per request, as deployed)
#   SIGNET_COMMIT_BATCH, SIGNET_KEY_CACHE, SIGNET_WORKERS are passed to signetd as set,
#   e.g. SIGNET_COMMIT_BATCH=1 bench/run-sign-bench.sh shows what group commit buys.
#   KEEP=1               keep the temporary directory (server log) for a look afterwards
#
# Exit status: 0 when every run had only good answers and verified signatures.

set -u
set -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${BUILD:-$here/../build}
ALGORITHMS=${ALGORITHMS:-"EC-P256 Ed25519 RSA-2048"}
THREADS=${THREADS:-16}
DURATION=${DURATION:-10}
RAW_SECONDS=${RAW_SECONDS:-3}
ASYNC=${ASYNC:-0}
SERVER_THREADS=${SERVER_THREADS:-16}
LOG_LEVEL=${LOG_LEVEL:-info}

signetd=$BUILD/bin/signetd
bench=$BUILD/bin/bench_sign
for f in "$signetd" "$bench"; do
	if [ ! -x "$f" ]; then
		echo "run-sign-bench: $f is missing; build it first:" >&2
		echo "  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build --target signetd bench_sign" >&2
		exit 2
	fi
done
for tool in curl openssl sed grep; do
	command -v "$tool" >/dev/null 2>&1 || { echo "run-sign-bench: '$tool' is required" >&2; exit 2; }
done
case $DURATION$THREADS$SERVER_THREADS in
*[!0-9]*) echo "run-sign-bench: DURATION, THREADS and SERVER_THREADS must be whole numbers" >&2; exit 2 ;;
esac
if ! [[ $RAW_SECONDS =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
	echo "run-sign-bench: RAW_SECONDS must be a number of seconds" >&2
	exit 2
fi
raw_whole=$((${RAW_SECONDS%.*} + 1))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/signet-bench.XXXXXX") || exit 2
chmod 700 "$tmp"
server_pid=""

stop_server() {
	[ -n "$server_pid" ] || return 0
	kill -TERM "$server_pid" 2>/dev/null
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$server_pid" 2>/dev/null; then
		echo "run-sign-bench: signetd ignored SIGTERM for 10 s; killing it" >&2
		kill -KILL "$server_pid" 2>/dev/null
	fi
	wait "$server_pid" 2>/dev/null
	server_pid=""
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	stop_server
	if [ "${KEEP:-0}" = 1 ]; then
		echo "run-sign-bench: kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- start signetd

admin_key="bench-admin-$(openssl rand -hex 24)"
unset SIGNET_CONFIG SIGNET_LISTEN SIGNET_DATA_DIR
env SIGNET_BOOTSTRAP_API_KEY="$admin_key" SIGNET_LOG_LEVEL="$LOG_LEVEL" \
	SIGNET_THREADS="$SERVER_THREADS" \
	"$signetd" --listen 127.0.0.1:0 --data-dir "$tmp/data" >"$tmp/signetd.out" 2>"$tmp/signetd.log" &
server_pid=$!

port=""
for ((i = 0; i < 200; i++)); do
	port=$(grep -m1 -o 'listening on [a-z]*://[^ ]* (port [0-9]*)' "$tmp/signetd.log" 2>/dev/null |
		sed 's/.*(port \([0-9]*\))/\1/')
	[ -n "$port" ] && break
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.05
done
if [ -z "$port" ] || [ "$port" = 0 ]; then
	echo "run-sign-bench: signetd did not start; its log:" >&2
	cat "$tmp/signetd.log" >&2
	exit 1
fi
url="http://127.0.0.1:$port"

# api KEY METHOD PATH [BODY]: prints the body, fails on a status other than 200/201.
api() {
	local out status
	out=$(curl -s --max-time 120 -w '\n%{http_code}' -X "$2" -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/json' ${4:+--data-raw "$4"} "$url$3") || return 1
	status=${out##*$'\n'}
	out=${out%$'\n'*}
	if [ "$status" != 200 ] && [ "$status" != 201 ]; then
		echo "run-sign-bench: $2 $3 answered $status: $out" >&2
		return 1
	fi
	printf '%s' "$out"
}

# A flat string field of a JSON answer (ids, keys: no escaped quotes in them).
field() {
	sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"
}

resp=$(api "$admin_key" POST /v1/principals '{"name":"bench-signer","roles":["signer"]}') || exit 1
signer_key=$(printf '%s' "$resp" | field api_key)
if [ -z "$signer_key" ]; then
	echo "run-sign-bench: no api_key in $resp" >&2
	exit 1
fi

# ---------------------------------------------------------------- machine

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
echo "machine:  $(nproc) CPUs ($(getconf _NPROCESSORS_ONLN) online), ${cpu_model:-unknown CPU}"
echo "          $(uname -sr), $(openssl version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "signetd:  $url pid $server_pid, threads $SERVER_THREADS," \
	"commit_batch ${SIGNET_COMMIT_BATCH:-256 (default)}, key_cache ${SIGNET_KEY_CACHE:-true (default)}," \
	"log $LOG_LEVEL, data dir on $(df -P "$tmp" | awk 'NR==2 {print $1}')"
echo "client:   bench_sign, $THREADS threads x $DURATION s per algorithm, raw OpenSSL $RAW_SECONDS s per column"
echo

# ---------------------------------------------------------------- runs

results=()
rc=0
run() {
	local alg=$1 alias=$2 mode=$3 out status
	local extra=()
	[ "$mode" = async ] && extra=(--async)
	# Bounded: the load, two raw measurements, the async drain, and slack.
	timeout $((DURATION + 2 * raw_whole + 240)) "$bench" --url "$url" --api-key "$signer_key" \
		--key "$alias" --algorithm "$alg" --threads "$THREADS" --seconds "$DURATION" \
		--raw-seconds "$RAW_SECONDS" --server-pid "$server_pid" "${extra[@]}" | tee "$tmp/out"
	status=${PIPESTATUS[0]}
	out=$(grep '^RESULT ' "$tmp/out")
	if [ "$status" -ne 0 ]; then
		echo "run-sign-bench: bench_sign for $alg ($mode) exited $status" >&2
		rc=1
	fi
	[ -n "$out" ] && results+=("$out")
	echo
}

for alg in $ALGORITHMS; do
	alias="bench-$(printf '%s' "$alg" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9\n' '-')"
	api "$admin_key" POST /v1/keys "{\"alias\":\"$alias\",\"algorithm\":\"$alg\"}" >/dev/null || exit 1
	run "$alg" "$alias" sync
	if [ "$ASYNC" = 1 ]; then
		run "$alg" "$alias" async
	fi
done

# ---------------------------------------------------------------- summary

get() { # get KEY RESULT-LINE
	sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}
echo "== summary ($(nproc) CPUs, ${cpu_model:-unknown CPU}; $THREADS client threads, $DURATION s each," \
	"commit_batch ${SIGNET_COMMIT_BATCH:-256})"
echo
echo "| algorithm | mode | raw OpenSSL sign/s (1 thread) | raw OpenSSL sign/s ($THREADS threads) | signetd signs/s | ratio | p50 ms | p99 ms | signetd CPU us/sign | failed | verified |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for r in "${results[@]}"; do
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$(get algorithm "$r")" "$(get mode "$r")" "$(get raw1 "$r")" "$(get rawN "$r")" \
		"$(get signed_per_s "$r")" "$(get ratio "$r")" "$(get p50_ms "$r")" "$(get p99_ms "$r")" \
		"$(get server_cpu_us "$r")" "$(get failed "$r")" "$(get verified "$r")"
done
echo
stop_server
if grep -q ' ERROR ' "$tmp/signetd.log"; then
	echo "run-sign-bench: signetd logged errors:" >&2
	grep ' ERROR ' "$tmp/signetd.log" | head -n 20 >&2
	rc=1
fi
exit $rc
