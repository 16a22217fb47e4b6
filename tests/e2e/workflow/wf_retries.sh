#!/usr/bin/env bash
#
# wf_retries.sh - what the queue worker does when the key changes between
# submission and signing (SIGNET_WORKERS=1, SIGNET_MAX_ATTEMPTS=3,
# SIGNET_RETRY_BASE_MS=1000).
#
# Requests wait for one approval, so the key can be changed before a worker
# sees them:
#   - key OFFLINE: the worker retries with doubling delays and, after 3
#     attempts, the request is DEAD_LETTER with the reason; the retries show
#     in /metrics and the audit log; nothing is signed;
#   - key OFFLINE, then ONLINE again after the first retry: SIGNED;
#   - key rotated: a request that named no version is signed with the new
#     current version (openssl checks against version 2, not 1);
#   - key rotated under a request pinned to version 1: only the current
#     version may sign (SPEC §1, docs/api.md), so it FAILS instead of being
#     signed with version 1.

. "$(dirname "${BASH_SOURCE[0]}")/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts (1 worker, 3 attempts, 1 s retry base)" \
	wf_start "$DATA" SIGNET_WORKERS=1 SIGNET_MAX_ATTEMPTS=3 SIGNET_RETRY_BASE_MS=1000
new_key "$ADMIN_KEY" q-ec EC-P256
require "export q-ec version 1" fetch_pem q-ec 1 "$E2E_TMP/v1.pem"
new_principal "$ADMIN_KEY" q-signer '["signer"]'
SIGNER=$P_KEY
new_principal "$ADMIN_KEY" q-approver '["approver"]'
APPROVER=$P_KEY
api "$ADMIN_KEY" POST /v1/policies '{"project":"q","slug":"gate","key":"q-ec","approvals_required":1}'
require "create policy q/gate: $STATUS" [ "$STATUS" = 201 ]

# gated [EXTRA-JSON]: a request under q/gate; sets REQ and DIG
gated() {
	DIG=$(rand_digest)
	api "$SIGNER" POST /v1/sign "$(jq -cn --arg d "$DIG" --argjson x "${1:-{\}}" \
		'{policy:"q/gate",digest:$d,hash_algorithm:"SHA-256"} + $x')"
	require "submit under q/gate: $STATUS $RESP" [ "$STATUS" = 202 ]
	REQ=$(jget .request_id)
}
key_status() {
	api "$ADMIN_KEY" PATCH /v1/keys/q-ec "{\"status\":\"$1\"}"
	require "set q-ec $1: $STATUS" [ "$STATUS" = 200 ]
}
approve() {
	api "$APPROVER" POST "/v1/approvals/$1/approve"
	require "approve $1: $STATUS $RESP" [ "$STATUS" = 200 ]
}

# ---- key OFFLINE: retries, then DEAD_LETTER
gated
DEAD=$REQ
key_status OFFLINE
approve "$DEAD"
wait_request "$SIGNER" "$DEAD" DEAD_LETTER 20
assert_json .status DEAD_LETTER "with the key OFFLINE, the request ends DEAD_LETTER"
assert_json .attempts 3 "... after SIGNET_MAX_ATTEMPTS=3 attempts"
assert_json .error "the key is not ONLINE" "... with the reason in error"
assert_json '.signature_id // "none"' none "... and no signature"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures WHERE request_id = '$DEAD'")" 0 "store: no signature record"
metrics_snapshot
assert_eq "$(mval signet_queue_retries_total)/$(mval signet_queue_dead_letters_total)/$(mval 'signet_requests{status="DEAD_LETTER"}')" \
	"2/1/1" "/metrics: 2 retries, 1 dead letter, 1 request DEAD_LETTER"
api "$ADMIN_KEY" GET "/v1/audit?limit=10000"
TRAIL=$(jget "[.entries[] | select(.object == \"$DEAD\")]")
assert_eq "$(jq -r '[.[] | .action] | join(" ")' <<<"$TRAIL")" \
	"request.submitted approval.approved request.queued request.retry request.retry request.dead_letter" \
	"the audit log tells the story: submitted, approved, queued, retry, retry, dead_letter"
