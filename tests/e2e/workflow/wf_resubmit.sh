#!/usr/bin/env bash
#
# wf_resubmit.sh - promote a test-signed build to release signing.
#
# A digest signed under myapp/test-signing (fast, a TEST key) is resubmitted
# under myapp/release-signing (2 approvals, the release key): the new
# request waits for approval, names the original, carries the same digest,
# hash and metadata, and once approved is signed with the release key
# (openssl verifies with the release key's public key, and not with the
# test key).  Only SIGNED requests may be resubmitted (409 otherwise);
# resubmitting needs the signer role and the caller's own tenant.

. "$(dirname "${BASH_SOURCE[0]}")/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA"
api "$ADMIN_KEY" POST /v1/keys '{"alias":"test-key","algorithm":"EC-P256","type":"TEST"}'
require "create the TEST key test-key: $STATUS $RESP" [ "$STATUS" = 201 ]
TEST_KEY_ID=$(jget .id)
new_key "$ADMIN_KEY" release-key EC-P256
RELEASE_KEY_ID=$K_ID
require "export the test-key public key" fetch_pem test-key 1 "$E2E_TMP/test.pem"
require "export the release-key public key" fetch_pem release-key 1 "$E2E_TMP/release.pem"
new_principal "$ADMIN_KEY" ci '["signer"]'
CI=$P_KEY
new_principal "$ADMIN_KEY" rel-mgr '["signer"]'
RELMGR=$P_KEY RELMGR_ID=$P_ID
new_principal "$ADMIN_KEY" approver-1 '["approver"]'
APPR1=$P_KEY
new_principal "$ADMIN_KEY" approver-2 '["approver"]'
APPR2=$P_KEY

api "$ADMIN_KEY" POST /v1/policies '{"project":"myapp","slug":"test-signing","key":"test-key"}'
assert_status 201 "create myapp/test-signing (fast, TEST key)"
api "$ADMIN_KEY" POST /v1/policies '{"project":"myapp","slug":"release-signing","key":"release-key","approvals_required":2,"required_metadata":["build"]}'
assert_status 201 "create myapp/release-signing (2 approvals, release key, needs metadata build)"
api "$ADMIN_KEY" POST /v1/policies '{"project":"myapp","slug":"release-fast","key":"release-key"}'
assert_status 201 "create myapp/release-fast (fast, release key)"

# pbody POLICY DIGEST [EXTRA]: a sign body under POLICY
pbody() {
	jq -cn --arg p "$1" --arg d "$2" --argjson x "${3:-{\}}" '{policy:$p,digest:$d,hash_algorithm:"SHA-256"} + $x'
}
resubmit() {
	api "$1" POST "/v1/requests/$2/resubmit" "$(jq -cn --arg p "$3" --arg d "${4:-}" '{policy:$p} + (if $d == "" then {} else {description:$d} end)')"
}

# ---- the test build
D=$(rand_digest)
api "$CI" POST /v1/sign "$(pbody myapp/test-signing "$D" '{"metadata":{"build":"9","branch":"main"}}')"
assert_status 200 "ci signs build 9 under myapp/test-signing"
ORIG=$(jget .request_id) ORIG_SIG=$(jget .signature_id)
assert_json .key_id "$TEST_KEY_ID" "the test build is signed with test-key"
assert_ec_verifies "$E2E_TMP/test.pem" "$D" "$(jget .signature)" "openssl verifies the test signature with test-key"

# ---- promote it
resubmit "$RELMGR" "$ORIG" myapp/release-signing "promote build 9 to release"
assert_status 202 "rel-mgr resubmits it under myapp/release-signing"
assert_json .status PENDING_APPROVAL "the resubmitted request waits for approval"
NEW=$(jget .request_id)
assert_ne "$NEW" "$ORIG" "the resubmit is a new request"
api "$RELMGR" GET "/v1/requests/$NEW"
assert_json .original_request_id "$ORIG" "the new request names original_request_id"
assert_json .description "promote build 9 to release" "the new request carries the description"
assert_json .digest "$D" "the new request has the same digest"
assert_json .hash_algorithm SHA-256 "the same hash algorithm"
assert_json '.metadata | "\(.build) \(.branch)"' "9 main" "the same metadata (it satisfies release-signing's build)"
assert_json .policy myapp/release-signing "the new request is under myapp/release-signing"
assert_json .key_id "$RELEASE_KEY_ID" "the new request uses the release key"
assert_json .submitted_by "$RELMGR_ID" "the new request is submitted by rel-mgr"
assert_json .approvals_required 2 "the new request needs 2 approvals"
api "$APPR1" GET /v1/approvals
assert_json "[.approvals[] | select(.id == \"$NEW\") | .description] | join(\"\")" "promote build 9 to release" \
	"GET /v1/approvals shows the resubmit with its description"
api "$CI" GET "/v1/requests/$ORIG"
assert_json '[.status, .signature_id, .key_id] | join(" ")' "SIGNED $ORIG_SIG $TEST_KEY_ID" "the original request is unchanged"

