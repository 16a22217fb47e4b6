#!/usr/bin/env bash
#
# edge_limits.sh - rate limits and failed authentications (SPEC §8, E1-E3),
# and JSON log lines:
#   - a principal over SIGNET_RATE_LIMIT_PRINCIPAL gets 429 RATE_LIMITED
#     with Retry-After; an address over SIGNET_RATE_LIMIT_ADDRESS too;
#   - 1,000 requests with bad API keys from one address (half with the
#     public prefix of a real principal's key): 401s first, then 429s; the
#     principal keeps working from another address meanwhile; the audit
#     chains grow by a handful of entries (summaries with a count), not by
#     a thousand;
#   - with SIGNET_LOG_FORMAT=json every log line is one JSON object, and a
#     forged line in a path stays inside its string.
# Other loopback addresses (127.0.0.x) stand for other clients.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2
command -v python3 >/dev/null || { echo "$E2E_NAME: python3 is required" >&2; exit 2; }
PROBE="python3 $(dirname "${BASH_SOURCE[0]}")/edge_probe.py"

ADMIN_KEY="e2e-limits-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" \
	SIGNET_RATE_LIMIT_PRINCIPAL=5 SIGNET_RATE_LIMIT_ADDRESS=50 SIGNET_AUTH_AUDIT_INTERVAL_SECONDS=4 \
	SIGNET_LOG_FORMAT=json
new_principal "$ADMIN_KEY" busy '["admin"]'
BUSY_KEY=$P_KEY
new_principal "$ADMIN_KEY" victim '["admin"]'
VICTIM_KEY=$P_KEY

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# ---- per principal (E1, E3): rate 5/s, burst 10
out=$($PROBE flood "$SERVER_PORT" 127.0.0.7 40 "$BUSY_KEY" /v1/keys)
echo "# busy principal: $out"
s200=$(field s200 "$out")
took=$(( $(field seconds "$out" | cut -d. -f1) + 1 ))
assert_ok "a principal at rate 5/s gets its burst of 10 and 5/s more through (${s200:-0} in < $took s)" \
	[ "${s200:-0}" -ge 10 ] && [ "${s200:-0}" -le $((10 + 5 * took)) ]
assert_match "$(field s429 "$out")" '^[0-9]+$' "... then 429s"
assert_match "$(field retry_after "$out")" '^[1-9][0-9]*$' "the 429 carries Retry-After in whole seconds"
assert_eq "$(field code429 "$out")" RATE_LIMITED "the 429 is RATE_LIMITED in the native error shape"
sleep 3
api "$BUSY_KEY" GET /v1/keys
assert_status 200 "the principal is served again once its bucket refills"

# ---- per address (E1): rate 50/s, burst 100
out=$($PROBE flood "$SERVER_PORT" 127.0.0.8 400 "" /healthz)
echo "# busy address: $out"
s200=$(field s200 "$out")
assert_ok "an address at 50/s gets at least its burst of 100 through (${s200:-0})" [ "${s200:-0}" -ge 100 ]
assert_match "$(field s429 "$out")" '^[0-9]+$' "... and then 429s"
assert_match "$(field retry_after "$out")" '^[1-9][0-9]*$' "... with Retry-After"
assert_eq "$(healthz)" 200 "another address (127.0.0.1) is served meanwhile"

# ---- failed authentications (E2)
count_audit() { # scope -> number of entries
	api "$ADMIN_KEY" GET "/v1/audit?scope=$1&limit=10000"
	jget '.entries | length'
}
SVC_BEFORE=$(count_audit service)
TEN_BEFORE=$(count_audit tenant)
PREFIX=${VICTIM_KEY%_*}
FORGED="${PREFIX}_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
# 500 keys nobody owns, then 500 with the victim's public prefix and a wrong
# secret while the victim works from 127.0.0.10.
T_FLOOD=$(date +%s%N)
out1=$($PROBE flood "$SERVER_PORT" 127.0.0.9 500 "sg_0123456789ab_nobodysKEYnobodysKEYnobodysKEYnobodysKEY" /v1/keys)
echo "# unknown key flood: $out1"
assert_match "$(field order "$out1")" '^401,429' "401s first, then 429s"
sleep 1
$PROBE flood "$SERVER_PORT" 127.0.0.9 500 "$FORGED" /v1/keys >"$E2E_TMP/flood2.out" 2>&1 &
F2=$!
sleep 0.2
victim_ok=0
for i in 1 2 3 4 5; do
	out=$($PROBE flood "$SERVER_PORT" 127.0.0.10 1 "$VICTIM_KEY" /v1/keys)
	[ "$(field s200 "$out")" = 1 ] && victim_ok=$((victim_ok + 1))
	sleep 0.1
done
wait "$F2"
T_FLOOD=$(( ($(date +%s%N) - T_FLOOD) / 1000000000 + 1 ))
out2=$(cat "$E2E_TMP/flood2.out")
echo "# forged victim key flood: $out2"
assert_eq "$victim_ok" 5 "the targeted principal keeps working from another address during the flood"
u401=$(field s401 "$out1")
f401=$(field s401 "$out2")
assert_eq "$(( u401 + f401 + $(field s429 "$out1") + $(field s429 "$out2") ))" 1000 \
	"1,000 bad-key requests got only 401 or 429"
