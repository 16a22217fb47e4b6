#!/usr/bin/env bash
#
# e2e_errors.sh - every refused request gets its exact status and stable
# error code (SPEC §3), in the {"error":{code,message,request_id}} shape
# with request_id equal to the X-Request-Id header (lib.sh checks the shape
# on every 4xx/5xx), and a refused request changes nothing: the key list and
# the request list are compared before and after.
#
# Covers: malformed bodies, missing / mistyped / unknown fields, digest
# length and encoding, unknown and legacy hashes, oversized bodies, unknown
# keys, OFFLINE and DISABLED keys, schemes and formats that do not fit the
# key, credentials (none, wrong, revoked, deleted principal) and roles.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || exit 2

ADMIN_KEY="e2e-errors-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
new_principal "$ADMIN_KEY" err-signer '["signer"]'
SIGNER_KEY=$P_KEY
new_principal "$ADMIN_KEY" err-auditor '["auditor"]'
AUDITOR_KEY=$P_KEY
new_principal "$ADMIN_KEY" err-admin '["admin"]'
PLAIN_ADMIN_KEY=$P_KEY
new_principal "$ADMIN_KEY" err-approver '["approver"]'
APPROVER_KEY=$P_KEY

new_key "$ADMIN_KEY" err-ec EC-P256
EC_ID=$K_ID
new_key "$ADMIN_KEY" err-rsa RSA-2048
RSA_ID=$K_ID
new_key "$ADMIN_KEY" err-ed Ed25519
ED_ID=$K_ID

W=$E2E_TMP/work
mkdir -p "$W"
printf 'errors test artifact\n' >"$W/a.txt"
digest_file SHA-256 "$W/a.txt" "$W/a.sha256"
D256=$(b64 "$W/a.sha256")
digest_file SHA-512 "$W/a.txt" "$W/a.sha512"
D512=$(b64 "$W/a.sha512")
digest_file SHA-384 "$W/a.txt" "$W/a.sha384"
D384=$(b64 "$W/a.sha384")

# A good request first: the refusals below must be about what they change.
api "$SIGNER_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_status 200 "a well-formed sign request (control)"
GOOD_SIG_ID=$(jget .signature_id)
RID_A=$RID
api "$SIGNER_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_ne "$RID" "$RID_A" "each answer has its own X-Request-Id"

# snapshot: the key list and the request list, as the admin sees them
snapshot() {
	local keys reqs
	api "$ADMIN_KEY" GET /v1/keys
	keys=$RESP
	api "$ADMIN_KEY" GET "/v1/requests?limit=1000"
	reqs=$(jq -c '[.requests[].id] | sort' <<<"$RESP")
	printf '%s\n%s\n' "$keys" "$reqs"
}
# unchanged WHAT: compare with the snapshot taken by `baseline`
baseline() { BASE_SNAPSHOT=$(snapshot); }
unchanged() {
	local now
	now=$(snapshot)
	if [ "$now" = "$BASE_SNAPSHOT" ]; then
		ok "nothing changed after $1 (key list and request list identical)"
	else
		fail "nothing changed after $1" "before: $BASE_SNAPSHOT" "after:  $now"
	fi
}
baseline
require "the snapshot lists the 3 keys" test "$(jq -s '.[0].keys | length' <<<"$BASE_SNAPSHOT")" = 3
require "the snapshot lists 2 requests" test "$(sed -n 2p <<<"$BASE_SNAPSHOT" | jq length)" = 2

# ---------------------------------------------------------------- bodies
# sign_raw BODY DESCRIPTION STATUS CODE
bad_sign() {
	api "$SIGNER_KEY" POST /v1/sign "$1"
	assert_error "$3" "$4" "$2"
}
bad_sign '{"key":' "malformed JSON" 400 INVALID_ARGUMENT
bad_sign '{"key":"err-ec","digest":"'"$D256"'","hash_algorithm":"SHA-256",}' "JSON with a trailing comma" 400 INVALID_ARGUMENT
bad_sign '[1,2,3]' "a JSON array instead of an object" 400 INVALID_ARGUMENT
bad_sign '"sign this"' "a JSON string instead of an object" 400 INVALID_ARGUMENT
api "$SIGNER_KEY" POST /v1/sign
assert_error 400 INVALID_ARGUMENT "no body at all"

