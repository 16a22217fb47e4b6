#!/usr/bin/env bash
#
# dg_sync.sh - the digest API's synchronous flow, as its reference document
# (qcecuring-signing-workflows.txt, "Digest-Based Signing") runs it.
#
# The document's own commands run as written, only the host and the token
# substituted: openssl dgst and base64 make digest.txt, curl posts it to
# /api/v1/sign/digest.  Checked (SPEC §4 C1-C4, C8, C9): 200 with exactly
# {requestId, status: "SIGNED", signature}; the signature is the key's
# default scheme and openssl verifies it over the original file (RSA
# PKCS#1 v1.5, ECDSA DER, Ed25519 over the digest bytes), with sha256,
# sha384 and sha512; keyId by alias or id; without keyId the principal's
# default policy signs; a policy that timestamps adds `timestamp`, an RFC
# 3161 token over the signature that openssl ts verifies; an
# Idempotency-Key retry answers the first outcome; the requestId is
# the native request, the signature a native record with the metadata, and
# the same audit chain as native signing verifies.  Bad input (missing
# digest, wrong length, hex, unknown algorithm, unknown key, offline key,
# neither keyId nor default policy, unknown field, bad or no credentials,
# wrong role) gets the native error shape and code and stores nothing.

. "$(dirname "${BASH_SOURCE[0]}")/../workflow/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA"
W=$E2E_TMP/w
mkdir -p "$W"
cd "$W" || exit 2

new_key "$ADMIN_KEY" dg-rsa RSA-2048
RSA_ID=$K_ID
new_key "$ADMIN_KEY" dg-ec EC-P256
EC_ID=$K_ID
new_key "$ADMIN_KEY" dg-ed Ed25519
for k in dg-rsa dg-ec dg-ed; do
	require "export the $k public key" fetch_pem "$k" 1 "$W/$k.pem"
done
new_principal "$ADMIN_KEY" ci '["signer"]'
TOKEN=$P_KEY CI_ID=$P_ID
new_principal "$ADMIN_KEY" reader '["auditor"]'
AUDITOR=$P_KEY

# The artifact the document signs.
head -c 70000 /dev/urandom >myapp.exe

# ---- the document's example, as written
openssl dgst -sha256 -binary myapp.exe > digest.bin
base64 digest.bin > digest.txt
DIGEST_B64=$(cat digest.txt)
code=$(curl -s -o out.json -w '%{http_code}' -X POST "$BASE_URL"/api/v1/sign/digest \
	-H "Authorization: Bearer $TOKEN" \
	-H "Content-Type: application/json" \
	-d '{"digest":"'"$DIGEST_B64"'", "algorithm":"sha256", "metadata": {"filename":"myapp.exe"}}')
RESP=$(cat out.json)
assert_eq "$code" 400 "the example before the principal has a default policy -> 400"
assert_json .error.code INVALID_ARGUMENT "neither keyId nor a default policy -> INVALID_ARGUMENT (C4)"
assert_contains "$(jget .error.message)" default_policy "the message says how to give the principal a default policy"

# The principal gets a default policy (C4); then the document's example works unchanged.
api "$ADMIN_KEY" POST /v1/policies '{"project":"myapp","slug":"release","key":"dg-rsa"}'
require "create policy myapp/release: $STATUS $RESP" [ "$STATUS" = 201 ]
api "$ADMIN_KEY" PATCH "/v1/principals/$CI_ID" '{"default_policy":"myapp/release"}'
require "give ci the default policy myapp/release: $STATUS $RESP" [ "$STATUS" = 200 ]

code=$(curl -s -o out.json -D out.hdr -w '%{http_code}' -X POST "$BASE_URL"/api/v1/sign/digest \
	-H "Authorization: Bearer $TOKEN" \
	-H "Content-Type: application/json" \
	-d '{"digest":"'"$DIGEST_B64"'", "algorithm":"sha256", "metadata": {"filename":"myapp.exe"}}')
