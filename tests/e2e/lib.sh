# shellcheck shell=bash
# shellcheck disable=SC2034  # P_ID, K_ID, SERVER_EXIT ... are set here for the scripts
#
# lib.sh - shared helpers for the end-to-end tests: start and stop a real
# signetd, talk HTTP to it with curl, check answers with jq, verify
# signatures with the openssl command line, and count assertions.
#
# Each test script sources this file, so every script gets its own temporary
# directory, its own signetd on a port the kernel picks (--listen
# 127.0.0.1:0, the port read back from the "listening" log line) and its own
# data directory; scripts can therefore run in parallel (ctest -j).
#
# Assertions print "ok" / "FAIL" lines and count; a failure does not stop the
# script (one bug should not hide the next) unless E2E_FAIL_FAST=1.  The
# script ends with e2e_finish, which prints "N passed, M failed" and exits
# non-zero when anything failed.  Preconditions use `require`, which stops.
#
# Needs: bash, curl, jq, openssl (CLI), coreutils.  No python, no xxd.
#
# Environment: SIGNETD (path of the server binary, required), SIGNET_CLI
# (path of the CLI, optional), E2E_KEEP=1 keeps the temporary directory.
# SIGNET_TEST_STORE=postgresql runs the servers on PostgreSQL instead of
# SQLite: each data directory gets a database of its own (a new data
# directory is a new, empty store; the same one, its store again), on a
# throwaway cluster this script starts (tests/tools/pg-cluster.sh) and
# stops, or on the server of SIGNET_TEST_PG_URL when that is set (its role
# must be allowed to create databases; they are dropped at the end).

set -u
set -o pipefail

E2E_NAME=$(basename "${BASH_SOURCE[-1]}" .sh)
E2E_PASSED=0
E2E_FAILED=0
E2E_SKIPPED=0
E2E_KNOWN_FAILED=0
# When set, failures are labelled as this known server bug (they still fail).
KNOWN_BUG=""

for tool in curl jq openssl base64 od; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$E2E_NAME: '$tool' is required (apt-get install -y $tool)" >&2
		exit 2
	fi
done
if [ -z "${SIGNETD:-}" ] || [ ! -x "$SIGNETD" ]; then
	echo "$E2E_NAME: set SIGNETD to the signetd binary (got '${SIGNETD:-}')" >&2
	exit 2
fi

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/signet-e2e-$E2E_NAME.XXXXXX") || exit 2
if [ -z "$E2E_TMP" ] || [ ! -d "$E2E_TMP" ]; then
	echo "$E2E_NAME: cannot make a temporary directory" >&2
	exit 2
fi
chmod 700 "$E2E_TMP"

# Server state (one signetd at a time per script).
SERVER_PID=""
SERVER_PORT=""
BASE_URL=""
SERVER_LOG=""      # stderr of the current server (the log)
SERVER_OUT=""      # stdout of the current server
SERVER_EXIT=""     # exit status of the last stopped server
SERVER_LOGS=()     # every log file of this run, for the secret check
SECRETS=()         # API keys issued during the run; must never be logged
CURL_TLS=()        # extra curl arguments (TLS options) for every api call

# ---------------------------------------------------------------- the store

E2E_STORE=${SIGNET_TEST_STORE:-sqlite}
case $E2E_STORE in
sqlite | postgresql) ;;
*)
	echo "$E2E_NAME: SIGNET_TEST_STORE must be sqlite or postgresql (got '$E2E_STORE')" >&2
	exit 2
	;;
esac
E2E_PG_TOOL="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tools" && pwd)/pg-cluster.sh"
E2E_PG_DIR=""      # the throwaway cluster of this script, if it started one
E2E_PG_URL=""      # URL of the PostgreSQL server (its own database)
E2E_PG_DBS=()      # databases made on SIGNET_TEST_PG_URL's server, dropped at the end