bad_sign "$(jq -cn --arg d "$D256" '{key:"err-ec",hash_algorithm:"SHA-256"}')" "missing digest" 400 INVALID_ARGUMENT
assert_contains "$(jget .error.message)" digest "the missing-field message names 'digest'"
bad_sign "$(jq -cn --arg d "$D256" '{key:"err-ec",digest:$d}')" "missing hash_algorithm" 400 INVALID_ARGUMENT
assert_contains "$(jget .error.message)" hash_algorithm "the missing-field message names 'hash_algorithm'"
bad_sign "$(jq -cn --arg d "$D256" '{digest:$d,hash_algorithm:"SHA-256"}')" "missing key (and policy)" 400 INVALID_ARGUMENT
bad_sign "$(jq -cn '{key:"err-ec",digest:12345,hash_algorithm:"SHA-256"}')" "digest as a number" 400 INVALID_ARGUMENT
assert_contains "$(jget .error.message)" digest "the mistyped-field message names 'digest'"
bad_sign "$(jq -cn --arg d "$D256" '{key:"err-ec",digest:$d,hash_algorithm:256}')" "hash_algorithm as a number" 400 INVALID_ARGUMENT
bad_sign "$(jq -cn --arg d "$D256" '{key:"err-ec",digest:$d,hash_algorithm:"SHA-256",key_version:"1"}')" "key_version as a string" 400 INVALID_ARGUMENT
bad_sign "$(jq -cn --arg d "$D256" '{key:"err-ec",digest:$d,hash_algorithm:"SHA-256",key_version:0}')" "key_version 0" 400 INVALID_ARGUMENT
bad_sign "$(jq -cn --arg d "$D256" '{key:"err-ec",digest:$d,hash_algorithm:"SHA-256",metadata:"build 7"}')" "metadata as a string" 400 INVALID_ARGUMENT
bad_sign "$(jq -cn --arg d "$D256" '{key:["err-ec"],digest:$d,hash_algorithm:"SHA-256"}')" "key as an array" 400 INVALID_ARGUMENT
bad_sign "$(jq -cn --arg d "$D256" '{key:"err-ec",digest:$d,hash_algorithm:"SHA-256",colour:"blue"}')" "an unknown field" 400 INVALID_ARGUMENT
assert_contains "$(jget .error.message)" colour "the unknown-field message names the field"
bad_sign '{"key":"err-ec","digest":"'"$D256"'","hash_algorithm":"SHA-256","digest":"'"$D512"'"}' "a duplicated field" 400 INVALID_ARGUMENT