RESP=$(cat out.json)
assert_eq "$code" 200 "the document's curl example signs synchronously -> 200"
assert_json 'keys | join(",")' "requestId,signature,status" "the answer is exactly {requestId, status, signature} (C1)"
assert_json .status SIGNED "status is SIGNED"
REQ1=$(jget .requestId)
jget .signature | base64 -d >sig1.bin
assert_ok "openssl verifies the RSA PKCS#1 v1.5 signature over myapp.exe (default policy's key)" \
	openssl dgst -sha256 -verify dg-rsa.pem -signature sig1.bin myapp.exe
cat myapp.exe >myapp2.exe && printf x >>myapp2.exe
assert_fails "the negative control: openssl refuses it over another file" \
	openssl dgst -sha256 -verify dg-rsa.pem -signature sig1.bin myapp2.exe

# C2: the requestId is the native request; the signature a native record.
api "$TOKEN" GET "/v1/requests/$REQ1"
assert_status 200 "GET /v1/requests/{requestId} finds the digest API's request"
assert_json '[.status, .policy, .key_id, .hash_algorithm, .signature_algorithm, .metadata.filename] | join(" ")' \
	"SIGNED myapp/release $RSA_ID SHA-256 RSA-PKCS1 myapp.exe" \
	"the native request: SIGNED under myapp/release with dg-rsa, SHA-256, RSA-PKCS1, the metadata kept"
SIG1_ID=$(jget .signature_id)
api "$AUDITOR" GET "/v1/signatures/$SIG1_ID"
assert_status 200 "GET /v1/signatures/{id} (auditor) finds the record"
assert_json '[.request_id, .created_by, .digest, .metadata.filename] | join(" ")' \
	"$REQ1 $CI_ID $DIGEST_B64 myapp.exe" "the record names the request, the submitter, the digest and the metadata"
assert_eq "$(jget .signature)" "$(base64 -w0 sig1.bin)" "the record holds the same signature bytes"

# GET /api/v1/sign/requests/{requestId} of a signed request
api "$TOKEN" GET "/api/v1/sign/requests/$REQ1"
assert_status 200 "GET /api/v1/sign/requests/{requestId}"
assert_json '[.requestId, .status] | join(" ")' "$REQ1 SIGNED" "it shows SIGNED"
assert_eq "$(jget .signature)" "$(base64 -w0 sig1.bin)" "and the same signature"
assert_json 'has("timestamp")' false "no timestamp when the policy does not timestamp (C8)"

# ---- keyId by alias and by id, every algorithm word, every key type
# dsign KEY-ID ALGO: sign a fresh file's digest with keyId; sets RESP, FILE
n=0
dsign() {
	n=$((n + 1))
	FILE=$W/file.$n
	head -c $((1000 + n)) /dev/urandom >"$FILE"
	openssl dgst "-$2" -binary "$FILE" >"$FILE.dgst"
	api "$TOKEN" POST /api/v1/sign/digest "$(jq -cn --arg d "$(base64 -w0 "$FILE.dgst")" --arg a "$2" --arg k "$1" \
		'{digest:$d, algorithm:$a, keyId:$k, metadata:{n:1}}')"
	jget .signature | base64 -d >"$FILE.sig" 2>/dev/null
}
for a in sha256 sha384 sha512; do
	dsign dg-ec "$a"
	assert_status 200 "keyId dg-ec (alias), algorithm $a"
	assert_ok "openssl verifies the ECDSA (DER) signature over the file with $a" \
		openssl dgst "-$a" -verify dg-ec.pem -signature "$FILE.sig" "$FILE"
	dsign "$RSA_ID" "$a"
	assert_status 200 "keyId = dg-rsa's id, algorithm $a"
	assert_ok "openssl verifies the RSA PKCS#1 v1.5 signature over the file with $a" \
		openssl dgst "-$a" -verify dg-rsa.pem -signature "$FILE.sig" "$FILE"
