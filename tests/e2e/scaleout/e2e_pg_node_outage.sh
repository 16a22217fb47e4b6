#!/usr/bin/env bash
# e2e_pg_node_outage.sh - one signetd on PostgreSQL while the database goes
# away and comes back (SPEC §6, Pinned):
#   - /readyz 200 {"status":"ready","database":"postgresql"} while it is up,
#     503 {"status":"unavailable","database":"down"} while it is down;
#     /healthz stays 200;
#   - while it is down every request that needs it gets 503 in its dialect's
#     error shape within 10 s: authentication with a key no cache holds, with
#     a key just used (the read cache lives 500 ms), sync signing, an async
#     submission, a list, the Transit and sign-hash dialects, a time-stamp
#     (its serial comes from the database) - never 401, 500 or a hang;
#   - started again (same port, a new postmaster), sync signing works within
#     30 s without restarting signetd, and an async request submitted then is
#     signed (the workers neither exited nor wedged); the audit chain verifies;
#   - a node started while the database is down retries until it is back.
# The server keeps running throughout.
export SIGNET_TEST_STORE=postgresql
. "$(dirname "$0")/../lib.sh" || exit 2

DATA=$E2E_TMP/data
ADMIN="pg-node-admin-$RANDOM$RANDOM-bootstrap"
remember_secret "$ADMIN"
require "signetd starts on PostgreSQL" start_server "$DATA" SIGNET_BOOTSTRAP_API_KEY="$ADMIN" \
	SIGNET_RATE_LIMIT_AUTH_FAILURES=0 SIGNET_RETRY_BASE_MS=200
PGC=$E2E_PG_DIR/c

api "" GET /readyz
assert_eq "$STATUS $(jget .status) $(jget .database)" "200 ready postgresql" "/readyz while the database is up"

new_key "$ADMIN" outage-ec EC-P256
require "the public key of outage-ec" fetch_pem outage-ec 1 "$E2E_TMP/pub.pem" "$ADMIN"
new_principal "$ADMIN" signer '["signer"]'
SIGNER=$P_KEY
new_principal "$ADMIN" idle '["signer"]'   # never presented before the outage: in no cache
IDLE=$P_KEY

# sign_ok TEXT: sync-sign SHA-256(TEXT); 0 when 200 and openssl verifies the signature.
sign_ok() {
	printf '%s' "$1" >"$E2E_TMP/msg"
	local dig
	dig=$(openssl dgst -sha256 -binary "$E2E_TMP/msg" | base64 -w0)
	api "$SIGNER" POST /v1/sign "$(sign_body outage-ec "$dig" SHA-256)"
	[ "$STATUS" = 200 ] || return 1
	jget .signature | base64 -d >"$E2E_TMP/msg.sig"
	openssl dgst -sha256 -verify "$E2E_TMP/pub.pem" -signature "$E2E_TMP/msg.sig" "$E2E_TMP/msg" >/dev/null 2>&1
}
if sign_ok "before the outage"; then
	ok "sync signing before the outage (signature checked by openssl)"
else
	fail "sync signing before the outage" "$STATUS $RESP"
fi
openssl ts -query -data "$E2E_TMP/msg" -sha256 -cert -out "$E2E_TMP/q.tsq" 2>/dev/null
tsa() {
	curl -s -o "$E2E_TMP/r.tsr" -w '%{http_code} %{time_total}' --max-time 30 \
		-H 'Content-Type: application/timestamp-query' --data-binary "@$E2E_TMP/q.tsq" "$BASE_URL/tsa"
}
read -r st _ < <(tsa)
assert_eq "$st" 200 "a time-stamp before the outage"

# ---- the database goes away
bash "$E2E_PG_TOOL" stop "$PGC"
ok "PostgreSQL stopped"

# within SECONDS: "STATUS TIME" of a curl call; fails the check when TIME >= 10 s.
fast() {
	local what=$1 t=$2
	if awk -v t="$t" 'BEGIN { exit !(t < 10) }'; then
		ok "$what answered within 10 s (${t}s)"
	else
		fail "$what answered within 10 s" "took ${t}s"
	fi
}
t0=$(date +%s%3N)
ready=""
while [ $(($(date +%s%3N) - t0)) -lt 10000 ]; do
	read -r ready t < <(curl -s -o "$E2E_TMP/ready.json" -w '%{http_code} %{time_total}' --max-time 15 "$BASE_URL/readyz")
	[ "$ready" = 503 ] && break
	sleep 0.2
done
assert_eq "$ready $(jq -c . "$E2E_TMP/ready.json" 2>/dev/null)" '503 {"status":"unavailable","database":"down"}' \
	"/readyz says the database is down within 10 s"
fast "/readyz" "$t"
assert_eq "$(healthz)" 200 "/healthz stays 200"

# native KEY METHOD PATH BODY DESCRIPTION: 503 UNAVAILABLE in the native shape, fast.
native_503() {
	local t0 t1
	t0=$(date +%s%3N)
	api "$1" "$2" "$3" "$4"
	t1=$(date +%s%3N)
	assert_error 503 UNAVAILABLE "$5 while the database is down"
	fast "$5" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')"
}
DIG=$(printf 'during' | openssl dgst -sha256 -binary | base64 -w0)
native_503 "$IDLE" GET /v1/keys "" "GET /v1/keys with a key in no cache (authentication)"
native_503 "$SIGNER" POST /v1/sign "$(sign_body outage-ec "$DIG" SHA-256)" "sync signing with a key just used"
native_503 "$SIGNER" POST /v1/sign "$(sign_body outage-ec "$DIG" SHA-256 '{"async":true}')" "an async submission"
native_503 "$ADMIN" GET /v1/principals "" "GET /v1/principals as the bootstrap admin"
native_503 "$ADMIN" GET /v1/audit/verify "" "GET /v1/audit/verify"

