#!/usr/bin/env bash
#
# e2e_native_message.sh - the native `message` field of POST /v1/sign and
# POST /v1/verify (SPEC §3, §4 Q5), which the sign-hash dialect's
# /signature/sign builds on: Ed25519 checked by `openssl pkeyutl -rawin`,
# pure ML-DSA-65 and the composite by tests/tools/mldsa-verify.mjs.  How a
# message request is recorded (signature_format MESSAGE, digest = SHA-512 of
# the message) and what is refused (RSA/EC keys, async, approval, both
# message and digest, resubmitting) with nothing stored.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2

if [ -z "${SIGNET_MLDSA_VERIFY:-}" ] || [ ! -f "$SIGNET_MLDSA_VERIFY" ] || [ -z "${SIGNET_NODE:-}" ]; then
	echo "$E2E_NAME: set SIGNET_MLDSA_VERIFY and SIGNET_NODE (see tests/tools)" >&2
	exit 2
fi

ADMIN_KEY="e2e-admin-$RANDOM-$RANDOM-bootstrap"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
new_principal "$ADMIN_KEY" msg-signer '["signer"]'
SIGNER_KEY=$P_KEY
W=$E2E_TMP/work
mkdir -p "$W"
cd "$W" || exit 2

new_key "$ADMIN_KEY" msg-ed Ed25519
require "Ed25519 public key" fetch_pem msg-ed 1 ed.pem
new_key "$ADMIN_KEY" msg-d3 ML-DSA-65
require "ML-DSA-65 public key" fetch_pem msg-d3 1 d3.pem
new_key "$ADMIN_KEY" msg-comp MLDSA65-ECDSA-P256
require "composite public key" fetch_pem msg-comp 1 comp.pem
new_key "$ADMIN_KEY" msg-rsa RSA-2048

# The empty message (openssl cannot check a signature over nothing; /v1/verify does).
api "$SIGNER_KEY" POST /v1/sign '{"key":"msg-ed","message":""}'
assert_status 200 "Ed25519 signs the empty message"
EMPTY_SIG=$(jget .signature)
api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg s "$EMPTY_SIG" '{key:"msg-ed",message:"",signature:$s}')"
assert_json .valid true "verify (message) the empty message"
api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg s "$EMPTY_SIG" '{key:"msg-ed",message:"AA==",signature:$s}')"
assert_json .valid false "the empty message's signature is not one over a zero byte"

# Any length, including lengths no hash has.
for n in 5 1000 70000; do
	head -c "$n" /dev/urandom >"m$n"
	jq -cn --rawfile m <(b64 "m$n") '{key:"msg-ed",message:$m}' >body.json
	api "$SIGNER_KEY" POST /v1/sign @body.json
	assert_status 200 "Ed25519 signs a $n-byte message"
	assert_json .signature_format MESSAGE "Ed25519 $n: signature_format MESSAGE"
	assert_json .hash_algorithm SHA-512 "Ed25519 $n: hash_algorithm SHA-512 (the record's digest)"
	jget .signature | base64 -d >"ed$n.sig"
	assert_ok "Ed25519 $n-byte message: openssl verifies over the message" \
		openssl pkeyutl -verify -pubin -inkey ed.pem -rawin -in "m$n" -sigfile "ed$n.sig"
	SIG_ID=$(jget .signature_id)
	api "$SIGNER_KEY" GET "/v1/signatures/$SIG_ID"
	assert_json .digest "$(openssl dgst -sha512 -binary "m$n" | b64)" "Ed25519 $n: record digest = SHA-512(message)"
	jq -cn --rawfile m <(b64 "m$n") --arg s "$(b64 "ed$n.sig")" '{key:"msg-ed",message:$m,signature:$s}' >body.json
	api "$SIGNER_KEY" POST /v1/verify @body.json
	assert_json .valid true "verify (message) Ed25519 $n"
done
printf 'x' >>m1000
jq -cn --rawfile m <(b64 m1000) --arg s "$(b64 ed1000.sig)" '{key:"msg-ed",message:$m,signature:$s}' >body.json
api "$SIGNER_KEY" POST /v1/verify @body.json
assert_json .valid false "verify (message) refuses another message"

head -c 4000 /dev/urandom >m.bin
jq -cn --rawfile m <(b64 m.bin) '{key:"msg-d3",message:$m}' >body.json
api "$SIGNER_KEY" POST /v1/sign @body.json
assert_status 200 "ML-DSA-65 signs a message"
assert_json .signature_algorithm ML-DSA-65 "a message defaults to pure ML-DSA-65"
jget .signature | base64 -d >d3.sig
MSG_RQ=$(jget .request_id)
if out=$("$SIGNET_NODE" "$SIGNET_MLDSA_VERIFY" --mode pure d3.pem m.bin d3.sig 2>&1) && [ "$out" = valid ]; then
	ok "pure ML-DSA-65 over the message (mldsa-verify.mjs)"