api "$APPR1" POST "/v1/approvals/$NEW/approve" '{"comment":"tests passed"}'
assert_status 200 "approver-1 approves the promotion"
api "$APPR2" POST "/v1/approvals/$NEW/approve"
assert_status 200 "approver-2 approves the promotion"
assert_request_reaches "$RELMGR" "$NEW" SIGNED "the promoted request"
REL_SIG=$(jget .signature)
assert_json .key_id "$RELEASE_KEY_ID" "the promoted request is signed with the release key"
assert_ne "$(jget .signature_id)" "$ORIG_SIG" "the promotion has its own signature record"
assert_ec_verifies "$E2E_TMP/release.pem" "$D" "$REL_SIG" "openssl verifies the release signature with release-key"
assert_ec_rejects "$E2E_TMP/test.pem" "$D" "$REL_SIG" "openssl refuses the release signature with test-key"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures WHERE request_id = '$NEW'")/$(sql "$DATA" "SELECT count(*) FROM signatures WHERE request_id = '$ORIG'")" \
	"1/1" "store: one signature record for each of the two requests"
api "$RELMGR" GET "/v1/signatures/$(sql "$DATA" "SELECT signature_id FROM requests WHERE id = '$NEW'")"
assert_json '[.request_id, .key_id, .digest] | join(" ")' "$NEW $RELEASE_KEY_ID $D" "the release signature record"

# A resubmit to a fast policy signs in the call.
resubmit "$CI" "$ORIG" myapp/release-fast
assert_status 200 "a resubmit under the fast myapp/release-fast answers 200"
assert_json .status SIGNED "... SIGNED"
assert_ec_verifies "$E2E_TMP/release.pem" "$D" "$(jget .signature)" "openssl verifies that signature with release-key"
FASTNEW=$(jget .request_id)
api "$CI" GET "/v1/requests/$FASTNEW"
assert_json .original_request_id "$ORIG" "the fast resubmit also names its original"
# The promoted (SIGNED) request can itself be resubmitted.
resubmit "$CI" "$NEW" myapp/test-signing
assert_status 200 "a SIGNED resubmit can be resubmitted again"

# ---- only SIGNED requests
api "$CI" POST /v1/sign "$(pbody myapp/release-signing "$(rand_digest)" '{"metadata":{"build":"10"}}')"
PENDING=$(jget .request_id)
resubmit "$CI" "$PENDING" myapp/test-signing
assert_error 409 FAILED_PRECONDITION "resubmitting a PENDING_APPROVAL request"
assert_contains "$(jget .error.message)" "PENDING_APPROVAL" "the 409 names the request's status"
api "$APPR1" POST "/v1/approvals/$PENDING/reject" '{"comment":"no"}'
resubmit "$CI" "$PENDING" myapp/test-signing
assert_error 409 FAILED_PRECONDITION "resubmitting a REJECTED request"
assert_contains "$(jget .error.message)" "REJECTED" "the 409 names REJECTED"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM requests WHERE original_request_id = '$PENDING'")" 0 \
	"store: the refused resubmits created no request"

# ---- the resubmit is checked like a sign request
api "$CI" POST /v1/sign "$(pbody myapp/test-signing "$(rand_digest)")"
NOMETA=$(jget .request_id)
resubmit "$CI" "$NOMETA" myapp/release-signing
assert_error 400 INVALID_ARGUMENT "resubmitting a request without metadata build under release-signing"
# A resubmit cannot launder a hash the target policy does not allow.
api "$ADMIN_KEY" POST /v1/policies '{"project":"myapp","slug":"legacy-test","key":"test-key","allow_legacy_hashes":true}'
api "$ADMIN_KEY" POST /v1/policies '{"project":"myapp","slug":"sha384-only","key":"release-key","allowed_hash_algorithms":["SHA-384"]}'
api "$CI" POST /v1/sign "$(jq -cn --arg d "$(rand_digest 20)" '{policy:"myapp/legacy-test",digest:$d,hash_algorithm:"SHA-1",metadata:{build:"11"}}')"
assert_status 200 "a SHA-1 digest signed under myapp/legacy-test (allow_legacy_hashes)"
resubmit "$CI" "$(jget .request_id)" myapp/release-signing
assert_error 400 UNSUPPORTED_HASH_ALGORITHM "resubmitting the SHA-1 request under release-signing (no legacy hashes)"
resubmit "$CI" "$ORIG" myapp/sha384-only
assert_error 400 UNSUPPORTED_HASH_ALGORITHM "resubmitting a SHA-256 request under a SHA-384-only policy"
resubmit "$CI" "$ORIG" myapp/nope
assert_error 404 NOT_FOUND "resubmitting under an unknown policy"
resubmit "$CI" 00000000-0000-4000-8000-000000000000 myapp/release-signing
assert_error 404 NOT_FOUND "resubmitting an unknown request"
api "$CI" POST "/v1/requests/$ORIG/resubmit" '{"description":"no policy"}'
assert_error 400 INVALID_ARGUMENT "a resubmit without policy"
api "$CI" POST "/v1/requests/$ORIG/resubmit" '{"policy":"myapp/release-signing","key":"test-key"}'
assert_error 400 INVALID_ARGUMENT "a resubmit with an unknown field"
resubmit "$APPR1" "$ORIG" myapp/release-signing
assert_error 403 PERMISSION_DENIED "an approver (no signer role) resubmits"
api "$ADMIN_KEY" POST /v1/tenants '{"name":"elsewhere"}'
new_principal "$ADMIN_KEY" foreign-signer '["signer"]' elsewhere
resubmit "$P_KEY" "$ORIG" myapp/release-signing
assert_error 404 NOT_FOUND "a signer of another tenant resubmits the request"

e2e_finish
