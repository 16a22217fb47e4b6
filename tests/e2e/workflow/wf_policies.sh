#!/usr/bin/env bash
#
# wf_policies.sh - signing policies end to end: allowed hash and signature
# algorithm lists, required metadata, allow_legacy_hashes (SHA-1 and MD5 for
# that policy only), allow_fast false (queued, then signed), and the policy
# view with the key's public key and, once a TEST key has a self-signed
# certificate, its certificate chain.  Every signature is checked with the
# openssl command line (ECDSA, RSA-PSS, and against the certificate).

. "$(dirname "${BASH_SOURCE[0]}")/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA"
new_key "$ADMIN_KEY" pol-ec EC-P256
require "export the pol-ec public key" fetch_pem pol-ec 1 "$E2E_TMP/pol-ec.pem"
new_key "$ADMIN_KEY" pol-rsa RSA-2048
require "export the pol-rsa public key" fetch_pem pol-rsa 1 "$E2E_TMP/pol-rsa.pem"
api "$ADMIN_KEY" POST /v1/keys '{"alias":"test-ec","algorithm":"EC-P256","type":"TEST"}'
require "create the TEST key test-ec: $STATUS $RESP" [ "$STATUS" = 201 ]
new_principal "$ADMIN_KEY" pol-signer '["signer"]'
SIGNER=$P_KEY

# policy NAME-JSON: create a policy, require 201
policy() {
	api "$ADMIN_KEY" POST /v1/policies "$1"
	require "create policy $1: got $STATUS $RESP" [ "$STATUS" = 201 ]
}
policy '{"project":"p","slug":"hashes","key":"pol-ec","allowed_hash_algorithms":["SHA-256","SHA-384"]}'
policy '{"project":"p","slug":"schemes","key":"pol-rsa","allowed_signature_algorithms":["RSA-PSS"]}'
policy '{"project":"p","slug":"meta","key":"pol-ec","required_metadata":["build","repo"]}'
policy '{"project":"p","slug":"legacy","key":"pol-ec","allow_legacy_hashes":true}'
policy '{"project":"p","slug":"queued","key":"pol-ec","allow_fast":false}'
policy '{"project":"p","slug":"test","key":"test-ec"}'

# psign POLICY DIGEST HASH [EXTRA-JSON]: POST /v1/sign under a policy (as the signer)
psign() {
	api "$SIGNER" POST /v1/sign "$(jq -cn --arg p "$1" --arg d "$2" --arg h "$3" --argjson x "${4:-{\}}" \
		'{policy:$p,digest:$d,hash_algorithm:$h} + $x')"
}

# ---- policy definitions that are refused
api "$ADMIN_KEY" POST /v1/policies '{"project":"p","slug":"bad1","key":"pol-ec","approvals_required":1,"allow_fast":true}'
assert_error 400 INVALID_ARGUMENT "a policy with approvals and allow_fast true"
api "$ADMIN_KEY" POST /v1/policies '{"project":"p","slug":"bad2","key":"pol-ec","allowed_hash_algorithms":["SHA-257"]}'
assert_error 400 INVALID_ARGUMENT "a policy allowing an unknown hash"
api "$ADMIN_KEY" POST /v1/policies '{"project":"p","slug":"bad3","key":"no-such-key"}'
assert_error 404 NOT_FOUND "a policy naming an unknown key"
api "$ADMIN_KEY" POST /v1/policies '{"project":"p","slug":"hashes","key":"pol-ec"}'
assert_error 409 CONFLICT "a second policy p/hashes"
psign p/nope "$(rand_digest)" SHA-256
assert_error 404 NOT_FOUND "signing under an unknown policy"

