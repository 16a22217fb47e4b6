#!/usr/bin/env bash
#
# sp_errors.sh - what the hash-signing-data API refuses (SPEC §4 S5, S9),
# and that a refusal stores nothing.
#
# Malformed multipart bodies (not multipart, no boundary, truncated, a part
# without Content-Disposition, duplicate parts, a part over 512 KiB, more
# than 16 parts, bare LF line ends), missing or unknown form fields, a bad
# payload.json (not JSON, unknown property, unknown SignatureAlgorithm,
# missing or unknown RsaHashAlgorithm OID, a hash whose length does not fit
# its OID, an Ecdsa hash of an odd length, a hex hash, a bad
# EcdsaSignatureFormat), an RSA algorithm on an EC key, an unknown policy,
# bad or missing credentials and the wrong role each get a 4xx in the
# native error shape with a stable code, and the request and signature
# counts do not move.  MD5 and SHA1 OIDs sign only under a policy with
# allow_legacy_hashes (openssl verifies those signatures).

. "$(dirname "${BASH_SOURCE[0]}")/../workflow/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA"
W=$E2E_TMP/w
mkdir -p "$W"
cd "$W" || exit 2
ORG=$(sql "$DATA" "SELECT id FROM tenants WHERE name = 'default'")
PROJECT=hash-signing-test
new_key "$ADMIN_KEY" sp-rsa RSA-2048
require "export sp-rsa" fetch_pem sp-rsa 1 "$W/sp-rsa.pem"
new_key "$ADMIN_KEY" sp-ec EC-P384
for p in 'test-signing sp-rsa {}' 'ec-signing sp-ec {}' 'legacy sp-rsa {"allow_legacy_hashes":true}'; do
	set -- $p
	api "$ADMIN_KEY" POST /v1/policies "$(jq -cn --arg s "$1" --arg k "$2" --arg p "$PROJECT" --argjson x "$3" '{project:$p,slug:$s,key:$k} + $x')"
	require "create policy $PROJECT/$1: $STATUS" [ "$STATUS" = 201 ]
done
new_principal "$ADMIN_KEY" ci '["signer"]'
TOKEN=$P_KEY
new_principal "$ADMIN_KEY" auditor '["auditor"]'
AUDITOR=$P_KEY
URL=$BASE_URL/api/v1/$ORG/SigningRequests

counts() { echo "$(sql "$DATA" "SELECT count(*) FROM requests")/$(sql "$DATA" "SELECT count(*) FROM signatures")"; }
BEFORE=$(counts)

# check STATUS CODE DESCRIPTION [MESSAGE-PART]: the last answer (out.json, code)
check() {
	RESP=$(cat out.json)
	local got
	got=$(jq -r '.error.code' out.json 2>/dev/null)
	if [ "$code" = "$1" ] && [ "$got" = "$2" ] && \
		[ "$(jq -r '(keys == ["error"]) and (.error | keys == ["code","message","request_id"])' out.json 2>/dev/null)" = true ]; then
		ok "$3 -> $1 $2"
	else
		fail "$3" "expected HTTP $1 $2 in the native error shape, got $code" "body: $RESP"
	fi
	if [ -n "${4:-}" ]; then
		assert_contains "$(jget .error.message)" "$4" "$3: the message says '$4'"
	fi
}
# form ARTIFACT-JSON [POLICY] [EXTRA CURL ARGS...]: a fast request with the artifact
form() {
	printf '%s' "$1" >art.json
	local pol=${2:-test-signing}
	shift 2 2>/dev/null || shift $#
	code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -F "ProjectSlug=$PROJECT" \
		-F "SigningPolicySlug=$pol" -F "IsFastSigningRequest=true" -F "Artifact=@art.json" "$@" "$URL")
}
# raw CONTENT-TYPE BODY-FILE: post a hand-made body
raw() {
	code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "Content-Type: $1" \
		--data-binary "@$2" "$URL")
}
crlf() { sed 's/$/\r/'; }
H32=$(head -c 32 /dev/urandom | base64 -w0)
GOOD="{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"2.16.840.1.101.3.4.2.1\",\"Base64EncodedHash\":\"$H32\"}"

# ---- malformed multipart
printf '%s' "$GOOD" >good.json
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	--data-binary @good.json "$URL")
check 400 INVALID_ARGUMENT "a JSON body instead of a form" multipart/form-data
raw "multipart/form-data" good.json
check 400 INVALID_ARGUMENT "multipart/form-data without a boundary" boundary
B=XyZzy123
{ echo "--$B"; echo 'Content-Disposition: form-data; name="ProjectSlug"'; echo; echo "$PROJECT"; echo "--$B"
  echo 'Content-Disposition: form-data; name="SigningPolicySlug"'; echo; echo test-signing; echo "--$B"
  echo 'Content-Disposition: form-data; name="IsFastSigningRequest"'; echo; echo true; echo "--$B"
  echo 'Content-Disposition: form-data; name="Artifact"; filename="payload.json"'; echo; echo "$GOOD"; echo "--$B--"; } | crlf >whole.txt
