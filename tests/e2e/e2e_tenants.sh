#!/usr/bin/env bash
#
# e2e_tenants.sh - tenant isolation (SPEC §1): nothing of tenant A is
# visible to tenant B, and a foreign id is answered exactly like a missing
# one - same status, same body apart from the request id and the id echoed.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || exit 2

ADMIN_KEY="e2e-tenants-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"

W=$E2E_TMP/work
mkdir -p "$W"
printf 'tenant test artifact\n' >"$W/a.txt"
digest_file SHA-256 "$W/a.txt" "$W/d.bin"
D=$(b64 "$W/d.bin")

# ---- tenant A (the bootstrap tenant "default")
new_principal "$ADMIN_KEY" a-signer '["signer"]'
A_SIGNER=$P_KEY A_SIGNER_ID=$P_ID A_SIGNER_KEY_ID=$P_KEY_ID
new_key "$ADMIN_KEY" shared-alias EC-P256
A_KEY=$K_ID
require "export A's key" fetch_pem "$A_KEY" 1 "$W/a.pem"
api "$A_SIGNER" POST /v1/sign "$(sign_body "$A_KEY" "$D" SHA-256)"
assert_status 200 "tenant A signs"
A_SIG=$(jget .signature_id)
A_REQ=$(jget .request_id)
A_SIG_B64=$(jget .signature)
api "$ADMIN_KEY" GET "/v1/keys/$A_KEY"
A_KEY_JSON=$RESP

# ---- tenant B, made by the operator, with its first admin
api "$ADMIN_KEY" POST /v1/tenants '{"name":"tenant-b"}'
assert_status 201 "the operator creates tenant B"
B_TENANT=$(jget .id)
assert_json .name tenant-b "tenant B has its name"
api "$ADMIN_KEY" POST /v1/tenants '{"name":"tenant-b"}'
assert_error 409 CONFLICT "a second tenant named tenant-b"
new_principal "$ADMIN_KEY" b-admin '["admin"]' "$B_TENANT"
B_ADMIN=$P_KEY
assert_json .tenant "$B_TENANT" "B's admin belongs to tenant B"
api "$ADMIN_KEY" GET "/v1/signatures/$A_SIG"
A_TENANT=$(jget .tenant)
assert_ne "$B_TENANT" "$A_TENANT" "tenant B is not tenant A"
new_principal "$B_ADMIN" b-signer '["signer"]'
B_SIGNER=$P_KEY
assert_json .tenant "$B_TENANT" "a principal made by B's admin lands in tenant B"
# the same alias in another tenant is another key
new_key "$B_ADMIN" shared-alias EC-P256
B_KEY=$K_ID
assert_ne "$B_KEY" "$A_KEY" "tenant B may reuse A's alias; it gets its own key"
new_key "$B_ADMIN" b-only Ed25519
require "export B's key" fetch_pem "$B_KEY" 1 "$W/b.pem" "$B_SIGNER"
assert_ne "$(pem_fingerprint "$W/b.pem")" "$(pem_fingerprint "$W/a.pem")" "B's shared-alias key is another key pair"

# same404 CALLER METHOD PATH-WITH-FOREIGN-ID FOREIGN-ID DESCRIPTION [BODY-WITH-ID]
# The foreign id must get the very answer a random missing id gets.
same404() {
	local caller=$1 method=$2 path=$3 id=$4 desc=$5 body=${6:-} ghost foreign missing
	ghost=$(cat /proc/sys/kernel/random/uuid)
	api "$caller" "$method" "$path" "$body"
	assert_error 404 NOT_FOUND "$desc"
	foreign=$(jq -c --arg id "$id" 'del(.error.request_id) | .error.message |= gsub($id; "<ID>")' <<<"$RESP")
	api "$caller" "$method" "${path//$id/$ghost}" "${body//$id/$ghost}"
	missing=$(jq -c --arg id "$ghost" 'del(.error.request_id) | .error.message |= gsub($id; "<ID>")' <<<"$RESP")
	assert_eq "$STATUS $foreign" "404 $missing" "$desc: answered exactly like a random missing id"
}

same404 "$B_ADMIN" GET "/v1/keys/$A_KEY" "$A_KEY" "B's admin GETs A's key by id"
same404 "$B_SIGNER" GET "/v1/keys/$A_KEY" "$A_KEY" "B's signer GETs A's key by id"
same404 "$B_SIGNER" GET "/v1/keys/$A_KEY/public-key" "$A_KEY" "B's signer exports A's public key"
same404 "$B_SIGNER" POST /v1/sign "$A_KEY" "B's signer signs with A's key id" "$(sign_body "$A_KEY" "$D" SHA-256)"
same404 "$B_SIGNER" POST /v1/verify "$A_KEY" "B's signer verifies against A's key id" \
	"$(jq -cn --arg k "$A_KEY" --arg d "$D" --arg s "$A_SIG_B64" '{key:$k,digest:$d,hash_algorithm:"SHA-256",signature:$s}')"