# e2e_pg_server: make sure a PostgreSQL server is there (E2E_PG_URL); not in a subshell.
e2e_pg_server() {
	if [ -n "$E2E_PG_URL" ]; then
		return 0
	fi
	if [ -n "${SIGNET_TEST_PG_URL:-}" ]; then
		E2E_PG_URL=$SIGNET_TEST_PG_URL
		return 0
	fi
	if ! command -v psql >/dev/null 2>&1; then
		echo "$E2E_NAME: 'psql' is required for SIGNET_TEST_STORE=postgresql (apt-get install -y postgresql-15)" >&2
		exit 2
	fi
	# Outside E2E_TMP (0700): as root the cluster belongs to the postgres user.
	E2E_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/signet-e2e-pg-$E2E_NAME.XXXXXX") || exit 2
	chmod 711 "$E2E_PG_DIR"   # the postgres user passes through to its own directory
	if ! E2E_PG_URL=$(bash "$E2E_PG_TOOL" start "$E2E_PG_DIR/c"); then
		echo "$E2E_NAME: cannot start a PostgreSQL cluster in $E2E_PG_DIR" >&2
		exit 2
	fi
}

# e2e_pg_url DB: E2E_PG_URL with its database replaced by DB (a query string is kept).
e2e_pg_url() {
	local base=${E2E_PG_URL%%\?*} query=""
	case $E2E_PG_URL in *\?*) query="?${E2E_PG_URL#*\?}" ;; esac
	printf '%s/%s%s\n' "${base%/*}" "$1" "$query"
}

# e2e_store_url DATA-DIR: the store URL of DATA-DIR's database, created when missing
# ("" on SQLite).  Call e2e_pg_server first, outside the subshell.
e2e_store_url() {
	if [ "$E2E_STORE" != postgresql ]; then
		echo ""
		return 0
	fi
	local db
	db="e2e_$(printf '%s' "$1" | sha256sum | cut -c1-20)"
	if [ "$(psql "$E2E_PG_URL" -qtAXc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
		psql "$E2E_PG_URL" -qtAXc "CREATE DATABASE $db" >/dev/null 2>&1 ||
			[ "$(psql "$E2E_PG_URL" -qtAXc "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ] ||
			return 1
	fi
	e2e_pg_url "$db"
}

# e2e_psql DATA-DIR QUERY: run QUERY on DATA-DIR's PostgreSQL database ('|' separated, no header).
e2e_psql() {
	e2e_pg_server
	psql "$(e2e_store_url "$1")" -qtAX -F '|' -v ON_ERROR_STOP=1 -c "$2"
}

e2e_pg_cleanup() {
	if [ -n "$E2E_PG_DIR" ]; then
		bash "$E2E_PG_TOOL" kill "$E2E_PG_DIR/c" >/dev/null 2>&1
		rm -rf "$E2E_PG_DIR"
	elif [ -n "$E2E_PG_URL" ] && [ "${#E2E_PG_DBS[@]}" -gt 0 ]; then
		local db
		for db in "${E2E_PG_DBS[@]}"; do
			psql "$E2E_PG_URL" -qtAXc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
		done
	fi
}

# ---------------------------------------------------------------- reporting

ok() {
	E2E_PASSED=$((E2E_PASSED + 1))
	echo "ok   - $1"
}

# fail DESCRIPTION [DETAIL...]
fail() {
	E2E_FAILED=$((E2E_FAILED + 1))
	if [ -n "$KNOWN_BUG" ]; then
		E2E_KNOWN_FAILED=$((E2E_KNOWN_FAILED + 1))
		echo "FAIL - $1   [known server bug: $KNOWN_BUG]"
	else
		echo "FAIL - $1"
	fi
	shift
	local d
	for d in "$@"; do
		printf '       %s\n' "$d" | head -c 2000
		echo
	done
	if [ "${E2E_FAIL_FAST:-0}" = 1 ]; then
		e2e_finish
	fi
}

skip() {
	E2E_SKIPPED=$((E2E_SKIPPED + 1))
	echo "skip - $1"
}

# A precondition: without it the rest of the script is meaningless.
require() {
	local desc=$1
	shift
	if "$@"; then
		return 0
	fi
	fail "precondition: $desc"
	echo "$E2E_NAME: stopping, a precondition failed" >&2
	e2e_finish
}

E2E_FINISHING=0
e2e_finish() {
	if [ "$E2E_FINISHING" = 1 ]; then
		exit 1
	fi
	E2E_FINISHING=1
	check_no_secrets_in_logs
	local skipped=""
	if [ "$E2E_SKIPPED" -gt 0 ]; then
		skipped=", $E2E_SKIPPED skipped"
	fi
	if [ "$E2E_KNOWN_FAILED" -gt 0 ]; then
		skipped+=" ($E2E_KNOWN_FAILED of the failures are known server bugs, marked above)"
	fi
	echo "$E2E_NAME: $E2E_PASSED passed, $E2E_FAILED failed$skipped"
	if [ "$E2E_FAILED" -ne 0 ]; then
		exit 1
	fi
	if [ "$E2E_PASSED" -eq 0 ]; then
		echo "$E2E_NAME: no assertion ran" >&2
		exit 1
	fi
	exit 0
}

e2e_cleanup() {
	local rc=$?
	stop_server_quietly
	e2e_pg_cleanup
	if [ "$rc" -ne 0 ] || [ "${E2E_KEEP:-0}" = 1 ]; then
		local f
		for f in "${SERVER_LOGS[@]}"; do
			if [ "$rc" -ne 0 ] && [ -s "$f" ]; then
				echo "---- last lines of $f"
				tail -n 25 "$f"
			fi
		done
		echo "$E2E_NAME: files kept in $E2E_TMP"
	else
		rm -rf "$E2E_TMP"
	fi
}
trap e2e_cleanup EXIT

# ---------------------------------------------------------------- assertions

# assert_eq ACTUAL EXPECTED DESCRIPTION
assert_eq() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		fail "$3" "expected: $2" "got:      $1"
	fi
}

