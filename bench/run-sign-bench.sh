#!/usr/bin/env bash
#
# run-sign-bench.sh - the sign-path benchmark in one command.
#
# Starts a throw-away signetd on a free loopback port with a fresh data
# directory, measures the disk's write + fdatasync latency there, creates a
# signer principal and one key per algorithm, runs bench_sign against each
# key for a fixed time (sync, then paced to half the sync rate for latency,
# then async if asked), prints every table and a summary with the efficiency
# (raw OpenSSL CPU per signature / signetd CPU per signature), then stops
# signetd and deletes the directory.  Builds nothing:
# it uses $BUILD/bin/signetd and $BUILD/bin/bench_sign (BUILD defaults to
# build/ next to this script's parent).  Loopback only, fixed durations.
#
# Knobs (environment):
#   BUILD=dir            build directory holding bin/signetd and bin/bench_sign
#   ALGORITHMS="EC-P256 EC-P384 Ed25519 RSA-2048 ML-DSA-65"
#                        ML-DSA's raw figure comes from $BUILD/bin/bench_mldsa
#   THREADS=16           client threads (and connections)
#   DURATION=10          seconds of load per algorithm
#   RAW_SECONDS=3        seconds for each raw OpenSSL measurement (0: skip)
#   ASYNC=0              1: also run each algorithm with "async": true
#   HALF_LOAD=1          0: skip the run paced to half the sync rate (latency vs fdatasync)
#   RSS_REQUESTS=0       N > 0: finish with one EC-P256 run of N requests, RSS at 100k and at N
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
ALGORITHMS=${ALGORITHMS:-"EC-P256 EC-P384 Ed25519 RSA-2048 ML-DSA-65"}
HALF_LOAD=${HALF_LOAD:-1}
RSS_REQUESTS=${RSS_REQUESTS:-0}
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
case $DURATION$THREADS$SERVER_THREADS$RSS_REQUESTS in
*[!0-9]*) echo "run-sign-bench: DURATION, THREADS, SERVER_THREADS and RSS_REQUESTS must be whole numbers" >&2; exit 2 ;;
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
# The rate limiter stays on (its buckets are checked on every request, as
# deployed) with limits far above what one machine can sign, so the figures
# measure signing and not the default of 1000 requests/s per principal.
env SIGNET_BOOTSTRAP_API_KEY="$admin_key" SIGNET_LOG_LEVEL="$LOG_LEVEL" \
	SIGNET_THREADS="$SERVER_THREADS" \
	SIGNET_RATE_LIMIT_PRINCIPAL="${SIGNET_RATE_LIMIT_PRINCIPAL:-1000000}" \
	SIGNET_RATE_LIMIT_ADDRESS="${SIGNET_RATE_LIMIT_ADDRESS:-1000000}" \
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

# The floor under sync latency: one durable append on the disk that holds the database.
"$bench" --fsync-probe "$tmp/data" --seconds 3 | tee "$tmp/out"
fsync_line=$(grep '^FSYNC ' "$tmp/out")
echo

# ML-DSA has no OpenSSL equivalent: its raw CPU per signature comes from bench_mldsa.
mldsa_raw=""
if [[ " $ALGORITHMS " == *" ML-DSA-"* ]] && [ -x "$BUILD/bin/bench_mldsa" ]; then
	"$BUILD/bin/bench_mldsa" 200 >"$tmp/mldsa" 2>&1
	mldsa_raw=$(cat "$tmp/mldsa")
	echo "bench_mldsa 200 (raw ML-DSA signatures, best of three rounds):"
	grep -E '^(algorithm|ML-DSA)' "$tmp/mldsa"
	echo
fi

# ---------------------------------------------------------------- runs

results=()
rc=0
# run ALG ALIAS MODE [bench_sign options...]; MODE is sync, async, half (sync, paced) or rss.
run() {
	local alg=$1 alias=$2 mode=$3 out status
	shift 3
	local extra=("$@")
	[ "$mode" = async ] && extra+=(--async)
	if [[ $alg == ML-DSA-* ]]; then
		local sps
		sps=$(awk -v a="$alg" '$1 == a {print $3}' <<<"$mldsa_raw")
		[ -n "$sps" ] && extra+=(--raw-us "$(awk -v s="$sps" 'BEGIN {printf "%.1f", 1e6 / s}')")
	fi
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
	[ -n "$out" ] && results+=("${out/ mode=sync / mode=$mode }")
	last_result=$out
	echo
}