# ---- allowed hash algorithms
D=$(rand_digest)
psign p/hashes "$D" SHA-256
assert_status 200 "p/hashes signs SHA-256 (fast: no approvals)"
assert_json .status SIGNED "... SIGNED in the call"
assert_ec_verifies "$E2E_TMP/pol-ec.pem" "$D" "$(jget .signature)" "openssl verifies the p/hashes SHA-256 signature with pol-ec"
D48=$(rand_digest 48)
psign p/hashes "$D48" SHA-384
assert_status 200 "p/hashes signs SHA-384"
assert_ec_verifies "$E2E_TMP/pol-ec.pem" "$D48" "$(jget .signature)" "openssl verifies the p/hashes SHA-384 signature"
psign p/hashes "$(rand_digest 64)" SHA-512
assert_error 400 UNSUPPORTED_HASH_ALGORITHM "p/hashes refuses SHA-512"
assert_contains "$(jget .error.message)" "p/hashes does not allow SHA-512" "the refusal names the policy and the hash"
psign p/hashes "$(rand_digest)" SHA3-256
assert_error 400 UNSUPPORTED_HASH_ALGORITHM "p/hashes refuses SHA3-256"
psign p/hashes "$(rand_digest)" sha256
assert_status 200 "p/hashes accepts the alias sha256 (compared by canonical name)"
api "$SIGNER" POST /v1/sign "$(sign_body pol-ec "$(rand_digest 64)" SHA-512)"
assert_status 200 "the same key signs SHA-512 without the policy"

# ---- allowed signature algorithms
psign p/schemes "$D" SHA-256
assert_error 400 ALGORITHM_MISMATCH "p/schemes refuses the key's default scheme RSA-PKCS1"
assert_contains "$(jget .error.message)" "does not allow RSA-PKCS1" "the refusal names the scheme"
psign p/schemes "$D" SHA-256 '{"signature_algorithm":"RSA-PKCS1"}'
assert_error 400 ALGORITHM_MISMATCH "p/schemes refuses an explicit RSA-PKCS1"
psign p/schemes "$D" SHA-256 '{"signature_algorithm":"RSA-PSS"}'
assert_status 200 "p/schemes signs with RSA-PSS"
assert_json .signature_algorithm RSA-PSS "the answer says RSA-PSS"
b64_decode_to "$D" "$E2E_TMP/pss.digest"
b64_decode_to "$(jget .signature)" "$E2E_TMP/pss.sig"
assert_ok "openssl verifies the RSA-PSS signature (SHA-256, salt = hash length)" \
	openssl pkeyutl -verify -pubin -inkey "$E2E_TMP/pol-rsa.pem" -in "$E2E_TMP/pss.digest" -sigfile "$E2E_TMP/pss.sig" \
	-pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32
assert_fails "openssl does not accept it as PKCS#1 v1.5 (it really is PSS)" \
	openssl pkeyutl -verify -pubin -inkey "$E2E_TMP/pol-rsa.pem" -in "$E2E_TMP/pss.digest" -sigfile "$E2E_TMP/pss.sig" \
	-pkeyopt digest:sha256

# ---- required metadata
psign p/meta "$D" SHA-256
assert_error 400 INVALID_ARGUMENT "p/meta without metadata"
assert_contains "$(jget .error.message)" "requires metadata field 'build'" "the 400 names the missing field build"
psign p/meta "$D" SHA-256 '{"metadata":{"build":"7"}}'
assert_error 400 INVALID_ARGUMENT "p/meta with build but no repo"
assert_contains "$(jget .error.message)" "'repo'" "the 400 names the missing field repo"
psign p/meta "$D" SHA-256 '{"metadata":{"Build":"7","repo":"acme/app"}}'
assert_error 400 INVALID_ARGUMENT "p/meta with 'Build' instead of 'build'"
psign p/meta "$D" SHA-256 '{"metadata":{"build":"7","repo":"acme/app","extra":true}}'
assert_status 200 "p/meta with build and repo (and an extra field) signs"
SIG_ID=$(jget .signature_id)
assert_ec_verifies "$E2E_TMP/pol-ec.pem" "$D" "$(jget .signature)" "openssl verifies the p/meta signature"
api "$SIGNER" GET "/v1/signatures/$SIG_ID"
assert_json '.metadata | "\(.build) \(.repo) \(.extra)"' "7 acme/app true" "the signature record keeps the metadata"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM requests WHERE policy = 'p/meta'")" 1 \
	"store: the refused p/meta requests stored nothing"

