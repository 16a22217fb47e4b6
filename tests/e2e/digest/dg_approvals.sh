#!/usr/bin/env bash
#
# dg_approvals.sh - quorum approvals through the digest API ("Quorum
# Approvals" in qcecuring-signing-workflows.txt; SPEC §4 C5, C6).
#
# A default policy with 2 approvals holds the document's request (202
# {requestId}, PENDING_APPROVAL); GET /api/v1/approvals/{id} shows
# {requestId, status, approvalsRequired, approvals[]}; the native rules
# hold through the dialect's endpoints: outsiders and the submitter get
# 403, an approver counts once (409), two approvals queue it and a worker
# signs it (openssl verifies); a rejection needs a comment, ends the
# request and stores no signature; requireApproval holds a keyId request
# for one approver-role vote and a fast policy's request for one vote of
# its group.  The votes are the native ones (GET /v1/approvals/{id}).

. "$(dirname "${BASH_SOURCE[0]}")/../workflow/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA"
W=$E2E_TMP/w
mkdir -p "$W"
cd "$W" || exit 2

new_key "$ADMIN_KEY" rel-rsa RSA-3072
require "export the rel-rsa public key" fetch_pem rel-rsa 1 "$W/rel.pem"
api "$ADMIN_KEY" POST /v1/policies '{"project":"app","slug":"release","key":"rel-rsa","approvals_required":2}'
require "create policy app/release (2 approvals): $STATUS" [ "$STATUS" = 201 ]
api "$ADMIN_KEY" POST /v1/policies '{"project":"app","slug":"fast","key":"rel-rsa"}'
require "create policy app/fast (no approvals): $STATUS" [ "$STATUS" = 201 ]
api "$ADMIN_KEY" POST /v1/principals '{"name":"ci","roles":["signer"],"default_policy":"app/release"}'
require "create principal ci (default policy app/release): $STATUS" [ "$STATUS" = 201 ]
TOKEN=$(jget .api_key) CI_ID=$(jget .id)
remember_secret "$TOKEN"
api "$ADMIN_KEY" POST /v1/principals '{"name":"lead","roles":["signer","approver"],"default_policy":"app/release"}'
require "create principal lead (signer + approver): $STATUS" [ "$STATUS" = 201 ]
LEAD=$(jget .api_key)
remember_secret "$LEAD"
new_principal "$ADMIN_KEY" approver-1 '["approver"]'
APPR1=$P_KEY APPR1_ID=$P_ID
new_principal "$ADMIN_KEY" approver-2 '["approver"]'
APPR2=$P_KEY APPR2_ID=$P_ID
new_principal "$ADMIN_KEY" auditor '["auditor"]'
AUDITOR=$P_KEY

head -c 5000 /dev/urandom >myapp.exe
openssl dgst -sha256 -binary myapp.exe > digest.bin
base64 digest.bin > digest.txt

# the document's submit, as written (host and token substituted)
submit() {
	code=$(curl -s -o out.json -w '%{http_code}' -X POST "$BASE_URL"/api/v1/sign/digest \
		-H "Authorization: Bearer $1" \
		-H "Content-Type: application/json" \
		-d '{"digest":"'"$(cat digest.txt)"'", "algorithm":"sha256", "metadata": {"filename":"myapp.exe"}}')
	RESP=$(cat out.json)
}
vote() { # vote KEY approve|reject ID [BODY]
	api "$1" POST "/api/v1/approvals/$3/$2" "${4:-}"
}

# ---- two approvals
submit "$TOKEN"
assert_eq "$code" 202 "a request under a 2-approval default policy -> 202"
assert_json 'keys | join(",")' requestId "the answer is exactly {requestId} (C1)"
R1=$(jget .requestId)
api "$TOKEN" GET "/api/v1/sign/requests/$R1"
assert_json '[.status, has("signature")] | join(" ")' "PENDING_APPROVAL false" "polling shows PENDING_APPROVAL, no signature"
api "$APPR1" GET "/api/v1/approvals/$R1"
assert_status 200 "GET /api/v1/approvals/{id}"
assert_json 'keys | join(",")' "approvals,approvalsRequired,requestId,status" "the fields of C6"
assert_json '"\(.requestId) \(.status) \(.approvalsRequired) \(.approvals | length)"' "$R1 PENDING_APPROVAL 2 0" \
	"PENDING_APPROVAL, 2 required, no votes yet"

vote "$AUDITOR" approve "$R1"
assert_error 403 PERMISSION_DENIED "an auditor (outside the approver group) approves"
vote "$TOKEN" approve "$R1"
assert_error 403 PERMISSION_DENIED "the submitter (a signer) approves its own request"
vote "$APPR1" approve "$R1" '{"comment":"tests passed"}'
assert_status 200 "approver-1 approves with a comment"
assert_json '"\(.status) \(.approvalsRequired) \(.approvals | length)"' "PENDING_APPROVAL 2 1" "one of two: still PENDING_APPROVAL"
assert_json '.approvals[0] | "\(.approver) \(.decision) \(.comment)"' "$APPR1_ID APPROVED tests passed" \
	"the vote shows approver, decision and comment"
