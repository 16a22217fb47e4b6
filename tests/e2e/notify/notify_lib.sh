# shellcheck shell=bash
# shellcheck disable=SC2034  # RECV_URL, HOOK_ID, MS, SMTP_URL are set here for the scripts
#
# notify_lib.sh - helpers for the notification tests, on top of
# ../workflow/wf_lib.sh (server, api, assertions, sqlite3, polling).
#
# Adds local receivers started by the test and killed when it ends: a
# webhook receiver (receiver.py: checks every Signet-Signature with
# Python's hmac module, logs each delivery as a JSON line, answers 200,
# 500 or hangs as its mode file says) and an SMTP sink (smtp_sink.py on
# Debian's python3-aiosmtpd), plus polling on what they received.

. "$(dirname "${BASH_SOURCE[0]}")/../workflow/wf_lib.sh" || exit 2

NOTIFY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's python3 (python3-aiosmtpd is installed for it), not whatever is first on PATH.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
RECEIVER_PIDS=()

notify_cleanup() {
	local rc=$? p
	for p in "${RECEIVER_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	(exit "$rc")
	e2e_cleanup
}
trap notify_cleanup EXIT

# start_receiver DIR SECRET: a webhook receiver logging into DIR; sets RECV_URL.
start_receiver() {
	local dir=$1 secret=$2 i
	mkdir -p "$dir"
	echo ok >"$dir/mode"
	: >"$dir/log"
	"$PY" "$NOTIFY_DIR/receiver.py" "$dir" "$secret" 2>"$dir/stderr" &
	RECEIVER_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		[ -s "$dir/port" ] && break
		sleep 0.05
	done
	[ -s "$dir/port" ] || return 1
	RECV_URL="http://127.0.0.1:$(cat "$dir/port")/hook"
}

# recv_mode DIR ok|500|hang
recv_mode() {
	echo "$2" >"$1/mode"
}

# recv_q DIR JQ-FILTER: the filter applied to the array of logged deliveries (raw output).
recv_q() {
	jq -rs "$2" "$1/log" 2>/dev/null
}

# wait_recv DIR JQ-CONDITION TIMEOUT-SECONDS: until the condition on the log array is true.
wait_recv() {
	local deadline=$(($(date +%s) + $3))
	while :; do
		[ "$(recv_q "$1" "$2")" = true ] && return 0
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# new_webhook API-KEY URL SECRET EVENTS-JSON: POST /v1/webhooks; sets HOOK_ID (requires 201).
new_webhook() {
	api "$1" POST /v1/webhooks "$(jq -cn --arg u "$2" --arg s "$3" --argjson e "$4" '{url:$u,secret:$s,events:$e}')"
	require "create webhook for $2: got $STATUS $RESP" [ "$STATUS" = 201 ]
	HOOK_ID=$(jget .id)
}

# timed API-KEY METHOD PATH [BODY]: one call with curl alone; sets STATUS, RESP and
# MS, the whole answer time in milliseconds as curl measured it (connect included).
timed() {
	local key=$1 method=$2 path=$3 body=${4:-} out st t
	local args=(-s -o "$E2E_TMP/timed.body" -w '%{http_code} %{time_total}' -X "$method"
		--max-time 30 -H "Authorization: Bearer $key")
	if [ -n "$body" ]; then
		args+=(-H 'Content-Type: application/json' --data-raw "$body")
	fi
	out=$(curl "${args[@]}" "$BASE_URL$path")
	read -r st t <<<"$out"
	STATUS=$st
	RESP=$(cat "$E2E_TMP/timed.body")
	MS=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
}

# start_smtp_sink DIR: an SMTP server writing each message into DIR/mail; sets SMTP_URL.
start_smtp_sink() {
	local dir=$1 i
	mkdir -p "$dir"
	: >"$dir/mail"
	"$PY" "$NOTIFY_DIR/smtp_sink.py" "$dir" 2>"$dir/stderr" &
	RECEIVER_PIDS+=($!)
	for ((i = 0; i < 100; i++)); do
		[ -s "$dir/port" ] && break
		sleep 0.05
	done
	[ -s "$dir/port" ] || return 1
	SMTP_URL="smtp://127.0.0.1:$(cat "$dir/port")"
}

# mail_q DIR JQ-FILTER: the filter applied to the array of received messages (raw output).
mail_q() {
	jq -rs "$2" "$1/mail" 2>/dev/null
}
