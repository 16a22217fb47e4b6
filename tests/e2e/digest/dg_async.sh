#!/usr/bin/env bash
#
# dg_async.sh - the digest API's asynchronous flow ("Asynchronous
# Signing" in qcecuring-signing-workflows.txt), with one worker, two
# attempts and an 8 s retry delay so that the queue's states can be seen.
#
# The document's own requests run as written (host, token and id
# substituted): the POST without a Content-Type answers 202 with exactly
# {"requestId"} (C1, C3), and polling /api/v1/sign/requests/{requestId}
# only ever shows QUEUED, PROCESSING or SIGNED until it is SIGNED with a
# signature openssl verifies.  A request whose key goes offline after it
# was accepted is seen QUEUED between attempts (the native request shows
# the failed attempt), is signed once the key is back, and one left offline
# ends FAILED (native DEAD_LETTER, C7) with its error and no signature.

. "$(dirname "${BASH_SOURCE[0]}")/../workflow/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts (1 worker, 2 attempts, 8 s retry base)" \
	wf_start "$DATA" SIGNET_WORKERS=1 SIGNET_MAX_ATTEMPTS=2 SIGNET_RETRY_BASE_MS=8000
W=$E2E_TMP/w
mkdir -p "$W"
cd "$W" || exit 2

new_key "$ADMIN_KEY" as-ec EC-P256
require "export the as-ec public key" fetch_pem as-ec 1 "$W/as-ec.pem"
api "$ADMIN_KEY" POST /v1/policies '{"project":"app","slug":"ci","key":"as-ec"}'
require "create policy app/ci: $STATUS" [ "$STATUS" = 201 ]
api "$ADMIN_KEY" POST /v1/principals '{"name":"ci","roles":["signer"],"default_policy":"app/ci"}'
require "create principal ci with default policy app/ci: $STATUS $RESP" [ "$STATUS" = 201 ]
TOKEN=$(jget .api_key)
remember_secret "$TOKEN"
new_principal "$ADMIN_KEY" approver '["approver"]'
APPROVER=$P_KEY

# poll ID [TIMEOUT]: poll the document's GET until a final word; SEEN lists every word seen
ALLOWED='^(QUEUED|PROCESSING|SIGNED|FAILED|PENDING_APPROVAL|REJECTED)$'
poll() {
	local id=$1 deadline=$(($(date +%s) + ${2:-30})) st
	SEEN=""
	while :; do
		# the document's poll, as written (host and token substituted)
		code=$(curl -s -o poll.json -w '%{http_code}' "$BASE_URL"/api/v1/sign/requests/"$id" -H "Authorization: Bearer $TOKEN")
		RESP=$(cat poll.json)
		st=$(jget .status)
		SEEN+="$st "
		case $st in
		SIGNED | FAILED | REJECTED) return 0 ;;
		esac
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# ---- the document's example, as written
head -c 32 /dev/urandom >d1.bin
B64=$(base64 -w0 d1.bin)
code=$(curl -s -o out.json -D out.hdr -w '%{http_code}' -X POST "$BASE_URL"/api/v1/sign/digest -H "Authorization: Bearer $TOKEN" -d '{"digest":"'"$B64"'","async":true}')
RESP=$(cat out.json)
assert_eq "$code" 202 "the document's async POST (no Content-Type: curl sends form-urlencoded) -> 202 Accepted"
assert_json 'keys | join(",")' requestId "the answer is exactly {\"requestId\": ...}"
ID1=$(jget .requestId)
assert_match "$ID1" '^[0-9a-f-]{36}$' "requestId is a request id"
assert_contains "$(cat out.hdr)" "/api/v1/sign/requests/$ID1" "the 202 has a Location to poll"
poll "$ID1"
assert_eq "$(jget .status)" SIGNED "polling reaches SIGNED"
bad_words=""
for w in $SEEN; do
	[[ "$w" =~ ^(QUEUED|PROCESSING|SIGNED)$ ]] || bad_words+="$w "