done
dsign dg-ed sha512
assert_status 200 "keyId dg-ed (Ed25519), sha512"
assert_ok "openssl verifies the Ed25519 signature over the digest bytes" \
	openssl pkeyutl -verify -pubin -inkey dg-ed.pem -rawin -in "$FILE.dgst" -sigfile "$FILE.sig"
# algorithm defaults to sha256 (C3)
head -c 32 /dev/urandom >d32.bin
D32B=$(head -c 32 /dev/urandom | base64 -w0)
api "$TOKEN" POST /api/v1/sign/digest "$(jq -cn --arg d "$(base64 -w0 d32.bin)" '{digest:$d, keyId:"dg-ec"}')"
assert_status 200 "no algorithm: sha256 is the default"
jget .signature | base64 -d >d32.sig
assert_ok "openssl verifies it as a SHA-256 ECDSA signature over the digest" \
	openssl pkeyutl -verify -pubin -inkey dg-ec.pem -in d32.bin -sigfile d32.sig
api "$TOKEN" GET "/v1/requests/$(jget .requestId)"
assert_json .hash_algorithm SHA-256 "the native request says SHA-256"
# URL-safe base64 without padding is a digest too (SPEC §2)
api "$TOKEN" POST /api/v1/sign/digest "$(jq -cn --arg d "$(base64 -w0 d32.bin | tr '+/' '-_' | tr -d =)" \
	'{digest:$d, algorithm:"sha256", keyId:"dg-ec"}')"
assert_status 200 "a URL-safe, unpadded digest"

# ---- C8: a policy that timestamps
api "$ADMIN_KEY" POST /v1/policies '{"project":"myapp","slug":"stamped","key":"dg-ec","timestamp":true}'
require "create policy myapp/stamped: $STATUS $RESP" [ "$STATUS" = 201 ]
api "$ADMIN_KEY" PATCH "/v1/principals/$CI_ID" '{"default_policy":"myapp/stamped"}'
require "switch ci to myapp/stamped: $STATUS" [ "$STATUS" = 200 ]
code=$(curl -s -o out.json -w '%{http_code}' -X POST "$BASE_URL"/api/v1/sign/digest \
	-H "Authorization: Bearer $TOKEN" \
	-H "Content-Type: application/json" \
	-d '{"digest":"'"$DIGEST_B64"'", "algorithm":"sha256", "metadata": {"filename":"myapp.exe"}}')
RESP=$(cat out.json)
assert_eq "$code" 200 "the document's example under a timestamping default policy -> 200"
assert_json 'keys | join(",")' "requestId,signature,status,timestamp" "the answer adds the timestamp token"
REQ_TS=$(jget .requestId)
jget .signature | base64 -d >sig_ts.bin
jget .timestamp | base64 -d >ts.der
assert_ok "openssl verifies the ECDSA signature over myapp.exe" \
	openssl dgst -sha256 -verify dg-ec.pem -signature sig_ts.bin myapp.exe
curl -s -o tsa.pem "$BASE_URL/tsa/certificate"
assert_eq "$(openssl ts -verify -in ts.der -token_in -data sig_ts.bin -CAfile tsa.pem 2>&1 | tail -n1)" \
	"Verification: OK" "openssl ts -verify: the timestamp is an RFC 3161 token over the signature value (C8)"
assert_fails "openssl ts -verify refuses the token for other data" \
	openssl ts -verify -in ts.der -token_in -data myapp.exe -CAfile tsa.pem
api "$TOKEN" GET "/api/v1/sign/requests/$REQ_TS"
assert_eq "$(jget .timestamp)" "$(base64 -w0 ts.der)" "GET /api/v1/sign/requests/{id} shows the same timestamp"
api "$ADMIN_KEY" PATCH "/v1/principals/$CI_ID" '{"default_policy":"myapp/release"}'

