#!/usr/bin/env bash
#
# wf_key_state.sh - key lifecycle through the service, and the key's state
# as the queue worker sees it (SIGNET_WORKERS=1, SIGNET_MAX_ATTEMPTS=2,
# SIGNET_RETRY_BASE_MS=200).
#
# PATCH /v1/keys/{id} and DELETE /v1/keys/{id}/versions/{v} are
# sg_svc_key_set_status and sg_svc_key_destroy_version: each change leaves
# one audit entry (key.status_changed {status}, key.version_destroyed
# {version}, both with the HTTP request id, the admin as actor) and one log
# line; a refused PATCH and a repeated destroy leave none.
#
# The synchronous path checks the key's state once, at submission; a queued
# request is checked again by the worker (sg_signing_execute), since the key
# may change while it waits for its approval:
#   - key DISABLED after submission: not ONLINE, retried, then DEAD_LETTER;
#   - its current version destroyed after submission: "the key version is
#     destroyed", retried (a rotation could still help), then DEAD_LETTER;
#   - pinned to version 1, which is then destroyed AND rotated out: FAILED
#     at once (no retry can make version 1 current again), where a
#     synchronous sign naming version 1 says it is DESTROYED;
#   - after the rotation, a request naming no version is signed with
#     version 2 (openssl checks it).

. "$(dirname "${BASH_SOURCE[0]}")/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts (1 worker, 2 attempts, 200 ms retry base)" \
	wf_start "$DATA" SIGNET_WORKERS=1 SIGNET_MAX_ATTEMPTS=2 SIGNET_RETRY_BASE_MS=200
new_key "$ADMIN_KEY" ks-ec EC-P256
KID=$K_ID
new_principal "$ADMIN_KEY" ks-signer '["signer"]'
SIGNER=$P_KEY
new_principal "$ADMIN_KEY" ks-approver '["approver"]'
APPROVER=$P_KEY
api "$ADMIN_KEY" POST /v1/policies '{"project":"ks","slug":"gate","key":"ks-ec","approvals_required":1}'
require "create policy ks/gate: $STATUS" [ "$STATUS" = 201 ]

# gated [EXTRA-JSON]: a request under ks/gate, waiting for one approval; sets REQ and DIG
gated() {
	DIG=$(rand_digest)
	api "$SIGNER" POST /v1/sign "$(jq -cn --arg d "$DIG" --argjson x "${1:-{\}}" \
		'{policy:"ks/gate",digest:$d,hash_algorithm:"SHA-256"} + $x')"
	require "submit under ks/gate: $STATUS $RESP" [ "$STATUS" = 202 ]
	REQ=$(jget .request_id)
}
approve() {
	api "$APPROVER" POST "/v1/approvals/$1/approve"
	require "approve $1: $STATUS $RESP" [ "$STATUS" = 200 ]
}
# audit_of ACTION: the key's audit entries with that action, as a JSON array
audit_of() {
	api "$ADMIN_KEY" GET "/v1/audit?limit=10000"
	jget "[.entries[] | select(.object == \"$KID\" and .action == \"$1\")]"
}
no_signature() {
	assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures WHERE request_id = '$1'")" 0 "$2"
}

# ---- status through the service: audit entry and log line, a refusal leaves neither
gated
DISABLED_REQ=$REQ
api "$ADMIN_KEY" PATCH "/v1/keys/$KID" '{"status":"DISABLED"}'
assert_status 200 "PATCH ks-ec to DISABLED after a request was submitted for it"
assert_json .status DISABLED "the answer is the key, now DISABLED"
PATCH_RID=$RID
AUD=$(audit_of key.status_changed)
assert_eq "$(jq length <<<"$AUD")" 1 "one key.status_changed entry"
assert_eq "$(jq -r '.[0].details | "\(.status) \(.request_id)"' <<<"$AUD")" "DISABLED $PATCH_RID" \
	"... with the new status and the PATCH's request id"
ACTOR=$(jq -r '.[0].actor' <<<"$AUD")
assert_match "$ACTOR" '.' "... and the admin as its actor"
assert_eq "$(grep -c "key $KID status DISABLED by $ACTOR" "$SERVER_LOG")" 1 "the log says who disabled the key, once"
api "$ADMIN_KEY" PATCH "/v1/keys/$KID" '{"status":"disabled"}'
assert_error 400 INVALID_ARGUMENT "PATCH to a status in the wrong case"
api "$ADMIN_KEY" PATCH "/v1/keys/$KID" '{"status":7}'
assert_error 400 INVALID_ARGUMENT "PATCH to a status that is not a string"
assert_eq "$(jq length <<<"$(audit_of key.status_changed)")" 1 "the refused PATCHes are not audited"
api "$ADMIN_KEY" GET "/v1/keys/$KID"
assert_json .status DISABLED "... and changed nothing"

