#!/usr/bin/env bash
#
# sp_flows.sh - the hash-signing-data API's flows (SPEC §4 item 3, S1-S8),
# as its reference documents run them (signpath-hash-signing-rest-api.txt,
# signpath-signing-code-resubmit.txt).
#
# The document's curl -F request and payload.json run as written, only the
# host, token, organization and project substituted.  Checked: fast
# signing answers 200 with exactly the payload's properties plus Signature
# (S3), which openssl verifies for RsaPkcs1 (SHA-256/384/512 by OID),
# RsaPss (salt = hash length) and Ecdsa (hash from the length; Ieee
# converted to DER for openssl, and Asn1); a request that is not fast
# answers 201 with a Location, polled through InProgress to Completed with
# isFinalStatus and signedArtifactLink, whose SignedArtifact carries the
# same Signature (S4); IsFastSigningRequest on a policy with approvals
# waits (S7); the resubmit scenario: test-signing, then release-signing
# with an approval through the native endpoint, signed with the release
# key and the original's algorithms (S6), and only a Completed request can
# be resubmitted (409); a rejection is Denied; MySigningPolicies matches
# the key's certificate (DER) and public key (S8); another organization is
# 404 (S1); the requests are native records in one audit chain.

. "$(dirname "${BASH_SOURCE[0]}")/../workflow/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA"
W=$E2E_TMP/w
mkdir -p "$W"
cd "$W" || exit 2
TENANT=$(sql "$DATA" "SELECT id FROM tenants WHERE name = 'default'")
ORGANIZATION_ID=$TENANT
PROJECT=hash-signing-test

key() { # key ALIAS ALGORITHM TYPE
	api "$ADMIN_KEY" POST /v1/keys "$(jq -cn --arg a "$1" --arg g "$2" --arg t "$3" '{alias:$a,algorithm:$g,type:$t}')"
	require "create key $1: $STATUS $RESP" [ "$STATUS" = 201 ]
	require "export the $1 public key" fetch_pem "$1" 1 "$W/$1.pem"
}
key test-rsa RSA-2048 TEST
key test-ec EC-P256 TEST
key rel-rsa RSA-3072 PRODUCTION
api "$ADMIN_KEY" POST /v1/keys/test-rsa/versions/1/self-signed '{"subject":"CN=Hash Signing Test","days":30}'
require "self-signed certificate for test-rsa: $STATUS" [ "$STATUS" = 201 ]
api "$ADMIN_KEY" POST /v1/keys/test-ec/versions/1/self-signed '{"subject":"CN=Hash Signing Test EC","days":30}'
require "self-signed certificate for test-ec: $STATUS" [ "$STATUS" = 201 ]
policy() { # policy SLUG KEY [EXTRA]
	api "$ADMIN_KEY" POST /v1/policies "$(jq -cn --arg s "$1" --arg k "$2" --arg p "$PROJECT" --argjson x "${3:-{\}}" '{project:$p,slug:$s,key:$k} + $x')"
	require "create policy $PROJECT/$1: $STATUS $RESP" [ "$STATUS" = 201 ]
}
policy test-signing test-rsa
policy ec-signing test-ec
policy queued test-rsa '{"allow_fast":false}'
policy release-signing rel-rsa '{"approvals_required":1}'
new_principal "$ADMIN_KEY" ci '["signer"]'
API_TOKEN=$P_KEY
new_principal "$ADMIN_KEY" manager '["approver"]'
MANAGER=$P_KEY MANAGER_ID=$P_ID
new_principal "$ADMIN_KEY" auditor '["auditor"]'
AUDITOR=$P_KEY
BASE=$BASE_URL/api/v1