assert_ne() {
	if [ "$1" != "$2" ]; then
		ok "$3"
	else
		fail "$3" "expected anything but: $2"
	fi
}

# assert_match ACTUAL EXTENDED-REGEX DESCRIPTION
assert_match() {
	if [[ "$1" =~ $2 ]]; then
		ok "$3"
	else
		fail "$3" "expected to match: $2" "got: $1"
	fi
}

# assert_contains HAYSTACK NEEDLE DESCRIPTION (fixed string)
assert_contains() {
	if [[ "$1" == *"$2"* ]]; then
		ok "$3"
	else
		fail "$3" "expected to contain: $2" "got: $1"
	fi
}

assert_not_contains() {
	if [[ "$1" != *"$2"* ]]; then
		ok "$3"
	else
		fail "$3" "must not contain: $2"
	fi
}

# assert_ok DESCRIPTION COMMAND... : the command succeeds (its output is shown on failure)
assert_ok() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		fail "$desc" "command failed: $*" "$out"
	fi
}

# assert_fails DESCRIPTION COMMAND... : the command exits non-zero
assert_fails() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		fail "$desc" "command unexpectedly succeeded: $*" "$out"
	else
		ok "$desc"
	fi
}

# ---------------------------------------------------------------- server

# start_server DATA_DIR [VAR=VALUE...]
# Starts signetd on a kernel-chosen port with DATA_DIR and the given extra
# environment, waits until /healthz answers, sets SERVER_PID, SERVER_PORT,
# BASE_URL, SERVER_LOG, SERVER_OUT.  Set SERVER_SCHEME=https for TLS.
E2E_STARTS=0
start_server() {
	local data=$1
	shift
	E2E_STARTS=$((E2E_STARTS + 1))
	SERVER_LOG="$E2E_TMP/signetd.$E2E_STARTS.log"
	SERVER_OUT="$E2E_TMP/signetd.$E2E_STARTS.out"
	SERVER_LOGS+=("$SERVER_LOG")
	local store_env=()
	if [ "$E2E_STORE" = postgresql ]; then
		e2e_pg_server
		local url
		if ! url=$(e2e_store_url "$data"); then
			echo "cannot create the PostgreSQL database of $data" >&2
			return 1
		fi
		if [ -n "${SIGNET_TEST_PG_URL:-}" ]; then
			local db=${url##*/}
			E2E_PG_DBS+=("${db%%\?*}")
		fi
		store_env=(SIGNET_STORE_URL="$url")
	fi
	env SIGNET_LOG_LEVEL=debug "${store_env[@]}" "$@" "$SIGNETD" --listen 127.0.0.1:0 --data-dir "$data" \
		>"$SERVER_OUT" 2>"$SERVER_LOG" &
	SERVER_PID=$!
	SERVER_PORT=""
	local i line
	for ((i = 0; i < 300; i++)); do
		line=$(grep -m1 -o 'listening on [a-z]*://[^ ]* (port [0-9]*)' "$SERVER_LOG" 2>/dev/null || true)
		if [ -n "$line" ]; then
			SERVER_PORT=$(printf '%s' "$line" | sed 's/.*(port \([0-9]*\))/\1/')
			break
		fi
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			break
		fi
		sleep 0.05
	done
	if [ -z "$SERVER_PORT" ] || [ "$SERVER_PORT" = 0 ]; then
		echo "signetd did not start; its log:" >&2
		cat "$SERVER_LOG" >&2
		return 1
	fi
	BASE_URL="${SERVER_SCHEME:-http}://127.0.0.1:$SERVER_PORT"
	for ((i = 0; i < 200; i++)); do
		if curl -s -o /dev/null "${CURL_TLS[@]}" --max-time 2 "$BASE_URL/healthz"; then
			return 0
		fi
		sleep 0.05
	done
	echo "signetd on $BASE_URL does not answer /healthz" >&2
	return 1
}

# stop_server [SIGNAL]: SIGTERM (or SIGNAL), wait, SERVER_EXIT = its exit status.
stop_server() {
	SERVER_EXIT=""
	if [ -z "$SERVER_PID" ]; then
		return 0
	fi
	kill "-${1:-TERM}" "$SERVER_PID" 2>/dev/null
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "signetd $SERVER_PID ignored SIGTERM for 10 s; killing it" >&2
		kill -KILL "$SERVER_PID" 2>/dev/null
	fi
	wait "$SERVER_PID"
	SERVER_EXIT=$?
	SERVER_PID=""
}

stop_server_quietly() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		local i
		for ((i = 0; i < 100; i++)); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=""
	fi
}