raw "multipart/form-data; boundary=$B" whole.txt
assert_eq "$code" 200 "the hand-made form itself is good (the control case) -> 200"
head -c $(($(stat -c %s whole.txt) - 20)) whole.txt >truncated.txt
raw "multipart/form-data; boundary=$B" truncated.txt
check 400 INVALID_ARGUMENT "a truncated form (no closing boundary)" truncated
raw "multipart/form-data; boundary=Other$B" whole.txt
check 400 INVALID_ARGUMENT "a form with another boundary than the header's" boundary
sed 's/\r$//' whole.txt >lf.txt
raw "multipart/form-data; boundary=$B" lf.txt
check 400 INVALID_ARGUMENT "a form with bare LF line ends"
sed 's/^Content-Disposition: form-data; name="SigningPolicySlug"\r$/Content-Type: text\/plain\r/' whole.txt >nocd.txt
raw "multipart/form-data; boundary=$B" nocd.txt
check 400 INVALID_ARGUMENT "a part without Content-Disposition" Content-Disposition
form "$GOOD" test-signing -F "ProjectSlug=$PROJECT"
check 400 INVALID_ARGUMENT "a duplicate part (ProjectSlug twice)" "same name"
head -c $((600 * 1024)) /dev/zero | tr '\0' a >big.txt
form "$GOOD" test-signing -F "Description=<big.txt"
check 400 INVALID_ARGUMENT "a part over 512 KiB" "512 KiB"
many=()
for i in $(seq 1 14); do many+=(-F "X$i=1"); done
form "$GOOD" test-signing "${many[@]}"
check 400 INVALID_ARGUMENT "more than 16 parts" "16 parts"
form "$GOOD" test-signing -F "Parameters=1"
check 400 INVALID_ARGUMENT "an unknown form field" Parameters
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -F "SigningPolicySlug=test-signing" \
	-F "Artifact=@good.json" "$URL")
check 400 INVALID_ARGUMENT "no ProjectSlug" ProjectSlug
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -F "ProjectSlug=$PROJECT" \
	-F "Artifact=@good.json" "$URL")
check 400 INVALID_ARGUMENT "no SigningPolicySlug" SigningPolicySlug
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -F "ProjectSlug=$PROJECT" \
	-F "SigningPolicySlug=test-signing" "$URL")
check 400 INVALID_ARGUMENT "no Artifact" Artifact
form "$GOOD" test-signing -F "IsFastSigningRequest=yes"
check 400 INVALID_ARGUMENT "IsFastSigningRequest twice (and not a boolean)"
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -F "ProjectSlug=$PROJECT" \
	-F "SigningPolicySlug=test-signing" -F "IsFastSigningRequest=yes" -F "Artifact=@good.json" "$URL")
check 400 INVALID_ARGUMENT "IsFastSigningRequest=yes" "true or false"

# ---- bad payload.json
form "not json"
check 400 INVALID_ARGUMENT "an Artifact that is not JSON" payload.json
form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"2.16.840.1.101.3.4.2.1\",\"Base64EncodedHash\":\"$H32\",\"Extra\":1}"
check 400 INVALID_ARGUMENT "an unknown payload property" Extra
form "{\"RsaHashAlgorithm\":\"2.16.840.1.101.3.4.2.1\",\"Base64EncodedHash\":\"$H32\"}"
check 400 INVALID_ARGUMENT "no SignatureAlgorithm" SignatureAlgorithm
form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"2.16.840.1.101.3.4.2.1\"}"
check 400 INVALID_ARGUMENT "no Base64EncodedHash" Base64EncodedHash
form "{\"SignatureAlgorithm\":\"Dsa\",\"RsaHashAlgorithm\":\"2.16.840.1.101.3.4.2.1\",\"Base64EncodedHash\":\"$H32\"}"
check 400 UNSUPPORTED_ALGORITHM "SignatureAlgorithm Dsa" Dsa
form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"Base64EncodedHash\":\"$H32\"}"
check 400 INVALID_ARGUMENT "RsaPkcs1 without RsaHashAlgorithm" RsaHashAlgorithm
form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"2.16.840.1.101.3.4.2.9\",\"Base64EncodedHash\":\"$H32\"}"
check 400 UNSUPPORTED_HASH_ALGORITHM "an unknown OID" 2.16.840.1.101.3.4.2.9
form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"2.16.840.1.101.3.4.2.8\",\"Base64EncodedHash\":\"$H32\"}"
check 400 UNSUPPORTED_HASH_ALGORITHM "the SHA3-256 OID (not one the document lists)"
form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"SHA256\",\"Base64EncodedHash\":\"$H32\"}"
check 400 UNSUPPORTED_HASH_ALGORITHM "a hash name instead of its OID"
form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"2.16.840.1.101.3.4.2.3\",\"Base64EncodedHash\":\"$H32\"}"
check 400 DIGEST_LENGTH_MISMATCH "a 32-byte hash under the SHA-512 OID" 64
form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"2.16.840.1.101.3.4.2.1\",\"Base64EncodedHash\":\"$(head -c 32 /dev/urandom | to_hex)\"}"
check 400 INVALID_ARGUMENT "a hex hash" hex
form "{\"SignatureAlgorithm\":\"Ecdsa\",\"Base64EncodedHash\":\"$(head -c 20 /dev/urandom | base64 -w0)\"}" ec-signing
check 400 DIGEST_LENGTH_MISMATCH "an Ecdsa hash of 20 bytes" "32, 48 or 64"
form "{\"SignatureAlgorithm\":\"Ecdsa\",\"EcdsaSignatureFormat\":\"Der\",\"Base64EncodedHash\":\"$H32\"}" ec-signing
check 400 INVALID_ARGUMENT "EcdsaSignatureFormat Der" "Ieee or Asn1"
form "{\"SignatureAlgorithm\":\"Ecdsa\",\"Base64EncodedHash\":\"$H32\",\"Metadata\":\"x\"}" ec-signing
check 400 INVALID_ARGUMENT "Metadata that is not an object" Metadata
form "$GOOD" ec-signing
check 400 ALGORITHM_MISMATCH "RsaPkcs1 under a policy with an EC key"
form "{\"SignatureAlgorithm\":\"Ecdsa\",\"Base64EncodedHash\":\"$H32\"}"
check 400 ALGORITHM_MISMATCH "Ecdsa under a policy with an RSA key"
form "$GOOD" no-such-policy
check 404 NOT_FOUND "an unknown SigningPolicySlug" no-such-policy