# Other dialects: their own error shapes, status 503.
read -r st t < <(curl -s -o "$E2E_TMP/d.json" -w '%{http_code} %{time_total}' --max-time 30 \
	-H "X-Vault-Token: $IDLE" -H 'Content-Type: application/json' \
	--data "$(jq -cn --arg d "$DIG" '{input:$d,prehashed:true}')" "$BASE_URL/v1/transit/sign/outage-ec/sha2-256")
assert_eq "$st" 503 "Transit dialect: sign answers 503 while the database is down"
assert_eq "$(jq -r 'has("errors")' "$E2E_TMP/d.json" 2>/dev/null)" true "Transit dialect: 503 in Vault's {\"errors\":[...]} shape"
fast "Transit sign" "$t"
read -r st t < <(curl -s -o "$E2E_TMP/d.json" -w '%{http_code} %{time_total}' --max-time 30 \
	-H "Authorization: Bearer $IDLE" -H 'Content-Type: application/json' \
	--data "$(jq -cn --arg d "$DIG" '{key_id:"outage-ec",hash:$d,hash_algorithm:"SHA-256"}')" \
	"$BASE_URL/api/v1/signature/sign-hash")
assert_eq "$st" 503 "sign-hash dialect: sign-hash answers 503 while the database is down"
assert_ne "$(jq -r '.error.code? // empty' "$E2E_TMP/d.json" 2>/dev/null)" "UNAVAILABLE" \
	"sign-hash dialect: the 503 is in its own shape, not the native one"
fast "sign-hash" "$t"
read -r st t < <(tsa)
assert_eq "$st" 503 "a time-stamp (serial from the database sequence) answers 503 while the database is down"
fast "POST /tsa" "$t"
check_server_alive "the outage"

# ---- the database comes back
bash "$E2E_PG_TOOL" restart "$PGC"
ok "PostgreSQL started again"
back=$(date +%s)
signed=0
while [ $(($(date +%s) - back)) -lt 30 ]; do
	if sign_ok "after the outage"; then
		signed=1
		break
	fi
	sleep 0.5
done
took=$(($(date +%s) - back))
if [ "$signed" = 1 ]; then
	ok "sync signing works again ${took}s after the database's return, without restarting signetd (openssl verifies)"
else
	fail "sync signing works again within 30 s of the database's return" "last answer: $STATUS $RESP"
fi
api "" GET /readyz
assert_eq "$STATUS $(jget .database)" "200 postgresql" "/readyz is ready again"
api "$IDLE" GET /v1/keys
assert_status 200 "the key no cache held authenticates again"

api "$SIGNER" POST /v1/sign "$(sign_body outage-ec "$DIG" SHA-256 '{"async":true}')"
assert_status 202 "an async submission after the outage"
RQ=$(jget .request_id)
st=""
for ((i = 0; i < 300; i++)); do
	api "$SIGNER" GET "/v1/requests/$RQ"
	st=$(jget .status)
	[ "$st" = SIGNED ] && break
	sleep 0.1
done
assert_eq "$st" SIGNED "the workers sign an async request after the outage (they did not exit or wedge)"
read -r st _ < <(tsa)
assert_eq "$st" 200 "time-stamps work again"
api "$ADMIN" GET /v1/audit/verify
assert_json .valid true "the audit chain verifies after the outage"
check_server_alive "the end"
stop_server
assert_eq "$SERVER_EXIT" 0 "signetd stops cleanly after the outage"

# ---- a node started while the database is still down (nodes and database
# booted together) waits for it, retrying with backoff (store_open_timeout_seconds)
URL=$(e2e_store_url "$DATA")
bash "$E2E_PG_TOOL" stop "$PGC"
LATE=$E2E_TMP/late.log
SERVER_LOGS+=("$LATE")
env SIGNET_LOG_LEVEL=debug SIGNET_STORE_URL="$URL" SIGNET_STORE_OPEN_TIMEOUT=60 \
	"$SIGNETD" --listen 127.0.0.1:0 --data-dir "$DATA" >/dev/null 2>"$LATE" &
LATE_PID=$!
sleep 3
assert_eq "$(kill -0 "$LATE_PID" 2>/dev/null && echo running)" running \
	"a node started while the database is down keeps trying (does not exit)"
assert_contains "$(cat "$LATE")" "is unavailable; retrying in" "it logs each failed attempt"
bash "$E2E_PG_TOOL" restart "$PGC"
port=""
for ((i = 0; i < 400; i++)); do
	port=$(grep -m1 -o '(port [0-9]*)' "$LATE" 2>/dev/null | tr -dc 0-9)
	[ -n "$port" ] && break
	kill -0 "$LATE_PID" 2>/dev/null || break
	sleep 0.05
done
if [ -n "$port" ]; then
	ok "the waiting node comes up once the database is back"
	BASE_URL="http://127.0.0.1:$port"
	api "" GET /readyz
	assert_eq "$STATUS $(jget .database)" "200 postgresql" "the late node is ready"
else
	fail "the waiting node comes up once the database is back" "$(tail -n 5 "$LATE")"
fi
kill -TERM "$LATE_PID" 2>/dev/null
wait "$LATE_PID" 2>/dev/null
assert_not_contains "$(cat "$LATE")" "signet@" "the late node's log shows the store URL only with its password masked"
e2e_finish