# ---------------------------------------------------------------- digests and hashes
bad_sign "$(sign_body err-ec "$D384" SHA-256)" "SHA-256 declared, 48-byte digest" 400 DIGEST_LENGTH_MISMATCH
bad_sign "$(sign_body err-ec "$D256" SHA-512)" "SHA-512 declared, 32-byte digest" 400 DIGEST_LENGTH_MISMATCH
bad_sign "$(sign_body err-ec "$D256" SHA3-384)" "SHA3-384 declared, 32-byte digest" 400 DIGEST_LENGTH_MISMATCH
bad_sign "$(sign_body err-ec "" SHA-256)" "an empty digest" 400 INVALID_ARGUMENT
bad_sign "$(sign_body err-ec "$D256" SHA-999)" "unknown hash SHA-999" 400 UNSUPPORTED_HASH_ALGORITHM
bad_sign "$(sign_body err-ec "$D256" WHIRLPOOL)" "unknown hash WHIRLPOOL" 400 UNSUPPORTED_HASH_ALGORITHM
bad_sign "$(sign_body err-ec "$(openssl dgst -md5 -binary "$W/a.txt" | b64)" MD5)" "MD5 without a policy allowing it" 400 UNSUPPORTED_HASH_ALGORITHM
bad_sign "$(sign_body err-ec "$(openssl dgst -sha1 -binary "$W/a.txt" | b64)" SHA-1)" "SHA-1 without a policy allowing it" 400 UNSUPPORTED_HASH_ALGORITHM
HEX=$(to_hex "$W/a.sha256")
bad_sign "$(sign_body err-ec "$HEX" SHA-256)" "a hex digest (64 hex digits for SHA-256)" 400 INVALID_ARGUMENT
assert_match "$(jget .error.message)" '[Hh][Ee][Xx]' "the hex-digest message says 'hex'"
bad_sign "$(sign_body err-ec "${HEX^^}" SHA-256)" "an upper-case hex digest" 400 INVALID_ARGUMENT
assert_match "$(jget .error.message)" '[Hh][Ee][Xx]' "the upper-case hex-digest message says 'hex'"
bad_sign "$(sign_body err-ec 'this*is!not&base64$at%all' SHA-256)" "a digest that is not base64" 400 INVALID_ARGUMENT
bad_sign "$(sign_body err-ec "${D256:0:20} ${D256:20}" SHA-256)" "a digest with a space inside" 400 INVALID_ARGUMENT
bad_sign "$(sign_body err-ec "${D256//=/}===" SHA-256)" "a digest with too much padding" 400 INVALID_ARGUMENT

# 64 hex digits (sha256sum output) are also base64 of 48 bytes: declared as
# SHA-384 they must still be refused as hex, not signed as 48 garbage bytes.
bad_sign "$(sign_body err-ec "$HEX" SHA-384)" "64 hex digits declared as SHA-384 (also base64 of 48 bytes)" 400 INVALID_ARGUMENT
assert_match "$(jget .error.message)" '[Hh][Ee][Xx]' "the message says 'hex' for 64 hex digits declared as SHA-384"
bad_sign "$(sign_body err-ec "$HEX" SHA3-384)" "64 hex digits declared as SHA3-384" 400 INVALID_ARGUMENT

# ---------------------------------------------------------------- oversized bodies
{
	printf '{"key":"err-ec","hash_algorithm":"SHA-256","digest":"'
	head -c 1100000 /dev/zero | tr '\0' A
	printf '"}'
} >"$W/big.json"
api "$SIGNER_KEY" POST /v1/sign "@$W/big.json"
assert_error 413 PAYLOAD_TOO_LARGE "a 1.1 MB body (with Content-Length)"
api "$SIGNER_KEY" POST /v1/sign "@$W/big.json" -H 'Transfer-Encoding: chunked'
assert_error 413 PAYLOAD_TOO_LARGE "a 1.1 MB body sent chunked (no Content-Length)"
{
	printf '{"key":"err-ec","hash_algorithm":"SHA-256","digest":"%s","metadata":{"pad":"' "$D256"
	head -c 1040000 /dev/zero | tr '\0' x
	printf '"}}'
} >"$W/almost.json"
api "$SIGNER_KEY" POST /v1/sign "@$W/almost.json"
assert_status 200 "a 1,040,000-byte body under the 1 MiB limit is accepted"
api "$SIGNER_KEY" GET "/v1/signatures/$(jget .signature_id)"
assert_json '.metadata.pad | length' 1040000 "its metadata is kept whole"
baseline

# ---------------------------------------------------------------- keys and schemes
bad_sign "$(sign_body no-such-key "$D256" SHA-256)" "an unknown key alias" 404 NOT_FOUND
bad_sign "$(sign_body 00000000-0000-4000-8000-000000000000 "$D256" SHA-256)" "an unknown key id" 404 NOT_FOUND
bad_sign "$(sign_body "$EC_ID" "$D256" SHA-256 '{"signature_algorithm":"RSA-PSS"}')" "RSA-PSS on an EC key" 400 ALGORITHM_MISMATCH
bad_sign "$(sign_body "$EC_ID" "$D256" SHA-256 '{"signature_algorithm":"RSA-PKCS1"}')" "RSA-PKCS1 on an EC key" 400 ALGORITHM_MISMATCH
bad_sign "$(sign_body "$RSA_ID" "$D256" SHA-256 '{"signature_algorithm":"ECDSA"}')" "ECDSA on an RSA key" 400 ALGORITHM_MISMATCH
bad_sign "$(sign_body "$RSA_ID" "$D256" SHA-256 '{"signature_algorithm":"Ed25519"}')" "Ed25519 on an RSA key" 400 ALGORITHM_MISMATCH
bad_sign "$(sign_body "$ED_ID" "$D256" SHA-256 '{"signature_algorithm":"ECDSA"}')" "ECDSA on an Ed25519 key" 400 ALGORITHM_MISMATCH
bad_sign "$(sign_body "$RSA_ID" "$D256" SHA-256 '{"signature_format":"P1363"}')" "P1363 format on an RSA key" 400 ALGORITHM_MISMATCH
bad_sign "$(sign_body "$ED_ID" "$D256" SHA-256 '{"signature_format":"P1363"}')" "P1363 format on an Ed25519 key" 400 ALGORITHM_MISMATCH
# A parameter of another scheme: either code says it plainly; it must not sign.
api "$SIGNER_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256 '{"pss_salt_length":20}')"
assert_match "$STATUS $(jget .error.code)" '^400 (ALGORITHM_MISMATCH|INVALID_ARGUMENT)$' \
	"pss_salt_length on an EC key -> 400 ALGORITHM_MISMATCH or INVALID_ARGUMENT"
bad_sign "$(sign_body "$EC_ID" "$D256" SHA-256 '{"signature_algorithm":"RSA-FOO"}')" "an unknown signature_algorithm" 400 UNSUPPORTED_ALGORITHM
bad_sign "$(sign_body "$EC_ID" "$D256" SHA-256 '{"signature_format":"PEM"}')" "an unknown signature_format" 400 INVALID_ARGUMENT
bad_sign "$(sign_body "$RSA_ID" "$D256" SHA-256 '{"signature_algorithm":"RSA-PSS","pss_salt_length":-1}')" "a negative pss_salt_length" 400 INVALID_ARGUMENT
# RSA-2048 with SHA-256 fits at most 256 - 32 - 2 = 222 bytes of salt
api "$SIGNER_KEY" POST /v1/sign "$(sign_body "$RSA_ID" "$D256" SHA-256 '{"signature_algorithm":"RSA-PSS","pss_salt_length":223}')"
assert_eq "${STATUS:0:1}" 4 "a PSS salt too long for an RSA-2048 key is a client error, not a 5xx (got $STATUS $(jget .error.code))"
bad_sign "$(sign_body "$EC_ID" "$D256" SHA-256 '{"key_version":2}')" "a key_version the key does not have" 404 NOT_FOUND
unchanged "the refused sign requests"

# OFFLINE and DISABLED keys do not sign; ONLINE again does
for st in OFFLINE DISABLED; do
	api "$ADMIN_KEY" PATCH "/v1/keys/$EC_ID" "{\"status\":\"$st\"}"
	assert_status 200 "PATCH the key to $st"
	assert_json .status "$st" "the key says $st"
	bad_sign "$(sign_body "$EC_ID" "$D256" SHA-256)" "signing with a $st key" 409 KEY_NOT_ACTIVE
	bad_sign "$(sign_body err-ec "$D256" SHA-256)" "signing with a $st key by alias" 409 KEY_NOT_ACTIVE
done
api "$ADMIN_KEY" PATCH "/v1/keys/$EC_ID" '{"status":"RETIRED"}'
assert_error 400 INVALID_ARGUMENT "PATCH to an unknown status"
api "$ADMIN_KEY" PATCH "/v1/keys/$EC_ID" '{"status":"ONLINE","alias":"renamed"}'
assert_error 400 INVALID_ARGUMENT "PATCH with a field other than status"
api "$ADMIN_KEY" GET "/v1/keys/$EC_ID"
assert_json '.status + " " + .alias' "DISABLED err-ec" "the refused PATCHes changed neither status nor alias"
api "$ADMIN_KEY" PATCH "/v1/keys/no-such-key" '{"status":"ONLINE"}'
assert_error 404 NOT_FOUND "PATCH an unknown key"
api "$ADMIN_KEY" PATCH "/v1/keys/$EC_ID" '{"status":"ONLINE"}'
assert_status 200 "PATCH the key back ONLINE"
api "$SIGNER_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_status 200 "the ONLINE key signs again"

# key creation errors
api "$ADMIN_KEY" POST /v1/keys '{"alias":"err-ec","algorithm":"EC-P256"}'
assert_error 409 CONFLICT "creating a key with an alias that exists"
api "$ADMIN_KEY" POST /v1/keys '{"alias":"k-new","algorithm":"DSA-1024"}'
assert_error 400 UNSUPPORTED_ALGORITHM "creating a key of an unknown algorithm"
api "$ADMIN_KEY" POST /v1/keys '{"alias":"bad alias!","algorithm":"EC-P256"}'
assert_error 400 INVALID_ARGUMENT "creating a key with an alias holding a space and '!'"
api "$ADMIN_KEY" POST /v1/keys '{"alias":"k-new","algorithm":"EC-P256","storage":"CLOUD"}'
assert_error 400 INVALID_ARGUMENT "creating a key with an unknown storage"
api "$ADMIN_KEY" POST /v1/keys '{"alias":"k-new","algorithm":"EC-P256","owner":"me"}'
assert_error 400 INVALID_ARGUMENT "creating a key with an unknown field"

# ---------------------------------------------------------------- credentials
baseline
api "" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_error 401 UNAUTHENTICATED "signing without credentials"
api "" GET /v1/keys
assert_error 401 UNAUTHENTICATED "listing keys without credentials"
api "sg_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_error 401 UNAUTHENTICATED "signing with an API key that was never issued"
WRONG_SECRET="${SIGNER_KEY:0:${#SIGNER_KEY}-4}"
WRONG_SECRET+=$([ "${SIGNER_KEY: -4}" = AAAA ] && echo BBBB || echo AAAA)
api "$WRONG_SECRET" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_error 401 UNAUTHENTICATED "signing with a real key prefix but a wrong secret"
api "nonsense" GET /v1/keys
assert_error 401 UNAUTHENTICATED "a Bearer token that is not an API key"
api "" GET /v1/keys "" -H "Authorization: Basic $(printf 'u:%s' "$SIGNER_KEY" | b64)"
assert_error 401 UNAUTHENTICATED "HTTP Basic instead of Bearer"
unchanged "the refused credentials"
api "" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)" -H "x-api-key: $SIGNER_KEY"
assert_status 200 "the x-api-key header works too (control)"
baseline