T_R1=$(iso_ms "$(jq -r '[.[] | select(.action == "request.retry")][0].ts' <<<"$TRAIL")")
T_R2=$(iso_ms "$(jq -r '[.[] | select(.action == "request.retry")][1].ts' <<<"$TRAIL")")
T_DL=$(iso_ms "$(jq -r '[.[] | select(.action == "request.dead_letter")][0].ts' <<<"$TRAIL")")
echo "# attempts at +0, +$((T_R2 - T_R1)) ms, +$((T_DL - T_R1)) ms"
assert_eq "$([ $((T_R2 - T_R1)) -ge 1000 ] && [ $((T_DL - T_R2)) -ge 2000 ] && echo backoff)" backoff \
	"the retry delay starts at 1 s and doubles (gaps $((T_R2 - T_R1)) ms and $((T_DL - T_R2)) ms)"
api "$APPROVER" POST "/v1/approvals/$DEAD/approve"
assert_error 409 FAILED_PRECONDITION "voting on a DEAD_LETTER request"
api "$SIGNER" POST "/v1/requests/$DEAD/resubmit" '{"policy":"q/gate"}'
assert_error 409 FAILED_PRECONDITION "resubmitting a DEAD_LETTER request"

# ---- key OFFLINE, back ONLINE after the first failed attempt: signed
key_status ONLINE
gated
BACK=$REQ BACK_DIG=$DIG
key_status OFFLINE
approve "$BACK"
seen_retry=0
for ((i = 0; i < 100; i++)); do
	api "$SIGNER" GET "/v1/requests/$BACK"
	if [ "$(jget '"\(.status) \(.attempts)"')" = "QUEUED 1" ]; then
		seen_retry=1
		break
	fi
	sleep 0.05
done
assert_eq "$seen_retry" 1 "the request waits for its retry: QUEUED after 1 attempt"
assert_json .error "the key is not ONLINE" "... showing the last transient error"
key_status ONLINE
assert_request_reaches "$SIGNER" "$BACK" SIGNED "once the key is ONLINE again, the retry"
assert_match "$(jget .attempts)" '^[23]$' "... is signed on attempt 2 or 3"
assert_json '.error // "none"' none "... and the error is cleared"
assert_ec_verifies "$E2E_TMP/v1.pem" "$BACK_DIG" "$(jget .signature)" "openssl verifies the retried signature"

# ---- rotation between submission and signing: the current version signs
gated
ROT=$REQ ROT_DIG=$DIG
gated '{"key_version":1}'
PINNED=$REQ
api "$ADMIN_KEY" POST /v1/keys/q-ec/rotate
require "rotate q-ec: $STATUS" [ "$STATUS" = 200 ]
require "export q-ec version 2" fetch_pem q-ec 2 "$E2E_TMP/v2.pem"
api "$SIGNER" POST /v1/sign "$(sign_body q-ec "$(rand_digest)" SHA-256 '{"key_version":1}')"
assert_error 409 KEY_NOT_ACTIVE "after the rotation, a fast sign naming version 1"
approve "$ROT"
assert_request_reaches "$SIGNER" "$ROT" SIGNED "the request that named no version"
assert_json .key_version 2 "it is signed with the current version 2"
assert_ec_verifies "$E2E_TMP/v2.pem" "$ROT_DIG" "$(jget .signature)" "openssl verifies it with version 2's public key"
assert_ec_rejects "$E2E_TMP/v1.pem" "$ROT_DIG" "$(jget .signature)" "openssl refuses it with version 1's public key"

approve "$PINNED"
wait_request "$SIGNER" "$PINNED" FAILED 10
echo "# the request pinned to version 1: $(jget '"\(.status) key_version=\(.key_version) attempts=\(.attempts) error=\(.error)"')"
assert_ne "$(jget '"\(.status) \(.key_version)"')" "SIGNED 1" \
	"a request pinned to version 1 is not signed with version 1 once version 2 is current"
assert_json '"\(.status) \(.attempts)"' "FAILED 1" "... it FAILS at once (a retry cannot fix it)"
assert_contains "$(jget .error)" "version" "... and its error names the key version"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures WHERE request_id = '$PINNED'")" 0 "store: no signature record for it"

e2e_finish