done
assert_eq "$bad_words" "" "every word seen while polling is QUEUED, PROCESSING or SIGNED (seen: $SEEN)"
assert_json 'keys | join(",")' "requestId,signature,status" "the signed answer: requestId, status, signature"
jget .signature | base64 -d >s1.bin
assert_ok "openssl verifies the worker's ECDSA signature over the digest" \
	openssl pkeyutl -verify -pubin -inkey as-ec.pem -in d1.bin -sigfile s1.bin
api "$TOKEN" GET "/v1/requests/$ID1"
assert_json '[.status, .policy, .attempts] | join(" ")' "SIGNED app/ci 1" "natively: SIGNED under app/ci after 1 attempt"

# ---- QUEUED between attempts: the key goes offline after the request was accepted
# gated ID-VAR: a request held for one approval (requireApproval, C5), approved while the key is offline
gated() {
	head -c 48 /dev/urandom >"$1.bin"
	api "$TOKEN" POST /api/v1/sign/digest "$(jq -cn --arg d "$(base64 -w0 "$1.bin")" \
		'{digest:$d, algorithm:"sha384", keyId:"as-ec", requireApproval:true}')"
	require "submit with requireApproval: $STATUS $RESP" [ "$STATUS" = 202 ]
	printf -v "$1" '%s' "$(jget .requestId)"
}
gated R2
api "$TOKEN" GET "/api/v1/sign/requests/$R2"
assert_json '[.status, has("signature")] | join(" ")' "PENDING_APPROVAL false" "held for approval: PENDING_APPROVAL, no signature"
api "$ADMIN_KEY" PATCH /v1/keys/as-ec '{"status":"OFFLINE"}'
require "take as-ec offline: $STATUS" [ "$STATUS" = 200 ]
api "$APPROVER" POST "/api/v1/approvals/$R2/approve"
assert_status 200 "approve it through /api/v1/approvals/{id}/approve"
for _ in $(seq 1 100); do
	api "$TOKEN" GET "/v1/requests/$R2"
	[ "$(jget '"\(.status) \(.attempts)"')" = "QUEUED 1" ] && break
	sleep 0.05
done
assert_json '"\(.status) \(.attempts)"' "QUEUED 1" "natively: the first attempt failed and the request waits QUEUED for its retry"
api "$TOKEN" GET "/api/v1/sign/requests/$R2"
assert_json '[.status, has("signature")] | join(" ")' "QUEUED false" "the digest API shows QUEUED, no signature"
api "$ADMIN_KEY" PATCH /v1/keys/as-ec '{"status":"ONLINE"}'
require "bring as-ec back online: $STATUS" [ "$STATUS" = 200 ]
poll "$R2" 30
assert_eq "$(jget .status)" SIGNED "the retry signs it once the key is back (seen: $SEEN)"
jget .signature | base64 -d >s2.bin
assert_ok "openssl verifies the retried SHA-384 ECDSA signature" \
	openssl pkeyutl -verify -pubin -inkey as-ec.pem -in R2.bin -sigfile s2.bin

# ---- FAILED: the key stays offline, the retries run out
gated R3
api "$ADMIN_KEY" PATCH /v1/keys/as-ec '{"status":"OFFLINE"}'
api "$APPROVER" POST "/api/v1/approvals/$R3/approve" '{"comment":"ship it"}'
assert_status 200 "approve the second gated request"
poll "$R3" 60
assert_eq "$(jget .status)" FAILED "with the key offline through both attempts the request ends FAILED (seen: $SEEN)"
assert_json 'has("signature")' false "a FAILED request has no signature"
assert_contains "$(jget .error)" "not ONLINE" "its error says why (the key is not ONLINE)"
api "$TOKEN" GET "/v1/requests/$R3"
assert_json .status DEAD_LETTER "natively it is DEAD_LETTER: the dialect says FAILED for it (C7)"
words_ok=1
for w in $SEEN; do
	[[ "$w" =~ $ALLOWED ]] || words_ok=0
done
assert_eq "$words_ok" 1 "no word outside the six of C7 was ever shown"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures WHERE request_id = '$R3'")" 0 "SQLite: no signature for the failed request"

e2e_finish