# ---- the worker refuses the DISABLED key: retried, then DEAD_LETTER
approve "$DISABLED_REQ"
wait_request "$SIGNER" "$DISABLED_REQ" DEAD_LETTER 20
assert_json '"\(.status) \(.attempts)"' "DEAD_LETTER 2" "a request for a key DISABLED while it waited ends DEAD_LETTER after 2 attempts"
assert_json .error "the key is not ONLINE" "... with the reason in error"
no_signature "$DISABLED_REQ" "store: no signature record for it"

# ---- the current version destroyed while requests wait
api "$ADMIN_KEY" PATCH "/v1/keys/$KID" '{"status":"ONLINE"}'
require "ks-ec ONLINE again: $STATUS" [ "$STATUS" = 200 ]
require "export ks-ec version 1" fetch_pem ks-ec 1 "$E2E_TMP/v1.pem"
gated
GONE_REQ=$REQ
gated '{"key_version":1}'
PINNED_REQ=$REQ
api "$ADMIN_KEY" DELETE "/v1/keys/$KID/versions/1"
assert_status 200 "destroy ks-ec's current version 1 while two requests wait"
assert_json .state DESTROYED "the answer is version 1, DESTROYED"
DELETE_RID=$RID
api "$ADMIN_KEY" DELETE "/v1/keys/ks-ec/versions/1"
assert_status 200 "destroying version 1 again, by alias, is harmless"
assert_json .state DESTROYED "... and answers version 1 as it is"
AUD=$(audit_of key.version_destroyed)
assert_eq "$(jq -r 'map("\(.details.version) \(.details.request_id) \(.actor)") | join(",")' <<<"$AUD")" \
	"1 $DELETE_RID $ACTOR" "one key.version_destroyed entry: version 1, the first DELETE's request id, the admin"
assert_eq "$(grep -c "key $KID version 1 destroyed by $ACTOR" "$SERVER_LOG")" 1 "the log says who destroyed version 1, once"

approve "$GONE_REQ"
wait_request "$SIGNER" "$GONE_REQ" DEAD_LETTER 20
assert_json '"\(.status) \(.attempts)"' "DEAD_LETTER 2" "a request whose key version was destroyed while it waited ends DEAD_LETTER after 2 attempts"
assert_json .error "the key version is destroyed" "... with the reason in error"
no_signature "$GONE_REQ" "store: no signature record for it"

# ---- rotated: the pinned request fails for good, a new request signs with version 2
api "$ADMIN_KEY" POST "/v1/keys/$KID/rotate"
require "rotate ks-ec: $STATUS" [ "$STATUS" = 200 ]
require "export ks-ec version 2" fetch_pem ks-ec 2 "$E2E_TMP/v2.pem"
api "$SIGNER" POST /v1/sign "$(sign_body ks-ec "$(rand_digest)" SHA-256 '{"key_version":1}')"
assert_error 409 KEY_NOT_ACTIVE "a synchronous sign naming the destroyed, rotated-out version 1"
assert_contains "$(jget .error.message)" DESTROYED "... says version 1 is DESTROYED"
approve "$PINNED_REQ"
wait_request "$SIGNER" "$PINNED_REQ" FAILED 20
assert_json '"\(.status) \(.attempts)"' "FAILED 1" "the request pinned to version 1 FAILS at once once version 2 is current"
assert_json .error "the requested key version is no longer the current one" "... with the reason in error"
no_signature "$PINNED_REQ" "store: no signature record for it"

gated
approve "$REQ"
assert_request_reaches "$SIGNER" "$REQ" SIGNED "a request submitted after the rotation"
assert_json .key_version 2 "... is signed with version 2"
assert_ec_verifies "$E2E_TMP/v2.pem" "$DIG" "$(jget .signature)" "openssl verifies it with version 2's public key"
assert_ec_rejects "$E2E_TMP/v1.pem" "$DIG" "$(jget .signature)" "openssl refuses it with version 1's public key"

e2e_finish