# ---- the document's fast signing request, as written
cat >payload.json <<'EOF'
{
    "SignatureAlgorithm": "RsaPkcs1",
    "RsaHashAlgorithm": "2.16.840.1.101.3.4.2.1",
    "Base64EncodedHash": "GJShnIW6FTrL90OsTkP8AEyJFgSyb4xp4eg+oq/HxI8=",
    "Metadata": {
        "CreatingProcess": { "CommandLine": "SampleCommand -SampleArgument", "User": "SampleUser" }
    }
}
EOF
PATH_TO_ARTIFACT=payload.json
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" \
     -F "ProjectSlug=$PROJECT" \
     -F "SigningPolicySlug=test-signing" \
     -F "IsFastSigningRequest=true" \
     -F "Artifact=@$PATH_TO_ARTIFACT" \
     "$BASE/$ORGANIZATION_ID/SigningRequests")
RESP=$(cat out.json)
assert_eq "$code" 200 "the document's fast signing request -> 200"
assert_eq "$(jq -c 'del(.Signature)' out.json)" "$(jq -c . payload.json)" \
	"the answer is the payload's properties and values, in their order (S3)"
assert_json 'keys_unsorted | join(",")' "SignatureAlgorithm,RsaHashAlgorithm,Base64EncodedHash,Metadata,Signature" \
	"... plus Signature, and nothing else"
jget .Signature | base64 -d >fast.sig
jq -r .Base64EncodedHash payload.json | base64 -d >fast.hash
assert_ok "openssl verifies the RSA PKCS#1 v1.5 signature over the hash (SHA-256 DigestInfo)" \
	openssl pkeyutl -verify -pubin -inkey test-rsa.pem -in fast.hash -sigfile fast.sig -pkeyopt digest:sha256
head -c 32 /dev/urandom >other.hash
assert_fails "the negative control: openssl refuses it for another hash" \
	openssl pkeyutl -verify -pubin -inkey test-rsa.pem -in other.hash -sigfile fast.sig -pkeyopt digest:sha256
# SignPath's own clients spell the path /Api/v1
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" -F "ProjectSlug=$PROJECT" \
	-F "SigningPolicySlug=test-signing" -F "IsFastSigningRequest=true" -F "Artifact=@payload.json" \
	"$BASE_URL/Api/v1/$ORGANIZATION_ID/SigningRequests")
assert_eq "$code" 200 "the same request to /Api/v1/... -> 200"

# A signature made here is a native record.
api "$AUDITOR" GET "/v1/requests?limit=1"
FAST_REQ=$(jget '.requests[0].id')
assert_json '.requests[0] | "\(.status) \(.policy) \(.signature_algorithm) \(.hash_algorithm) \(.metadata.CreatingProcess.User)"' \
	"SIGNED $PROJECT/test-signing RSA-PKCS1 SHA-256 SampleUser" \
	"natively: SIGNED under $PROJECT/test-signing, RSA-PKCS1, SHA-256, the Metadata kept"