get() { # get KEY RESULT-LINE
	sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<" $2"
}

last_result=""

for alg in $ALGORITHMS; do
	alias="bench-$(printf '%s' "$alg" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9\n' '-')"
	api "$admin_key" POST /v1/keys "{\"alias\":\"$alias\",\"algorithm\":\"$alg\"}" >/dev/null || exit 1
	run "$alg" "$alias" sync
	max_rate=$(get signed_per_s "$last_result")
	if [ "$HALF_LOAD" = 1 ] && [ -n "$max_rate" ]; then
		half=$(awk -v r="$max_rate" 'BEGIN {printf "%.0f", r / 2}')
		[ "$half" -gt 0 ] && run "$alg" "$alias" half --rate "$half" --raw-seconds 0
	fi
	if [ "$ASYNC" = 1 ]; then
		run "$alg" "$alias" async
	fi
done

if [ "$RSS_REQUESTS" -gt 0 ]; then
	alias="bench-rss-ec-p256"
	api "$admin_key" POST /v1/keys "{\"alias\":\"$alias\",\"algorithm\":\"EC-P256\"}" >/dev/null || exit 1
	DURATION=3600 run EC-P256 "$alias" rss --max-requests "$RSS_REQUESTS" --rss-mark 100000 \
		--raw-seconds 0
fi

# ---------------------------------------------------------------- summary

mib() { awk -v k="$1" 'BEGIN { if (k > 0) printf "%.1f", k / 1024; else printf "n/a" }'; }
echo "== summary ($(nproc) CPUs, ${cpu_model:-unknown CPU}; $THREADS client threads, $DURATION s each," \
	"commit_batch ${SIGNET_COMMIT_BATCH:-256}; load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "efficiency = raw CPU per signature / signetd CPU per signature (durable record included);"
echo "async counts signetd's CPU from the first submission until the queue is drained."
echo
echo "| algorithm | mode | raw CPU us/sign | signetd CPU us/sign | efficiency | signetd signs/s | accepted/s | p50 ms | p90 ms | p99 ms | RSS MiB | other cores busy | failed | verified |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for r in "${results[@]}"; do
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$(get algorithm "$r")" "$(get mode "$r")" "$(get raw_cpu_us "$r")" \
		"$(get server_total_us "$r")" "$(get efficiency "$r")" "$(get signed_per_s "$r")" \
		"$(get accepted_per_s "$r")" "$(get p50_ms "$r")" "$(get p90_ms "$r")" "$(get p99_ms "$r")" \
		"$(mib "$(get rss_kb "$r")")" "$(get other_cores "$r")" "$(get failed "$r")" \
		"$(get verified "$r")"
done
echo
if [ -n "$fsync_line" ]; then
	fp50=$(get p50_ms "$fsync_line")
	fp99=$(get p99_ms "$fsync_line")
	echo "fdatasync on the data directory's disk: p50 $fp50 ms, p99 $fp99 ms."
	echo "Latency targets at half the maximum sync rate (mode 'half'): p50 <= fdatasync p50 + 1 ms," \
		"p99 <= 3 x fdatasync p99."
	for r in "${results[@]}"; do
		[ "$(get mode "$r")" = half ] || continue
		awk -v a="$(get algorithm "$r")" -v p50="$(get p50_ms "$r")" -v p99="$(get p99_ms "$r")" \
			-v f50="$fp50" -v f99="$fp99" -v rate="$(get rate "$r")" 'BEGIN {
			printf "  %-9s at %5d/s: p50 %6.2f ms (limit %.2f: %s), p99 %6.2f ms (limit %.2f: %s)\n",
			    a, rate, p50, f50 + 1, p50 <= f50 + 1 ? "met" : "NOT met",
			    p99, 3 * f99, p99 <= 3 * f99 ? "met" : "NOT met" }'
	done
	echo
fi
for r in "${results[@]}"; do
	[ "$(get mode "$r")" = rss ] || continue
	echo "RSS over $(get ok "$r") EC-P256 requests: $(mib "$(get rss_mark_kb "$r")") MiB after 100k," \
		"$(mib "$(get rss_kb "$r")") MiB at the end."
	echo
done
stop_server
if grep -q ' ERROR ' "$tmp/signetd.log"; then
	echo "run-sign-bench: signetd logged errors:" >&2
	grep ' ERROR ' "$tmp/signetd.log" | head -n 20 >&2
	rc=1
fi
exit $rc