# The bucket holds 20 and refills at 1/s: 20 at once, plus one per second the floods took.
assert_ok "at most 20 + 1/s of them were 401 ($u401 + $f401 in at most $T_FLOOD s), the rest 429" \
	[ $((u401 + f401)) -le $((20 + T_FLOOD)) ]
assert_eq "$(field code429 "$out2")" RATE_LIMITED "the 429 is RATE_LIMITED"
assert_match "$(field retry_after "$out2")" '^[1-9][0-9]*$' "... with Retry-After"
sleep 6   # one audit interval (4 s) and the housekeeper's second
SVC_AFTER=$(count_audit service)
TEN_AFTER=$(count_audit tenant)
grown=$(( SVC_AFTER - SVC_BEFORE + TEN_AFTER - TEN_BEFORE ))
echo "# audit entries added by 1,000 failures: $grown (service $SVC_BEFORE -> $SVC_AFTER, tenant $TEN_BEFORE -> $TEN_AFTER)"
assert_ok "1,000 failures add fewer than 100 audit entries ($grown)" [ "$grown" -lt 100 ]
sum_count() { # reason -> sum of .details.count of auth.failed from 127.0.0.9 in RESP
	jq -r --arg r "$1" '[.entries[] | select(.action == "auth.failed" and .details.client_ip == "127.0.0.9"
		and .details.reason == $r) | .details.count] | add // 0' <<<"$RESP"
}
api "$ADMIN_KEY" GET "/v1/audit?scope=service&limit=10000"
assert_eq "$(sum_count "unknown API key prefix")" "$u401" \
	"the service chain counts every unknown-key failure exactly, in summaries"
assert_ok "... and the refusals of the limited address" [ "$(sum_count "too many failed authentications")" -ge 1 ]
api "$ADMIN_KEY" GET "/v1/audit?limit=10000"
assert_eq "$(sum_count "API key does not match")" "$f401" \
	"the victim tenant's chain counts every forged-key failure exactly, in summaries"
api "$ADMIN_KEY" GET /v1/audit/verify
assert_status 200 "the tenant chain still verifies"
assert_eq "$(healthz)" 200 "the server still answers /healthz"

# ---- each dialect answers its 429 in its own shape (E3): rate 5/s, burst 10
# flood KEY HEADER METHOD URL: up to 40 quick requests with the key in HEADER (an
# empty JSON body for POST), until the first 429; the last answer's status,
# Retry-After and body are left in $E2E_TMP/flood.*.
flood() {
	local i body=()
	[ "$3" = POST ] && body=(-H 'Content-Type: application/json' -d '{}')
	for i in $(seq 40); do
		curl -s -o "$E2E_TMP/flood.body" -D "$E2E_TMP/flood.headers" -w '%{http_code}' --max-time 10 \
			-X "$3" "${body[@]}" -H "$2: $1" "$4" >"$E2E_TMP/flood.status"
		[ "$(cat "$E2E_TMP/flood.status")" = 429 ] && break
	done
}
retry_after() { tr -d '\r' <"$E2E_TMP/flood.headers" | sed -n 's/^[Rr]etry-[Aa]fter: *//p'; }
new_principal "$ADMIN_KEY" hasher '["signer"]'
flood "$P_KEY" x-api-key POST "$BASE_URL/api/v1/signature/verify-hash"
assert_eq "$(cat "$E2E_TMP/flood.status")" 429 "the sign-hash API answers a flood with 429"
assert_eq "$(jq -r '.error.code' "$E2E_TMP/flood.body")" ERR_RATE_001 "... as ERR_RATE_001 in its own shape"
assert_eq "$(jq -r '(.request_id | type) + " " + (.timestamp | type)' "$E2E_TMP/flood.body")" "string string" \
	"... with its request_id and timestamp"
assert_match "$(retry_after)" '^[1-9][0-9]*$' "... and Retry-After"
new_principal "$ADMIN_KEY" vaulter '["signer"]'
flood "$P_KEY" X-Vault-Token GET "$BASE_URL/v1/transit/keys/none"
assert_eq "$(cat "$E2E_TMP/flood.status")" 429 "the Transit API answers a flood with 429"
assert_eq "$(jq -r '.errors | type' "$E2E_TMP/flood.body")" array '... as Vault'"'"'s {"errors":[...]}'
assert_match "$(retry_after)" '^[1-9][0-9]*$' "... and Retry-After"

# ---- JSON log lines
curl -s -o /dev/null --max-time 5 "$BASE_URL/v1/zzz%0a%7b%22forged%22:1%7d%1b%0d"
stop_server
lines=$(wc -l <"$SERVER_LOG")
good=$(jq -c 'select(type == "object" and (.ts | type) == "string" and (.level | type) == "string" and (.msg | type) == "string")' \
	"$SERVER_LOG" 2>/dev/null | wc -l)
assert_eq "$good" "$lines" "every log line is a JSON object with ts, level, msg ($lines lines)"
assert_eq "$(grep -c '^{"forged"' "$SERVER_LOG" | tr -d ' ')" 0 "no line starts with the client's text"
assert_eq "$(LC_ALL=C grep -c '[[:cntrl:]]' "$SERVER_LOG" | tr -d ' ')" 0 "no raw control character in the JSON log"
assert_ok "the access line holds the path with its newline escaped" \
	grep -q '"msg":"http GET /v1/zzz\\u000a{\\"forged\\":1}\\u001b\\u000d ' "$SERVER_LOG"
e2e_finish