new_principal "$ADMIN_KEY" err-signer2 '["signer"]'
S2_ID=$P_ID S2_KEY=$P_KEY S2_KEY_ID=$P_KEY_ID
api "$S2_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_status 200 "a second signer signs (before revocation)"
api "$SIGNER_KEY" DELETE "/v1/api-keys/$S2_KEY_ID"
assert_error 403 PERMISSION_DENIED "a signer cannot revoke API keys"
api "$ADMIN_KEY" DELETE "/v1/api-keys/$S2_KEY_ID"
assert_status 204 "the admin revokes the second signer's API key"
api "$S2_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_error 401 UNAUTHENTICATED "signing with a revoked API key"
api "$S2_KEY" GET /v1/keys
assert_error 401 UNAUTHENTICATED "reading keys with a revoked API key"
api "$ADMIN_KEY" GET "/v1/principals/$S2_ID/api-keys"
assert_json "[.api_keys[] | select(.id == \"$S2_KEY_ID\") | has(\"revoked_at\")] | .[0]" true "the revoked key is listed with revoked_at"
assert_not_contains "$RESP" "$S2_KEY" "the API key list never shows a key itself"
api "$ADMIN_KEY" POST "/v1/principals/$S2_ID/api-keys"
assert_status 201 "the admin issues the second signer a new API key"
S2_NEW_KEY=$(jget .api_key)
remember_secret "$S2_NEW_KEY"
api "$S2_NEW_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_status 200 "the new API key signs"
api "$S2_KEY" GET /v1/keys
assert_error 401 UNAUTHENTICATED "the revoked key stays revoked after a new one is issued"
api "$ADMIN_KEY" DELETE "/v1/principals/$S2_ID"
assert_status 204 "the admin deletes the second signer"
api "$S2_NEW_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_error 401 UNAUTHENTICATED "signing as a deleted principal"
baseline