# ---- an Idempotency-Key makes a retry return the first outcome
IDEM_BODY=$(jq -cn --arg d "$(base64 -w0 d32.bin)" '{digest:$d, keyId:"dg-ec", metadata:{try:1}}')
api "$TOKEN" POST /api/v1/sign/digest "$IDEM_BODY" -H "Idempotency-Key: build-77"
assert_status 200 "a request with an Idempotency-Key"
IDEM_REQ=$(jget .requestId) IDEM_SIG=$(jget .signature)
api "$TOKEN" POST /api/v1/sign/digest "$IDEM_BODY" -H "Idempotency-Key: build-77"
assert_json '"\(.requestId) \(.signature)"' "$IDEM_REQ $IDEM_SIG" "its retry answers the same requestId and signature"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures WHERE request_id = '$IDEM_REQ'")" 1 "and signs once"
api "$TOKEN" POST /api/v1/sign/digest "$(jq -cn --arg d "$D32B" '{digest:$d, keyId:"dg-ec"}')" -H "Idempotency-Key: build-77"
assert_error 409 CONFLICT "the same Idempotency-Key with another body"

# ---- bad input: the native error shape (checked by api) and code, nothing stored
count_rows() {
	echo "$(sql "$DATA" "SELECT count(*) FROM requests")/$(sql "$DATA" "SELECT count(*) FROM signatures")/$(sql "$DATA" "SELECT count(*) FROM audit_log")"
}
BEFORE=$(count_rows)
bad() { # bad API-KEY BODY STATUS CODE DESCRIPTION [MESSAGE-PART]
	api "$1" POST /api/v1/sign/digest "$2"
	assert_error "$3" "$4" "$5"
	if [ -n "${6:-}" ]; then
		assert_contains "$(jget .error.message)" "$6" "$5: the message says '$6'"
	fi
}
D=$(base64 -w0 d32.bin)
bad "$TOKEN" '{"algorithm":"sha256","keyId":"dg-ec"}' 400 INVALID_ARGUMENT "missing digest" digest
bad "$TOKEN" "{\"digest\":\"$D\",\"algorithm\":\"sha384\",\"keyId\":\"dg-ec\"}" 400 DIGEST_LENGTH_MISMATCH "a 32-byte digest declared sha384" 48
bad "$TOKEN" "{\"digest\":\"$(head -c 20 /dev/urandom | base64 -w0)\",\"keyId\":\"dg-ec\"}" 400 DIGEST_LENGTH_MISMATCH "a 20-byte digest with the sha256 default"
bad "$TOKEN" "{\"digest\":\"$(to_hex d32.bin)\",\"algorithm\":\"sha256\",\"keyId\":\"dg-ec\"}" 400 INVALID_ARGUMENT "a hex digest" hex
bad "$TOKEN" "{\"digest\":\"$D\",\"algorithm\":\"md5\",\"keyId\":\"dg-ec\"}" 400 UNSUPPORTED_HASH_ALGORITHM "algorithm md5" sha256
bad "$TOKEN" "{\"digest\":\"$D\",\"algorithm\":\"SHA-256\",\"keyId\":\"dg-ec\"}" 400 UNSUPPORTED_HASH_ALGORITHM "algorithm SHA-256 (the document's words are lower case)"
bad "$TOKEN" "{\"digest\":\"$D\",\"algorithm\":\"sha3-256\",\"keyId\":\"dg-ec\"}" 400 UNSUPPORTED_HASH_ALGORITHM "algorithm sha3-256"
bad "$TOKEN" "{\"digest\":\"$D\",\"keyId\":\"no-such-key\"}" 404 NOT_FOUND "an unknown keyId" no-such-key
bad "$TOKEN" "{\"digest\":\"$D\",\"keyId\":\"dg-ec\",\"keyVersion\":2}" 400 INVALID_ARGUMENT "an unknown field" keyVersion
bad "$TOKEN" "{\"digest\":\"$D\",\"keyId\":\"dg-ec\",\"async\":\"yes\"}" 400 INVALID_ARGUMENT "async as a string" async
bad "$TOKEN" "{\"digest\":\"$D\",\"keyId\":\"dg-ec\",\"metadata\":[1]}" 400 INVALID_ARGUMENT "metadata not an object" metadata
bad "$TOKEN" '{"digest":' 400 INVALID_ARGUMENT "malformed JSON"
bad "bogus-token" "{\"digest\":\"$D\",\"keyId\":\"dg-ec\"}" 401 UNAUTHENTICATED "a bad Bearer token"
bad "" "{\"digest\":\"$D\",\"keyId\":\"dg-ec\"}" 401 UNAUTHENTICATED "no credentials"
bad "$AUDITOR" "{\"digest\":\"$D\",\"keyId\":\"dg-ec\"}" 403 PERMISSION_DENIED "an auditor (not a signer)"
api "$TOKEN" GET /api/v1/sign/digest
assert_error 405 METHOD_NOT_ALLOWED "GET /api/v1/sign/digest"
api "$TOKEN" GET /api/v1/sign/nothing-here
assert_error 404 NOT_FOUND "an unknown path under /api/v1/sign/"
api "$TOKEN" GET /api/v1/sign/requests/00000000-0000-4000-8000-000000000000
assert_error 404 NOT_FOUND "GET /api/v1/sign/requests/ of an unknown id"
# the audit log records failed authentications, so count requests and signatures for those
AFTER=$(count_rows)
assert_eq "${AFTER%/*}" "${BEFORE%/*}" "the refused requests stored no request and no signature (requests/signatures)"
# an OFFLINE key
api "$ADMIN_KEY" PATCH /v1/keys/dg-ec '{"status":"OFFLINE"}'
require "take dg-ec offline: $STATUS" [ "$STATUS" = 200 ]
bad "$TOKEN" "{\"digest\":\"$D\",\"keyId\":\"dg-ec\"}" 409 KEY_NOT_ACTIVE "an OFFLINE key" OFFLINE
api "$ADMIN_KEY" PATCH /v1/keys/dg-ec '{"status":"ONLINE"}'
assert_eq "$(sql "$DATA" "SELECT count(*) FROM requests")" "${BEFORE%%/*}" "the offline key's refusal stored no request"