# ---- legacy hashes
H16=$(head -c 16 /dev/urandom | tee md5.bin | base64 -w0)
H20=$(head -c 20 /dev/urandom | tee sha1.bin | base64 -w0)
form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"1.2.840.113549.2.5\",\"Base64EncodedHash\":\"$H16\"}"
check 400 UNSUPPORTED_HASH_ALGORITHM "the MD5 OID under a policy without allow_legacy_hashes" MD5
form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"1.3.14.3.2.26\",\"Base64EncodedHash\":\"$H20\"}"
check 400 UNSUPPORTED_HASH_ALGORITHM "the SHA1 OID under a policy without allow_legacy_hashes"
MIDDLE=$(counts)
assert_eq "$MIDDLE" "$((${BEFORE%/*} + 1))/$((${BEFORE#*/} + 1))" \
	"every refusal stored nothing (only the control case added a request and a signature)"

form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"1.2.840.113549.2.5\",\"Base64EncodedHash\":\"$H16\"}" legacy
assert_eq "$code" 200 "the MD5 OID under a policy with allow_legacy_hashes -> 200"
jq -r .Signature out.json | base64 -d >md5.sig
assert_ok "openssl verifies the MD5 RsaPkcs1 signature" \
	openssl pkeyutl -verify -pubin -inkey sp-rsa.pem -in md5.bin -sigfile md5.sig -pkeyopt digest:md5
form "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"1.3.14.3.2.26\",\"Base64EncodedHash\":\"$H20\"}" legacy
assert_eq "$code" 200 "the SHA1 OID under a policy with allow_legacy_hashes -> 200"
jq -r .Signature out.json | base64 -d >sha1.sig
assert_ok "openssl verifies the SHA1 RsaPkcs1 signature" \
	openssl pkeyutl -verify -pubin -inkey sp-rsa.pem -in sha1.bin -sigfile sha1.sig -pkeyopt digest:sha1

# ---- credentials, role, organization
BEFORE=$(counts)
code=$(curl -s -o out.json -w '%{http_code}' -F "ProjectSlug=$PROJECT" -F "SigningPolicySlug=test-signing" \
	-F "Artifact=@good.json" "$URL")
check 401 UNAUTHENTICATED "no credentials"
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer not-a-key" -F "ProjectSlug=$PROJECT" \
	-F "SigningPolicySlug=test-signing" -F "Artifact=@good.json" "$URL")
check 401 UNAUTHENTICATED "a bad Bearer token"
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $AUDITOR" -F "ProjectSlug=$PROJECT" \
	-F "SigningPolicySlug=test-signing" -F "Artifact=@good.json" "$URL")
check 403 PERMISSION_DENIED "an auditor submits"
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -F "ProjectSlug=$PROJECT" \
	-F "SigningPolicySlug=test-signing" -F "Artifact=@good.json" \
	"$BASE_URL/api/v1/00000000-0000-4000-8000-000000000000/SigningRequests")
check 404 NOT_FOUND "another organization id" organization
code=$(curl -s -o out.json -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "$URL")
check 405 METHOD_NOT_ALLOWED "DELETE .../SigningRequests"
assert_eq "$(counts)" "$BEFORE" "the refused requests stored nothing"

e2e_finish