# ---- legacy hashes: only under a policy that allows them
SHA1=$(rand_digest 20)
MD5=$(rand_digest 16)
api "$SIGNER" POST /v1/sign "$(sign_body pol-ec "$SHA1" SHA-1)"
assert_error 400 UNSUPPORTED_HASH_ALGORITHM "SHA-1 with plain key pol-ec"
assert_contains "$(jget .error.message)" "legacy hashes need a signing policy" "the refusal explains legacy hashes need a policy"
api "$SIGNER" POST /v1/sign "$(sign_body pol-ec "$MD5" MD5)"
assert_error 400 UNSUPPORTED_HASH_ALGORITHM "MD5 with plain key pol-ec"
psign p/hashes "$SHA1" SHA-1
assert_error 400 UNSUPPORTED_HASH_ALGORITHM "SHA-1 under p/hashes (no legacy hashes)"
psign p/test "$SHA1" SHA-1
assert_error 400 UNSUPPORTED_HASH_ALGORITHM "SHA-1 under p/test (no legacy hashes)"
psign p/legacy "$SHA1" SHA-1
assert_status 200 "SHA-1 under p/legacy (allow_legacy_hashes)"
assert_json .hash_algorithm SHA-1 "the answer says SHA-1"
assert_ec_verifies "$E2E_TMP/pol-ec.pem" "$SHA1" "$(jget .signature)" "openssl verifies the SHA-1 signature"
psign p/legacy "$MD5" MD5
assert_status 200 "MD5 under p/legacy"
assert_ec_verifies "$E2E_TMP/pol-ec.pem" "$MD5" "$(jget .signature)" "openssl verifies the MD5 signature"
psign p/legacy "$SHA1" SHA-256
assert_error 400 DIGEST_LENGTH_MISMATCH "a 20-byte digest declared SHA-256 under p/legacy"
api "$SIGNER" POST /v1/sign "$(sign_body pol-ec "$SHA1" SHA-1)"
assert_error 400 UNSUPPORTED_HASH_ALGORITHM "SHA-1 with plain key pol-ec is still refused afterwards"

# ---- allow_fast false: 202, then a worker signs
D2=$(rand_digest)
psign p/queued "$D2" SHA-256
assert_status 202 "p/queued (allow_fast false) answers 202"
assert_json .status QUEUED "... QUEUED"
RQ=$(jget .request_id)
psign p/queued "$(rand_digest)" SHA-256 '{"async":false}'
assert_status 202 "p/queued with async:false still answers 202"
assert_request_reaches "$SIGNER" "$RQ" SIGNED "the p/queued request"
assert_json .policy p/queued "the request names p/queued"
assert_ec_verifies "$E2E_TMP/pol-ec.pem" "$D2" "$(jget .signature)" "openssl verifies the queued signature"

# ---- the policy view
api "$SIGNER" GET /v1/policies/p/hashes
assert_status 200 "GET /v1/policies/p/hashes"
assert_json '[.project, .slug, .key_alias, .key_algorithm, .key_version, (.allowed_hash_algorithms | join(","))] | join(" ")' \
	"p hashes pol-ec EC-P256 1 SHA-256,SHA-384" "the policy view names its key and lists"
jget .public_key_pem >"$E2E_TMP/policy-hashes.pem"
assert_eq "$(pem_fingerprint "$E2E_TMP/policy-hashes.pem")" "$(pem_fingerprint "$E2E_TMP/pol-ec.pem")" \
	"the policy's public_key_pem is pol-ec's public key"