# ---- another tenant sees nothing
api "$ADMIN_KEY" POST /v1/tenants '{"name":"other"}'
require "create tenant other: $STATUS" [ "$STATUS" = 201 ]
OTHER_T=$(jget .id)
new_principal "$ADMIN_KEY" other-signer '["signer","approver","auditor"]' "$OTHER_T"
OTHER=$P_KEY
api "$OTHER" GET "/api/v1/sign/requests/$REQ1"
assert_error 404 NOT_FOUND "another tenant's principal reads the request"
api "$OTHER" GET "/api/v1/approvals/$REQ1"
assert_error 404 NOT_FOUND "another tenant's principal reads its approvals"
api "$OTHER" POST /api/v1/sign/digest "{\"digest\":\"$D\",\"keyId\":\"$EC_ID\"}"
assert_error 404 NOT_FOUND "another tenant's principal signs with the key's id"

# ---- native and dialect share one audit chain
api "$TOKEN" POST /v1/sign "$(jq -cn --arg d "$D" '{key:"dg-ec",digest:$d,hash_algorithm:"SHA-256"}')"
assert_status 200 "the same principal signs natively with the same key"
NATIVE_REQ=$(jget .request_id)
api "$AUDITOR" GET "/v1/audit?limit=1000"
assert_json "[.entries[] | select(.action == \"request.signed\" and (.object == \"$REQ1\" or .object == \"$NATIVE_REQ\"))] | length" 2 \
	"the audit log holds request.signed for the digest API's request and the native one"
api "$AUDITOR" GET /v1/audit/verify
assert_json .valid true "GET /v1/audit/verify: the one chain verifies"

e2e_finish