else
	fail "pure ML-DSA-65 over the message" "$out"
fi
jq -cn --rawfile m <(b64 m.bin) --arg c "$(printf 'ctx' | b64)" '{key:"msg-d3",message:$m,context:$c}' >body.json
api "$SIGNER_KEY" POST /v1/sign @body.json
jget .signature | base64 -d >d3ctx.sig
if out=$("$SIGNET_NODE" "$SIGNET_MLDSA_VERIFY" --mode pure --context-hex 637478 d3.pem m.bin d3ctx.sig 2>&1) &&
	[ "$out" = valid ]; then
	ok "pure ML-DSA-65 over the message with a context (mldsa-verify.mjs)"
else
	fail "pure ML-DSA-65 with a context" "$out"
fi
jq -cn --rawfile m <(b64 m.bin) '{key:"msg-d3",message:$m,signature_algorithm:"HashML-DSA-65"}' >body.json
api "$SIGNER_KEY" POST /v1/sign @body.json
assert_error 400 ALGORITHM_MISMATCH "HashML-DSA-65 does not sign a message"

jq -cn --rawfile m <(b64 m.bin) '{key:"msg-comp",message:$m}' >body.json
api "$SIGNER_KEY" POST /v1/sign @body.json
assert_status 200 "the composite signs a message"
assert_json .hash_algorithm SHA-512 "composite message: an ordinary SHA-512 record"
jget .signature | base64 -d >comp.sig
COMP_SIG=$(jget .signature)
if out=$("$SIGNET_NODE" "$SIGNET_MLDSA_VERIFY" --mode composite --hash-message comp.pem m.bin comp.sig 2>&1) &&
	[ "$out" = valid ]; then
	ok "composite over the message (mldsa-verify.mjs)"
else
	fail "composite over the message" "$out"
fi
api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg d "$(openssl dgst -sha512 -binary m.bin | b64)" --arg s "$COMP_SIG" \
	'{key:"msg-comp",digest:$d,hash_algorithm:"SHA-512",signature:$s}')"
assert_json .valid true "the composite message signature verifies over its SHA-512 digest too"

# Refusals store nothing.
count() {
	api "$ADMIN_KEY" GET "/v1/requests?limit=1000"
	local n
	n=$(jget '.requests | length')
	api "$ADMIN_KEY" GET "/v1/audit?limit=1000"
	echo "$n/$(jget '.entries | length')"
}
BEFORE=$(count)
api "$SIGNER_KEY" POST /v1/sign '{"key":"msg-rsa","message":"aGVsbG8="}'
assert_error 400 ALGORITHM_MISMATCH "an RSA key does not sign a message"
api "$SIGNER_KEY" POST /v1/sign '{"key":"msg-ed","message":"aGVsbG8=","async":true}'
assert_error 400 INVALID_ARGUMENT "a message is not queued (async)"
api "$SIGNER_KEY" POST /v1/sign '{"key":"msg-ed","message":"aGVsbG8=","digest":"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=","hash_algorithm":"SHA-256"}'
assert_error 400 INVALID_ARGUMENT "message and digest together"
api "$SIGNER_KEY" POST /v1/sign '{"key":"msg-ed","message":"not base64!"}'
assert_error 400 INVALID_ARGUMENT "a message that is not base64"
head -c 1048577 /dev/zero >big.bin
jq -cn --rawfile m <(b64 big.bin) '{key:"msg-ed",message:$m}' >body.json
api "$SIGNER_KEY" POST /v1/sign @body.json
assert_error 413 PAYLOAD_TOO_LARGE "a message over 1 MiB (over the body limit)"
api "$ADMIN_KEY" POST /v1/policies '{"project":"msg","slug":"held","key":"msg-ed","approvals_required":1}'
assert_status 201 "a policy that needs approval"
api "$SIGNER_KEY" POST /v1/sign '{"policy":"msg/held","message":"aGVsbG8="}'
assert_error 400 INVALID_ARGUMENT "a message is not held for approval"
assert_eq "$(count | cut -d/ -f1)" "${BEFORE%/*}" "no refused message request was stored"

api "$ADMIN_KEY" POST /v1/policies '{"project":"msg","slug":"fast","key":"msg-ed"}'
api "$SIGNER_KEY" POST "/v1/requests/$MSG_RQ/resubmit" '{"policy":"msg/fast"}'
assert_error 409 FAILED_PRECONDITION "a message request cannot be resubmitted"

api "$ADMIN_KEY" GET /v1/audit/verify
assert_json .valid true "the audit chain is intact"

stop_server
e2e_finish