# ---------------------------------------------------------------- roles
api "$SIGNER_KEY" POST /v1/keys '{"alias":"signer-made","algorithm":"EC-P256"}'
assert_error 403 PERMISSION_DENIED "a signer creating a key"
api "$SIGNER_KEY" PATCH "/v1/keys/$EC_ID" '{"status":"DISABLED"}'
assert_error 403 PERMISSION_DENIED "a signer changing a key's status"
api "$SIGNER_KEY" POST /v1/principals '{"name":"sneaky","roles":["admin"]}'
assert_error 403 PERMISSION_DENIED "a signer creating a principal"
api "$AUDITOR_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_error 403 PERMISSION_DENIED "an auditor signing"
api "$APPROVER_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_error 403 PERMISSION_DENIED "an approver signing"
api "$PLAIN_ADMIN_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_error 403 PERMISSION_DENIED "an admin signing"
api "$ADMIN_KEY" POST /v1/sign "$(sign_body "$EC_ID" "$D256" SHA-256)"
assert_error 403 PERMISSION_DENIED "the bootstrap operator+admin signing"
api "$PLAIN_ADMIN_KEY" POST /v1/tenants '{"name":"admin-made"}'
assert_error 403 PERMISSION_DENIED "an admin (not operator) creating a tenant"
api "$PLAIN_ADMIN_KEY" POST /v1/principals '{"name":"op2","roles":["operator"]}'
assert_error 403 PERMISSION_DENIED "an admin granting the operator role"
api "$AUDITOR_KEY" POST /v1/keys '{"alias":"auditor-made","algorithm":"EC-P256"}'
assert_error 403 PERMISSION_DENIED "an auditor creating a key"
api "$APPROVER_KEY" GET "/v1/signatures/$GOOD_SIG_ID"
assert_error 403 PERMISSION_DENIED "an approver reading a signature record"
unchanged "the refused credentials and roles"
api "$AUDITOR_KEY" GET "/v1/signatures/$GOOD_SIG_ID"
assert_status 200 "an auditor reads a signature record (control)"
api "$PLAIN_ADMIN_KEY" POST /v1/keys '{"alias":"admin-made","algorithm":"Ed25519"}'
assert_status 201 "a plain admin creates a key (control)"