# fast ARTIFACT-JSON [POLICY]: fast signing; sets code and RESP
fast() {
	printf '%s' "$1" >art.json
	code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" -F "ProjectSlug=$PROJECT" \
		-F "SigningPolicySlug=${2:-test-signing}" -F "IsFastSigningRequest=true" -F "Artifact=@art.json" \
		"$BASE/$ORGANIZATION_ID/SigningRequests")
	RESP=$(cat out.json)
	jget .Signature | base64 -d >art.sig 2>/dev/null
}
declare -A OID=([sha256]=2.16.840.1.101.3.4.2.1 [sha384]=2.16.840.1.101.3.4.2.2 [sha512]=2.16.840.1.101.3.4.2.3)
declare -A LEN=([sha256]=32 [sha384]=48 [sha512]=64)
for h in sha256 sha384 sha512; do
	head -c "${LEN[$h]}" /dev/urandom >h.bin
	H=$(base64 -w0 h.bin)
	fast "{\"SignatureAlgorithm\":\"RsaPkcs1\",\"RsaHashAlgorithm\":\"${OID[$h]}\",\"Base64EncodedHash\":\"$H\"}"
	assert_eq "$code" 200 "RsaPkcs1 with the $h OID"
	assert_ok "openssl verifies RsaPkcs1/$h" \
		openssl pkeyutl -verify -pubin -inkey test-rsa.pem -in h.bin -sigfile art.sig -pkeyopt "digest:$h"
	fast "{\"SignatureAlgorithm\":\"RsaPss\",\"RsaHashAlgorithm\":\"${OID[$h]}\",\"Base64EncodedHash\":\"$H\"}"
	assert_eq "$code" 200 "RsaPss with the $h OID"
	assert_ok "openssl verifies RsaPss/$h with MGF1-$h and salt = hash length" \
		openssl pkeyutl -verify -pubin -inkey test-rsa.pem -in h.bin -sigfile art.sig -pkeyopt "digest:$h" \
		-pkeyopt rsa_padding_mode:pss -pkeyopt "rsa_mgf1_md:$h" -pkeyopt "rsa_pss_saltlen:${LEN[$h]}"
	fast "{\"SignatureAlgorithm\":\"Ecdsa\",\"Base64EncodedHash\":\"$H\"}" ec-signing
	assert_eq "$code" 200 "Ecdsa with a ${LEN[$h]}-byte hash (default Ieee)"
	assert_eq "$(stat -c %s art.sig)" 64 "the Ieee signature is r||s, 64 bytes for P-256"
	p1363_to_der art.sig art.der
	assert_ok "openssl verifies the Ieee signature (converted to DER) over the $h hash" \
		openssl pkeyutl -verify -pubin -inkey test-ec.pem -in h.bin -sigfile art.der
	api "$AUDITOR" GET "/v1/requests?limit=1"
	assert_json '.requests[0].hash_algorithm' "$(tr a-z A-Z <<<"${h:0:3}")-${h:3}" "the hash follows from the length: $h (S5)"
	fast "{\"SignatureAlgorithm\":\"Ecdsa\",\"EcdsaSignatureFormat\":\"Asn1\",\"Base64EncodedHash\":\"$H\"}" ec-signing
	assert_eq "$code" 200 "Ecdsa, Asn1, $h"
	assert_ok "openssl verifies the Asn1 signature as it is" \
		openssl pkeyutl -verify -pubin -inkey test-ec.pem -in h.bin -sigfile art.sig
done