# After a failed connection: if signetd is gone, say so once and stop, since
# every later result would be noise.  (A crash is a finding; so is another
# process on the machine stopping our server.)
check_server_alive() {
	if [ -z "$SERVER_PID" ] || kill -0 "$SERVER_PID" 2>/dev/null; then
		return 0
	fi
	local rc=0
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=""
	fail "signetd keeps running during the test (it was gone at: $1)" \
		"it exited with status $rc$([ "$rc" -gt 128 ] && echo " (signal $((rc - 128)))"); its log follows"
	e2e_finish
}

# Every API key the run saw; e2e_finish checks none of them reached a log.
remember_secret() {
	if [ -n "$1" ] && [ "$1" != null ]; then
		SECRETS+=("$1")
	fi
}

check_no_secrets_in_logs() {
	local f s found=0
	if [ "${#SECRETS[@]}" -eq 0 ] || [ "${#SERVER_LOGS[@]}" -eq 0 ]; then
		return 0
	fi
	for s in "${SECRETS[@]}"; do
		for f in "${SERVER_LOGS[@]}"; do
			if [ -f "$f" ] && grep -qF -- "$s" "$f"; then
				fail "no API key in the server log" "a secret starting '${s:0:10}' is in $f"
				found=1
			fi
		done
	done
	if [ "$found" = 0 ]; then
		ok "none of the ${#SECRETS[@]} API keys issued appears in the server log (${#SERVER_LOGS[@]} log files)"
	fi
}

# ---------------------------------------------------------------- HTTP