# ---------------------------------------------------------------- routing
api "$ADMIN_KEY" GET /v1/no-such-thing
assert_error 404 NOT_FOUND "an unknown endpoint"
api "$ADMIN_KEY" PUT /v1/sign '{}'
assert_error 405 METHOD_NOT_ALLOWED "PUT on /v1/sign"
api "$ADMIN_KEY" GET /v1/keys/no-such-key
assert_error 404 NOT_FOUND "an unknown key"
api "$SIGNER_KEY" GET /v1/signatures/no-such-signature
assert_error 404 NOT_FOUND "an unknown signature"
api "$ADMIN_KEY" GET "/v1/keys/$EC_ID/public-key?version=0"
assert_error 400 INVALID_ARGUMENT "public key of version 0"
api "$ADMIN_KEY" GET "/v1/keys/$EC_ID/public-key?version=7"
assert_error 404 NOT_FOUND "public key of a version that does not exist"

# ---------------------------------------------------------------- verify errors
api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg d "$D256" '{key:"err-ec",digest:$d,hash_algorithm:"SHA-256"}')"
assert_error 400 INVALID_ARGUMENT "verify without a signature"
api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg d "$D256" '{key:"err-ec",digest:$d,hash_algorithm:"SHA-256",signature:"%%%"}')"
assert_error 400 INVALID_ARGUMENT "verify with a signature that is not base64"
api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg d "$D256" '{key:"no-such-key",digest:$d,hash_algorithm:"SHA-256",signature:"AAAA"}')"
assert_error 404 NOT_FOUND "verify against an unknown key"
api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg d "$D384" '{key:"err-ec",digest:$d,hash_algorithm:"SHA-256",signature:"AAAA"}')"
assert_error 400 DIGEST_LENGTH_MISMATCH "verify with a digest of the wrong length"
api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg d "$D256" '{key:"err-ec",digest:$d,hash_algorithm:"SHA-256",signature:"AAAA",metadata:{}}')"
assert_error 400 INVALID_ARGUMENT "verify with a field it does not know (metadata)"
api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg d "$D256" '{key:"err-ec",digest:$d,hash_algorithm:"SHA-256",signature:"AAAA"}')"
assert_status 200 "verify of a garbage signature answers"
assert_json .valid false "... valid:false"

e2e_finish