assert_match "$(jget '.approvals[0].at')" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "and when (at, ISO 8601 UTC)"
vote "$APPR1" approve "$R1"
assert_error 409 CONFLICT "approver-1 approves again"
vote "$APPR1" reject "$R1" '{"comment":"changed my mind"}'
assert_error 409 CONFLICT "approver-1 votes again with a rejection"
vote "$APPR2" approve "$R1"
assert_status 200 "approver-2 approves (the document's POST, no body)"
assert_match "$(jget .status)" '^(QUEUED|PROCESSING|SIGNED)$' "the second approval queues it"
assert_request_reaches "$TOKEN" "$R1" SIGNED "the approved request"
api "$TOKEN" GET "/api/v1/sign/requests/$R1"
assert_json .status SIGNED "the digest API shows SIGNED"
jget .signature | base64 -d >s1.bin
assert_ok "openssl verifies the approved RSA PKCS#1 v1.5 signature over myapp.exe" \
	openssl dgst -sha256 -verify rel.pem -signature s1.bin myapp.exe
api "$APPR1" GET "/v1/approvals/$R1"
assert_json '[.votes[].approver] | sort | join(" ")' "$(printf '%s\n' "$APPR1_ID" "$APPR2_ID" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"the native view holds the same two votes"
vote "$AUDITOR" approve "$R1"
assert_error 403 PERMISSION_DENIED "an outsider on a signed request: still 403"
new_principal "$ADMIN_KEY" approver-3 '["approver"]'
APPR3=$P_KEY
vote "$APPR3" approve "$R1"
assert_error 409 FAILED_PRECONDITION "a vote on a signed request"

# ---- the submitter holds the approver role too
submit "$LEAD"
R2=$(jget .requestId)
vote "$LEAD" approve "$R2"
assert_error 403 PERMISSION_DENIED "lead (signer + approver) approves its own request"
assert_contains "$(jget .error.message)" submitter "the 403 says the submitter cannot approve"

# ---- rejection
submit "$TOKEN"
R3=$(jget .requestId)
vote "$APPR1" reject "$R3"
assert_error 400 INVALID_ARGUMENT "reject without a body"
assert_contains "$(jget .error.message)" comment "the 400 asks for a comment"
vote "$APPR1" reject "$R3" '{"comment":""}'
assert_error 400 INVALID_ARGUMENT "reject with an empty comment"
vote "$APPR1" reject "$R3" '{"comment":"no","extra":1}'
assert_error 400 INVALID_ARGUMENT "reject with an unknown field"
api "$APPR1" GET "/api/v1/approvals/$R3"
assert_json '"\(.status) \(.approvals | length)"' "PENDING_APPROVAL 0" "the refused votes recorded nothing"
vote "$APPR1" reject "$R3" '{"comment":"not from the release branch"}'
assert_status 200 "approver-1 rejects with a comment"
assert_json '"\(.status) \(.approvals[0].decision) \(.approvals[0].comment)"' "REJECTED REJECTED not from the release branch" \
	"one rejection ends it: REJECTED, the vote and its comment shown"
vote "$APPR2" approve "$R3"
assert_error 409 FAILED_PRECONDITION "an approval after the rejection"
sleep 0.5
api "$TOKEN" GET "/api/v1/sign/requests/$R3"
assert_json '[.status, has("signature")] | join(" ")' "REJECTED false" "the digest API shows REJECTED, no signature"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures WHERE request_id = '$R3'")" 0 "SQLite: no signature for the rejected request"

# ---- requireApproval (C5)
head -c 32 /dev/urandom >k.bin
api "$TOKEN" POST /api/v1/sign/digest "$(jq -cn --arg d "$(base64 -w0 k.bin)" '{digest:$d, keyId:"rel-rsa", requireApproval:true}')"
assert_status 202 "keyId with requireApproval -> 202"
R4=$(jget .requestId)
api "$APPR1" GET "/api/v1/approvals/$R4"
assert_json '"\(.status) \(.approvalsRequired)"' "PENDING_APPROVAL 1" "it waits for one approval"
vote "$AUDITOR" approve "$R4"
assert_error 403 PERMISSION_DENIED "without a policy the approver role decides: an auditor may not"
vote "$APPR2" approve "$R4"
assert_status 200 "an approver approves"
assert_request_reaches "$TOKEN" "$R4" SIGNED "the keyId request held by requireApproval"
jget .signature | base64 -d >s4.bin
assert_ok "openssl verifies it" openssl pkeyutl -verify -pubin -inkey rel.pem -in k.bin -sigfile s4.bin -pkeyopt digest:sha256
api "$ADMIN_KEY" PATCH "/v1/principals/$CI_ID" '{"default_policy":"app/fast"}'
require "switch ci to app/fast: $STATUS" [ "$STATUS" = 200 ]
api "$TOKEN" POST /api/v1/sign/digest "$(jq -cn --arg d "$(base64 -w0 k.bin)" '{digest:$d}')"
assert_status 200 "under the fast policy a plain request signs at once"
api "$TOKEN" POST /api/v1/sign/digest "$(jq -cn --arg d "$(base64 -w0 k.bin)" '{digest:$d, requireApproval:true}')"
assert_status 202 "under the fast policy requireApproval still holds it -> 202"
R5=$(jget .requestId)
api "$APPR1" GET "/api/v1/approvals/$R5"
assert_json '"\(.status) \(.approvalsRequired)"' "PENDING_APPROVAL 1" "max(1, 0) = 1 approval required"
vote "$APPR1" reject "$R5" '{"comment":"not now"}'
assert_json .status REJECTED "and one rejection ends it"

api "$AUDITOR" GET /v1/audit/verify
assert_json .valid true "the audit chain with every vote verifies"

e2e_finish