same404 "$B_SIGNER" GET "/v1/signatures/$A_SIG" "$A_SIG" "B's signer GETs A's signature record"
same404 "$B_ADMIN" GET "/v1/signatures/$A_SIG" "$A_SIG" "B's admin GETs A's signature record"
same404 "$B_SIGNER" GET "/v1/requests/$A_REQ" "$A_REQ" "B's signer GETs A's signing request"
same404 "$B_ADMIN" PATCH "/v1/keys/$A_KEY" "$A_KEY" "B's admin disables A's key" '{"status":"DISABLED"}'
same404 "$B_ADMIN" POST "/v1/keys/$A_KEY/rotate" "$A_KEY" "B's admin rotates A's key"
same404 "$B_ADMIN" DELETE "/v1/keys/$A_KEY/versions/1" "$A_KEY" "B's admin destroys A's key version"
same404 "$B_ADMIN" POST "/v1/principals/$A_SIGNER_ID/api-keys" "$A_SIGNER_ID" "B's admin issues an API key to A's signer"
same404 "$B_ADMIN" DELETE "/v1/api-keys/$A_SIGNER_KEY_ID" "$A_SIGNER_KEY_ID" "B's admin revokes A's signer's API key"
same404 "$B_ADMIN" DELETE "/v1/principals/$A_SIGNER_ID" "$A_SIGNER_ID" "B's admin deletes A's signer"

# by alias, B's signer gets B's key - never A's
api "$B_SIGNER" POST /v1/sign "$(sign_body shared-alias "$D" SHA-256)"
assert_status 200 "B's signer signs with the alias both tenants use"
assert_json .key_id "$B_KEY" "... and it is B's key that signed"
b64_decode_to "$(jget .signature)" "$W/b.sig"
assert_ok "openssl verifies B's signature with B's public key" \
	openssl dgst -sha256 -verify "$W/b.pem" -signature "$W/b.sig" "$W/a.txt"
assert_fails "openssl rejects B's signature with A's public key" \
	openssl dgst -sha256 -verify "$W/a.pem" -signature "$W/b.sig" "$W/a.txt"
B_SIG=$(jget .signature_id)

# lists hold only the caller's tenant
api "$B_ADMIN" GET /v1/keys
assert_json "[.keys[].id] | index(\"$A_KEY\") == null" true "B's key list does not contain A's key"
assert_json '[.keys[].alias] | sort | join(",")' "b-only,shared-alias" "B's key list holds exactly B's two keys"
api "$ADMIN_KEY" GET /v1/keys
assert_json "[.keys[].id] | index(\"$B_KEY\") == null" true "A's key list (even the operator's) does not contain B's key"
assert_json '[.keys[].alias] | join(",")' "shared-alias" "A's key list holds exactly A's key"
api "$B_ADMIN" GET /v1/principals
assert_json '[.principals[].name] | sort | join(",")' "b-admin,b-signer" "B's principal list holds only B's principals"
api "$B_ADMIN" GET "/v1/requests?limit=1000"
assert_json "[.requests[].id] | index(\"$A_REQ\") == null" true "B's request list does not contain A's request"
assert_json '.requests | length' 1 "B's request list holds B's one request"

# the other way round
same404 "$A_SIGNER" GET "/v1/keys/$B_KEY" "$B_KEY" "A's signer GETs B's key"
same404 "$A_SIGNER" GET "/v1/signatures/$B_SIG" "$B_SIG" "A's signer GETs B's signature record"
same404 "$ADMIN_KEY" GET "/v1/keys/$B_KEY" "$B_KEY" "A's operator+admin GETs B's key"

# B's admin cannot reach into A nor make tenants
api "$B_ADMIN" POST /v1/principals '{"name":"intruder","roles":["admin"],"tenant":"default"}'
assert_error 403 PERMISSION_DENIED "B's admin creating a principal in tenant A"
api "$B_ADMIN" POST /v1/tenants '{"name":"tenant-c"}'
assert_error 403 PERMISSION_DENIED "B's admin creating a tenant"

# none of B's attempts changed A
api "$ADMIN_KEY" GET "/v1/keys/$A_KEY"
assert_eq "$RESP" "$A_KEY_JSON" "A's key is exactly as before B's attempts"
api "$A_SIGNER" POST /v1/sign "$(sign_body "$A_KEY" "$D" SHA-256)"
assert_status 200 "A's signer still signs (its principal and API key survived B's attempts)"
assert_json .key_version 1 "A's key was not rotated by B"
api "$ADMIN_KEY" GET /v1/principals
assert_json '[.principals[].name] | index("intruder") == null' true "no 'intruder' principal in A"

e2e_finish