# ---- not fast: 201, Location, InProgress -> Completed, SignedArtifact
head -c 48 /dev/urandom >q.bin
Q=$(base64 -w0 q.bin)
printf '{"SignatureAlgorithm":"RsaPss","RsaHashAlgorithm":"2.16.840.1.101.3.4.2.2","Base64EncodedHash":"%s","Metadata":{"build":"42"}}' "$Q" >q.json
code=$(curl -s -o out.json -D out.hdr -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" \
	-F "ProjectSlug=$PROJECT" -F "SigningPolicySlug=queued" -F "Description=nightly build 42" -F "Artifact=@q.json" \
	"$BASE/$ORGANIZATION_ID/SigningRequests")
assert_eq "$code" 201 "a request without IsFastSigningRequest -> 201"
LOCATION=$(sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' out.hdr)
Q_ID=$(jq -r .signingRequestId out.json)
assert_eq "$LOCATION" "$BASE/$ORGANIZATION_ID/SigningRequests/$Q_ID" "Location is .../api/v1/{organization}/SigningRequests/{id}"
seen=""
for _ in $(seq 1 200); do
	code=$(curl -s -o st.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" "$LOCATION")
	st=$(jq -r .status st.json)
	seen+="$st "
	[ "$st" = Completed ] && break
	sleep 0.05
done
RESP=$(cat st.json)
assert_eq "$code" 200 "GET the Location"
assert_json '"\(.status) \(.isFinalStatus) \(.projectSlug) \(.signingPolicySlug) \(.description)"' \
	"Completed true $PROJECT queued nightly build 42" "it reaches Completed, final, with its project, policy and description"
bad=""
for w in $seen; do [[ "$w" =~ ^(InProgress|Completed)$ ]] || bad+="$w "; done
assert_eq "$bad" "" "only InProgress and Completed were seen on the way (seen: $(tr ' ' '\n' <<<"$seen" | uniq | tr '\n' ' '))"
LINK=$(jget .signedArtifactLink)
assert_eq "$LINK" "$LOCATION/SignedArtifact" "signedArtifactLink names .../SigningRequests/{id}/SignedArtifact"
code=$(curl -s -o signed.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" "$LINK")
RESP=$(cat signed.json)
assert_eq "$code" 200 "GET signedArtifactLink"
assert_eq "$(jq -cS 'del(.Signature)' signed.json)" "$(jq -cS . q.json)" "the signed artifact has the request's properties and values"
jget .Signature | base64 -d >q.sig
assert_ok "openssl verifies its RsaPss/SHA-384 Signature" \
	openssl pkeyutl -verify -pubin -inkey test-rsa.pem -in q.bin -sigfile q.sig -pkeyopt digest:sha384 \
	-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_mgf1_md:sha384 -pkeyopt rsa_pss_saltlen:48
api "$AUDITOR" GET "/v1/requests/$Q_ID"
assert_json '"\(.status) \(.signature_algorithm) \(.description)"' "SIGNED RSA-PSS nightly build 42" "natively: SIGNED, RSA-PSS, the Description kept"
api "$AUDITOR" GET "/v1/signatures/$(jget .signature_id)"
assert_eq "$(jget .signature)" "$(base64 -w0 q.sig)" "the native record holds the same signature"

# ---- S7: IsFastSigningRequest on a policy that needs approval, then the resubmit scenario
head -c 32 /dev/urandom >rc.bin
printf '{"SignatureAlgorithm":"RsaPss","RsaHashAlgorithm":"2.16.840.1.101.3.4.2.1","Base64EncodedHash":"%s","Metadata":{"CreatingProcess":{"CommandLine":"build.ps1","User":"ci"}}}' "$(base64 -w0 rc.bin)" >rc.json
code=$(curl -s -o out.json -D out.hdr -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" -F "ProjectSlug=$PROJECT" \
	-F "SigningPolicySlug=release-signing" -F "IsFastSigningRequest=true" -F "Artifact=@rc.json" "$BASE/$ORGANIZATION_ID/SigningRequests")
assert_eq "$code" 201 "IsFastSigningRequest=true under a policy with approvals -> 201, not signed (S7)"
S7=$(jq -r .signingRequestId out.json)
api "$API_TOKEN" GET "/api/v1/$ORGANIZATION_ID/SigningRequests/$S7"
assert_json '"\(.status) \(.isFinalStatus) \(has("signedArtifactLink"))"' "WaitingForApproval false false" "it is WaitingForApproval"
api "$API_TOKEN" GET "/api/v1/$ORGANIZATION_ID/SigningRequests/$S7/SignedArtifact"
assert_error 409 FAILED_PRECONDITION "its SignedArtifact before it is Completed"
api "$MANAGER" POST "/v1/approvals/$S7/reject" '{"comment":"no release today"}'
assert_status 200 "the manager rejects it through the native endpoint"
api "$API_TOKEN" GET "/api/v1/$ORGANIZATION_ID/SigningRequests/$S7"
assert_json '"\(.status) \(.isFinalStatus)"' "Denied true" "a rejected request is Denied and final"

# step 1-2: the release candidate is test-signed
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" -F "ProjectSlug=$PROJECT" \
	-F "SigningPolicySlug=test-signing" -F "IsFastSigningRequest=true" -F "Artifact=@rc.json" "$BASE/$ORGANIZATION_ID/SigningRequests")
assert_eq "$code" 200 "step 1-2: the release candidate is test-signed (fast)"
jq -r .Signature out.json | base64 -d >rc-test.sig
assert_ok "openssl verifies the test signature with the test key" \
	openssl pkeyutl -verify -pubin -inkey test-rsa.pem -in rc.bin -sigfile rc-test.sig -pkeyopt digest:sha256 \
	-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_mgf1_md:sha256 -pkeyopt rsa_pss_saltlen:32
api "$AUDITOR" GET "/v1/requests?limit=1"
RC_TEST=$(jget '.requests[0].id')
# step 4: resubmit for release-signing
code=$(curl -s -o out.json -D out.hdr -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" \
	-F "OriginalSigningRequestId=$RC_TEST" -F "SigningPolicySlug=release-signing" -F "Description=release 1.0" \
	"$BASE/$ORGANIZATION_ID/SigningRequests/Resubmit")
assert_eq "$code" 201 "step 4: POST .../SigningRequests/Resubmit -> 201"
RC_REL=$(jq -r .signingRequestId out.json)
assert_contains "$(cat out.hdr)" "/SigningRequests/$RC_REL" "with a Location to the new request"
api "$API_TOKEN" GET "/api/v1/$ORGANIZATION_ID/SigningRequests/$RC_REL"
assert_json '"\(.status) \(.signingPolicySlug) \(.description)"' "WaitingForApproval release-signing release 1.0" \
	"step 5: the resubmitted request waits for the release policy's approval"
api "$AUDITOR" GET "/v1/requests/$RC_REL"
assert_json '"\(.original_request_id) \(.policy) \(.signature_algorithm) \(.hash_algorithm) \(.metadata.CreatingProcess.CommandLine)"' \
	"$RC_TEST $PROJECT/release-signing RSA-PSS SHA-256 build.ps1" \
	"natively: it references the original and keeps the project, algorithms and Metadata (S6)"
api "$API_TOKEN" POST "/v1/approvals/$RC_REL/approve"
assert_error 403 PERMISSION_DENIED "the submitter cannot approve the resubmitted request"
api "$MANAGER" POST "/v1/approvals/$RC_REL/approve" '{"comment":"tests passed"}'
assert_status 200 "step 6: the project manager approves it (native approval endpoint)"
for _ in $(seq 1 200); do
	api "$API_TOKEN" GET "/api/v1/$ORGANIZATION_ID/SigningRequests/$RC_REL"
	[ "$(jget .status)" = Completed ] && break
	sleep 0.05
done
assert_json .status Completed "step 7: the release candidate is signed"
api "$API_TOKEN" GET "/api/v1/$ORGANIZATION_ID/SigningRequests/$RC_REL/SignedArtifact"
jget .Signature | base64 -d >rc-rel.sig
assert_ok "openssl verifies the release signature (RsaPss) with the release key" \
	openssl pkeyutl -verify -pubin -inkey rel-rsa.pem -in rc.bin -sigfile rc-rel.sig -pkeyopt digest:sha256 \
	-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_mgf1_md:sha256 -pkeyopt rsa_pss_saltlen:32
assert_fails "... and not with the test key" \
	openssl pkeyutl -verify -pubin -inkey test-rsa.pem -in rc.bin -sigfile rc-rel.sig -pkeyopt digest:sha256 \
	-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_mgf1_md:sha256 -pkeyopt rsa_pss_saltlen:32
# only a Completed request can be resubmitted
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" \
	-F "OriginalSigningRequestId=$S7" -F "SigningPolicySlug=test-signing" "$BASE/$ORGANIZATION_ID/SigningRequests/Resubmit")
RESP=$(cat out.json)
assert_eq "$code/$(jget .error.code)" 409/FAILED_PRECONDITION "resubmitting a Denied request -> 409"
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" \
	-F "OriginalSigningRequestId=00000000-0000-4000-8000-000000000000" -F "SigningPolicySlug=test-signing" \
	"$BASE/$ORGANIZATION_ID/SigningRequests/Resubmit")
assert_eq "$code" 404 "resubmitting an unknown request -> 404"
code=$(curl -s -o out.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" \
	-F "OriginalSigningRequestId=$RC_TEST" -F "SigningPolicySlug=ec-signing" "$BASE/$ORGANIZATION_ID/SigningRequests/Resubmit")
RESP=$(cat out.json)
assert_eq "$code/$(jget .error.code)" 400/ALGORITHM_MISMATCH "resubmitting an RsaPss request to a policy with an EC key -> 400"

# ---- S8: MySigningPolicies
code=$(curl -s -o pol.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" \
	"$BASE/$ORGANIZATION_ID/Cryptoki/MySigningPolicies?projectSlug=$PROJECT&signingPolicySlug=test-signing")
RESP=$(cat pol.json)
assert_eq "$code" 200 "GET .../Cryptoki/MySigningPolicies?projectSlug=&signingPolicySlug="
assert_json '.signingPolicies | length' 1 "one policy matches"
api "$ADMIN_KEY" GET "/v1/policies/$PROJECT/test-signing"
POL_ID=$(jget .id)
jget .certificate_chain_pem >chain.pem
RESP=$(cat pol.json)
assert_json '.signingPolicies[0] | "\(.signingPolicyId) \(.signingPolicySlug) \(.projectSlug) \(.keyType) \(.keySizeInBits)"' \
	"$POL_ID test-signing $PROJECT Rsa 2048" "signingPolicyId, slugs, keyType Rsa, keySizeInBits 2048"
openssl x509 -in chain.pem -outform DER -out leaf.der
assert_eq "$(jget '.signingPolicies[0].certificateBytes')" "$(base64 -w0 leaf.der)" "certificateBytes is the leaf certificate's DER"
openssl pkey -pubin -in test-rsa.pem -outform DER -out spki.der
openssl asn1parse -in spki.der -inform DER -strparse 19 -noout -out pkcs1.der 2>/dev/null
assert_eq "$(jget '.signingPolicies[0].publicKeyBytes')" "$(base64 -w0 pkcs1.der)" "publicKeyBytes is the SPKI's BIT STRING: the PKCS#1 RSAPublicKey"
MOD=$(openssl rsa -pubin -in test-rsa.pem -noout -modulus | cut -d= -f2)
assert_eq "$(jget '.signingPolicies[0].rsaParameters.modulus' | base64 -d | to_hex | tr a-f A-F)" "$MOD" "rsaParameters.modulus is the unsigned big-endian modulus"
assert_json '.signingPolicies[0].rsaParameters.publicExponent' AQAB "rsaParameters.publicExponent is AQAB (65537)"
code=$(curl -s -o pol.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" \
	"$BASE/$ORGANIZATION_ID/Cryptoki/MySigningPolicies?projectSlug=$PROJECT&signingPolicySlug=ec-signing")
RESP=$(cat pol.json)
openssl pkey -pubin -in test-ec.pem -outform DER -out ec-spki.der
assert_eq "$(jget '.signingPolicies[0].publicKeyBytes' | base64 -d | to_hex)" "$(tail -c 65 ec-spki.der | to_hex)" \
	"an EC policy's publicKeyBytes is the uncompressed point"
assert_json '.signingPolicies[0] | "\(.keyType) \(.keySizeInBits) \(.rsaParameters)"' "Ecdsa 256 null" "keyType Ecdsa, 256 bits, no rsaParameters"
code=$(curl -s -o pol.json -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" "$BASE/$ORGANIZATION_ID/Cryptoki/MySigningPolicies")
RESP=$(cat pol.json)
assert_json '[.signingPolicies[].signingPolicySlug] | sort | join(" ")' "ec-signing queued release-signing test-signing" \
	"without filters: every policy the signer may submit to"
assert_json '.signingPolicies[] | select(.signingPolicySlug == "release-signing") | .certificateBytes' null \
	"a key without a certificate has certificateBytes null"
api "$AUDITOR" GET "/api/v1/$ORGANIZATION_ID/Cryptoki/MySigningPolicies"
assert_json '.signingPolicies | length' 0 "an auditor may submit to none: an empty list"

# ---- S1: another organization
api "$API_TOKEN" GET "/api/v1/00000000-0000-4000-8000-000000000000/SigningRequests/$Q_ID"
assert_error 404 NOT_FOUND "the request under another organization id"
api "$API_TOKEN" GET "/api/v1/default/Cryptoki/MySigningPolicies"
assert_error 404 NOT_FOUND "the tenant's name instead of its id"

api "$AUDITOR" GET /v1/audit/verify
assert_json .valid true "the audit chain with every request made here verifies"

e2e_finish