# api KEY METHOD PATH [BODY] [CURL-ARGS...]
# KEY is the API key ("" for none).  BODY is JSON text, "@file" for a file,
# or "" for no body.  Sets STATUS (HTTP status, 000 on transport failure),
# RESP (body), RID (X-Request-Id), RESP_CT (Content-Type), RESP_HEADERS.
# Checks on every answer: an X-Request-Id header; on any 4xx/5xx the error
# shape {"error":{"code","message","request_id"}} with request_id == header.
# (Written with shell builtins where possible: process starts are the cost
# of this suite.)
E2E_API_CALLS=0
api() {
	local key=$1 method=$2 path=$3 body=${4:-}
	shift 3
	[ $# -gt 0 ] && shift
	local hdr="$E2E_TMP/resp.headers" out="$E2E_TMP/resp.body" st="$E2E_TMP/resp.status"
	local args=(-s -o "$out" -D "$hdr" -w '%{http_code}' -X "$method" --max-time 30 "${CURL_TLS[@]}")
	E2E_API_CALLS=$((E2E_API_CALLS + 1))
	if [ -n "$key" ]; then
		args+=(-H "Authorization: Bearer $key")
	fi
	if [ -n "$body" ]; then
		args+=(-H 'Content-Type: application/json')
		if [ "${body:0:1}" = "@" ]; then
			args+=(--data-binary "$body")
		else
			args+=(--data-raw "$body")
		fi
	fi
	: >"$hdr"
	: >"$out"
	curl "${args[@]}" "$@" "$BASE_URL$path" >"$st"
	STATUS=000
	read -r STATUS <"$st" || true
	RESP=""
	IFS= read -r -d '' RESP <"$out" || true
	RESP_HEADERS=""
	RID=""
	RESP_CT=""
	local line
	while IFS= read -r line; do
		line=${line%$'\r'}
		RESP_HEADERS+="$line"$'\n'
		case ${line,,} in
		x-request-id:*) RID=${line#*:}; RID=${RID# } ;;
		content-type:*) RESP_CT=${line#*:}; RESP_CT=${RESP_CT# } ;;
		esac
	done <"$hdr"
	if [ "$STATUS" = 000 ]; then
		check_server_alive "$method $path"
		return 0
	fi
	if ! [[ "$RID" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]; then
		fail "$method $path: answer carries an X-Request-Id header" "got '$RID'" "$RESP_HEADERS"
	fi
	if [ "${STATUS:0:1}" = 4 ] || [ "${STATUS:0:1}" = 5 ]; then
		check_error_shape "$method $path"
	fi
}

# The SPEC §3 error shape, request_id equal to the X-Request-Id header.
check_error_shape() {
	local shape
	shape=$(jq -r --arg rid "$RID" '
		if (type == "object") and (keys == ["error"])
		   and (.error | type == "object")
		   and (.error | keys == ["code","message","request_id"])
		   and (.error.code | type == "string" and test("^[A-Z_]+$"))
		   and (.error.message | type == "string" and length > 0)
		   and (.error.request_id == $rid)
		then "good" else "bad" end' <<<"$RESP" 2>/dev/null)
	if [ "$shape" != good ]; then
		fail "$1: error body has the shape {error:{code,message,request_id}} with request_id = X-Request-Id" \
			"status $STATUS, X-Request-Id '$RID'" "body: $RESP"
	fi
}

# jget JQ-FILTER : apply to RESP, raw output
jget() {
	jq -r "$1" <<<"$RESP" 2>/dev/null
}

# assert_status EXPECTED DESCRIPTION
assert_status() {
	if [ "$STATUS" = "$1" ]; then
		ok "$2 -> $1"
	else
		fail "$2" "expected HTTP $1, got $STATUS" "body: $RESP"
	fi
}

# assert_error STATUS CODE DESCRIPTION: status and error.code (the shape is checked by api)
assert_error() {
	local code
	code=$(jget '.error.code')
	if [ "$STATUS" = "$1" ] && [ "$code" = "$2" ]; then
		ok "$3 -> $1 $2"
	else
		fail "$3" "expected HTTP $1 $2, got $STATUS $code" "body: $RESP"
	fi
}

# assert_json FILTER EXPECTED DESCRIPTION: jq -r FILTER on RESP equals EXPECTED
assert_json() {
	local got
	got=$(jget "$1")
	if [ "$got" = "$2" ]; then
		ok "$3"
	else
		fail "$3" "$1: expected '$2', got '$got'" "body: $RESP"
	fi
}

# Wait for an answer to /healthz over whatever scheme BASE_URL uses.
healthz() {
	curl -s -o /dev/null -w '%{http_code}' "${CURL_TLS[@]}" "$BASE_URL/healthz"
}

# ---------------------------------------------------------------- identities

# new_principal ADMIN-KEY NAME ROLES-JSON [TENANT]
# Creates a principal; sets P_ID, P_KEY, P_KEY_ID.  Requires success.
new_principal() {
	local admin=$1 name=$2 roles=$3 tenant=${4:-} body
	if [ -n "$tenant" ]; then
		body=$(jq -cn --arg n "$name" --argjson r "$roles" --arg t "$tenant" '{name:$n,roles:$r,tenant:$t}')
	else
		body=$(jq -cn --arg n "$name" --argjson r "$roles" '{name:$n,roles:$r}')
	fi
	api "$admin" POST /v1/principals "$body"
	require "create principal $name ($roles): got $STATUS $RESP" [ "$STATUS" = 201 ]
	P_ID=$(jget .id)
	P_KEY=$(jget .api_key)
	P_KEY_ID=$(jget .api_key_id)
	remember_secret "$P_KEY"
}

# new_key ADMIN-KEY ALIAS ALGORITHM : sets K_ID; requires 201
new_key() {
	api "$1" POST /v1/keys "$(jq -cn --arg a "$2" --arg g "$3" '{alias:$a,algorithm:$g}')"
	require "create key $2 ($3): got $STATUS $RESP" [ "$STATUS" = 201 ]
	K_ID=$(jget .id)
}

# fetch_pem KEY-ID|ALIAS VERSION OUT-FILE [API-KEY]: the PEM public key of a version
fetch_pem() {
	local id=$1 ver=$2 file=$3 key=${4:-$ADMIN_KEY}
	api "$key" GET "/v1/keys/$id/public-key?version=$ver" "" -H 'Accept: application/x-pem-file'
	printf '%s' "$RESP" >"$file"
	[ "$STATUS" = 200 ] && grep -q 'BEGIN PUBLIC KEY' "$file"
}

# ---------------------------------------------------------------- digests and openssl

# openssl's name of a SPEC hash (SHA-256 -> sha256) and its length, as
# tables so the hot paths need no subshell.
declare -A OSSL_HASH=([SHA-256]=sha256 [SHA-384]=sha384 [SHA-512]=sha512
	[SHA3-256]=sha3-256 [SHA3-384]=sha3-384 [SHA3-512]=sha3-512 [MD5]=md5 [SHA-1]=sha1)
declare -A HASH_LEN=([SHA-256]=32 [SHA-384]=48 [SHA-512]=64
	[SHA3-256]=32 [SHA3-384]=48 [SHA3-512]=64 [MD5]=16 [SHA-1]=20)
ossl_hash() { echo "${OSSL_HASH[$1]:-unknown-hash-$1}"; }
hash_len() { echo "${HASH_LEN[$1]:-0}"; }

# jfield NAME VAR: set VAR to a string or scalar field of RESP, read with a
# bash regex instead of a jq process (no subshell either).  Only for flat
# answers whose values hold no escaped quotes (ids, algorithm names,
# base64): the first "NAME": wins; VAR is "" when there is none.
jfield() {
	local re="\"$1\":(\"([^\"]*)\"|([-0-9a-z.]+))"
	if [[ "$RESP" =~ $re ]]; then
		printf -v "$2" '%s' "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
	else
		printf -v "$2" '%s' ""
	fi
}

# b64_len BASE64: the decoded length, by arithmetic
b64_len() {
	local s=${1%%=*}
	echo $((${#s} * 3 / 4))
}

# digest_file HASH FILE OUT : binary digest into OUT
digest_file() {
	openssl dgst "-$(ossl_hash "$1")" -binary "$2" >"$3"
}

b64() { base64 -w0 "$@"; }
b64_urlsafe() { base64 -w0 "$@" | tr '+/' '-_'; }
b64_decode_to() { printf '%s' "$1" | base64 -d >"$2"; }

# Hex dump without xxd.
to_hex() { od -An -v -tx1 "$@" | tr -d ' \n'; }

# sign_body KEY DIGEST-B64 HASH [EXTRA-JSON-OBJECT]
sign_body() {
	jq -cn --arg k "$1" --arg d "$2" --arg h "$3" --argjson x "${4:-{\}}" \
		'{key:$k,digest:$d,hash_algorithm:$h} + $x'
}

# p1363_to_der SIG-P1363 OUT-DER : r||s halves -> DER SEQUENCE { INTEGER r, INTEGER s }
# built by openssl asn1parse -genconf, so our own DER encoder is not involved.
p1363_to_der() {
	local hex half r s conf=$E2E_TMP/p1363.cnf
	hex=$(to_hex "$1")
	half=$((${#hex} / 2))
	r=${hex:0:$half}
	s=${hex:$half}
	printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "$r" "$s" >"$conf"
	openssl asn1parse -genconf "$conf" -out "$2" -noout >/dev/null
}

# SPKI DER of a PEM public key, for comparing keys
pem_fingerprint() {
	openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -d' ' -f1
}