assert_json .certificate_chain_pem null "certificate_chain_pem is null while the key has no chain"
api "$SIGNER" GET /v1/policies
assert_json '[.policies[] | "\(.project)/\(.slug)"] | sort | join(" ")' \
	"p/hashes p/legacy p/meta p/queued p/schemes p/test" "GET /v1/policies lists the 6 policies"
assert_json '[.policies[] | has("public_key_pem")] | any' false "the list leaves out public_key_pem"
api "$SIGNER" GET /v1/policies/p/nope
assert_error 404 NOT_FOUND "GET an unknown policy"

# ---- a TEST key's self-signed certificate shows in its policy
api "$ADMIN_KEY" POST /v1/keys/pol-ec/versions/1/self-signed '{"subject":"CN=Not A Test,O=Signet QA"}'
assert_error 409 FAILED_PRECONDITION "a self-signed certificate for the PRODUCTION key pol-ec"
api "$SIGNER" GET /v1/policies/p/test
assert_json .certificate_chain_pem null "p/test has no chain before the certificate"
api "$ADMIN_KEY" POST /v1/keys/test-ec/versions/1/self-signed '{"subject":"CN=Signet WF Test,O=Signet QA","days":30}'
assert_status 201 "self-signed certificate for TEST key test-ec version 1"
jget .certificate_pem >"$E2E_TMP/selfsigned.pem"
api "$SIGNER" GET /v1/policies/p/test
assert_status 200 "GET /v1/policies/p/test"
jget .certificate_chain_pem >"$E2E_TMP/chain.pem"
jget .public_key_pem >"$E2E_TMP/test-ec.pem"
assert_contains "$(cat "$E2E_TMP/chain.pem")" "BEGIN CERTIFICATE" "p/test now carries certificate_chain_pem"
assert_eq "$(openssl x509 -in "$E2E_TMP/chain.pem" -outform DER 2>/dev/null | to_hex)" \
	"$(openssl x509 -in "$E2E_TMP/selfsigned.pem" -outform DER 2>/dev/null | to_hex)" \
	"the policy's chain is the certificate just created"
assert_match "$(openssl x509 -in "$E2E_TMP/chain.pem" -noout -subject -nameopt RFC2253 2>&1)" 'CN=Signet WF Test' \
	"openssl reads the certificate subject CN=Signet WF Test"
openssl x509 -in "$E2E_TMP/chain.pem" -pubkey -noout >"$E2E_TMP/cert-pub.pem" 2>/dev/null
assert_eq "$(pem_fingerprint "$E2E_TMP/cert-pub.pem")" "$(pem_fingerprint "$E2E_TMP/test-ec.pem")" \
	"the certificate carries the policy's public key"
assert_ok "the certificate is valid for 29 more days" openssl x509 -in "$E2E_TMP/chain.pem" -noout -checkend $((29 * 86400))
assert_fails "... and not for 31 (days: 30)" openssl x509 -in "$E2E_TMP/chain.pem" -noout -checkend $((31 * 86400))
assert_ok "the certificate's signature verifies with its own key (self-signed)" \
	openssl verify -partial_chain -CAfile "$E2E_TMP/chain.pem" -purpose any "$E2E_TMP/chain.pem"
D3=$(rand_digest)
psign p/test "$D3" SHA-256
assert_status 200 "p/test signs"
b64_decode_to "$D3" "$E2E_TMP/t.digest"
b64_decode_to "$(jget .signature)" "$E2E_TMP/t.sig"
assert_ok "openssl verifies the p/test signature against the certificate (-certin)" \
	openssl pkeyutl -verify -certin -inkey "$E2E_TMP/chain.pem" -in "$E2E_TMP/t.digest" -sigfile "$E2E_TMP/t.sig"
api "$SIGNER" GET /v1/policies/p/hashes
assert_json .certificate_chain_pem null "p/hashes (the PRODUCTION key) still has no chain"

e2e_finish
