#!/usr/bin/env bash
#
# e2e_signhash.sh - the sign-hash API (SPEC §4 item 2, Q1-Q7;
# reference/qpher-hash-based-signing.txt) against a real signetd.
#
# The reference document's own curl examples run as written, with only the
# host (https://api.qpher.ai -> $BASE_URL), the API key (qph_your_key_here)
# and the signature placeholder substituted.  Every signature is checked by
# tests/tools/mldsa-verify.mjs (@noble/post-quantum and Node's OpenSSL, no
# Signet code): HashML-DSA-65 for Dilithium3 sign-hash, the composite with
# the file (SHA-512) or the hash bytes (SHA-256/384) as its message, pure
# ML-DSA-65 and the composite over the message for /signature/sign.  Every
# error code of the document's table that a client can provoke is checked
# with its HTTP status and the {error:{code,message},request_id,timestamp}
# shape, and a refused request stores nothing (requests and audit entries
# counted before and after).  Signatures made here are native records in the
# same audit chain.  Not provoked: ERR_RATE_001 (429) and ERR_CRYPTO_001 (500).

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2

if [ -z "${SIGNET_MLDSA_VERIFY:-}" ] || [ ! -f "$SIGNET_MLDSA_VERIFY" ] || [ -z "${SIGNET_NODE:-}" ]; then
	echo "$E2E_NAME: set SIGNET_MLDSA_VERIFY and SIGNET_NODE (see tests/tools)" >&2
	exit 2
fi
for tool in shasum xxd; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$E2E_NAME: '$tool' is required" >&2; exit 2; }
done

ADMIN_KEY="e2e-admin-$RANDOM-$RANDOM-bootstrap"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
new_principal "$ADMIN_KEY" qpher-signer '["signer"]'
SIGNER_KEY=$P_KEY
SIGNER_ID=$P_ID
new_principal "$ADMIN_KEY" qpher-auditor '["auditor"]'
AUDITOR_KEY=$P_KEY

W=$E2E_TMP/work
mkdir -p "$W"
cd "$W" || exit 2

# ---------------------------------------------------------------- helpers

# The document's host and key, as its examples are rewritten (only these change).
doc() {
	local f=$1
	sed -e "s|https://api.qpher.ai|$BASE_URL|g" -e "s|qph_your_key_here|$SIGNER_KEY|g" "$f"
}

# Run a curl command line of the document (text in file $1, after doc()),
# keeping the body in RESP and the status in STATUS; the headers in HDRS.
run_doc_curl() {
	local script=$W/doc-cmd.sh
	{
		echo 'set -u'
		printf 'curl() { command curl -s -D %q -o %q -w "%%{http_code}" "$@"; }\n' "$W/doc.hdr" "$W/doc.body"
		doc "$1"
	} >"$script"
	STATUS=$(HASH_B64=${HASH_B64:-} bash "$script")
	RESP=$(cat "$W/doc.body")
	RID=$(tr -d '\r' <"$W/doc.hdr" | sed -n 's/^[Xx]-[Rr]equest-[Ii]d: //p')
}

# shcall KEY METHOD PATH [BODY] : a sign-hash API call with x-api-key; STATUS, RESP, RID.
shcall() {
	local key=$1 method=$2 path=$3 body=${4:-}
	local args=(-s -D "$W/h" -o "$W/b" -w '%{http_code}' -X "$method" --max-time 60
		-H 'Content-Type: application/json')
	[ -n "$key" ] && args+=(-H "x-api-key: $key")
	[ -n "$body" ] && args+=(--data-binary "$body")
	STATUS=$(curl "${args[@]}" "$BASE_URL$path")
	RESP=$(cat "$W/b")
	RID=$(tr -d '\r' <"$W/h" | sed -n 's/^[Xx]-[Rr]equest-[Ii]d: //p')
}

# The envelope of Q6: request_id = X-Request-Id, timestamp ISO 8601 UTC; data or error.
check_envelope() {
	local want=$1 desc=$2 shape
	shape=$(jq -r --arg rid "$RID" --arg want "$want" '
		if (type == "object") and (keys == ([$want, "request_id", "timestamp"] | sort))
		   and (.request_id == $rid) and ($rid | length) > 0
		   and (.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"))
		   and (if $want == "error" then (.error | keys == ["code", "message"])
		        and (.error.message | length > 0) else (.data | type == "object") end)
		then "good" else "bad" end' <<<"$RESP" 2>/dev/null)
	if [ "$shape" = good ]; then
		ok "$desc: {$want, request_id = X-Request-Id, timestamp}"
	else
		fail "$desc: envelope {$want, request_id, timestamp}" "status $STATUS, X-Request-Id '$RID'" "$RESP"
	fi
}

# sh_error STATUS CODE DESCRIPTION : the last answer is this error, in the dialect's shape.
sh_error() {
	local code
	code=$(jq -r '.error.code' <<<"$RESP" 2>/dev/null)
	if [ "$STATUS" = "$1" ] && [ "$code" = "$2" ]; then
		ok "$3 -> $1 $2"
	else
		fail "$3" "expected HTTP $1 $2, got $STATUS $code" "$RESP"
	fi
	check_envelope error "$3"
}

# sh_json FILTER EXPECTED DESCRIPTION
sh_json() {
	local got
	got=$(jq -r "$1" <<<"$RESP" 2>/dev/null)
	if [ "$got" = "$2" ]; then
		ok "$3"
	else
		fail "$3" "$1: expected '$2', got '$got'" "$RESP"
	fi
}

# mldsa_ok DESCRIPTION ARGS... : the independent verifier accepts
mldsa_ok() {
	local desc=$1 out
	shift
	if out=$("$SIGNET_NODE" "$SIGNET_MLDSA_VERIFY" "$@" 2>&1) && [ "$out" = valid ]; then
		ok "$desc (mldsa-verify.mjs)"
	else
		fail "$desc (mldsa-verify.mjs)" "$out"
	fi
}

# mldsa_rejects DESCRIPTION ARGS... : the independent verifier refuses (exit 1)
mldsa_rejects() {
	local desc=$1 rc
	shift
	"$SIGNET_NODE" "$SIGNET_MLDSA_VERIFY" "$@" >/dev/null 2>&1
	rc=$?
	if [ "$rc" = 1 ]; then ok "$desc (mldsa-verify.mjs refuses)"; else fail "$desc" "verifier exit $rc"; fi
}

# Everything stored for the tenant: requests and audit entries.
stored_count() {
	api "$ADMIN_KEY" GET "/v1/requests?limit=1000"
	local nreq
	nreq=$(jget '.requests | length')
	api "$ADMIN_KEY" GET "/v1/audit?limit=1000"
	echo "$nreq/$(jget '.entries // .audit // . | length')"
}

# sig_of OUT : the last answer's data.signature, decoded into OUT
sig_of() { jq -r '.data.signature' <<<"$RESP" | base64 -d >"$1"; }

# ---------------------------------------------------------------- keys

# Q1: before any key exists, neither algorithm has a key.
shcall "$SIGNER_KEY" POST /api/v1/signature/sign-hash \
	'{"hash":"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg=","hash_algorithm":"SHA-256","key_version":1}'
sh_error 404 ERR_SIG_003 "Q1: no Dilithium3 key in the tenant"

new_key "$ADMIN_KEY" qpher-d3 Dilithium3
D3_ID=$K_ID
require "Dilithium3 public key" fetch_pem "$D3_ID" 1 "$W/d3.pem"

shcall "$SIGNER_KEY" POST /api/v1/signature/sign-hash \
	'{"hash":"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg=","hash_algorithm":"SHA-256","key_version":1,"algorithm":"Composite-ML-DSA"}'
sh_error 404 ERR_SIG_003 "Q1: no Composite-ML-DSA key in the tenant"

new_key "$ADMIN_KEY" qpher-comp MLDSA65-ECDSA-P256
COMP_ID=$K_ID
require "composite public key" fetch_pem "$COMP_ID" 1 "$W/comp.pem"

# ---------------------------------------------------------------- the document's examples

head -c 300000 /dev/urandom >artifact.tar.gz

# Step 1: Compute the Hash Locally (as written).
cat >step1.sh <<'EOF'
# Compute SHA-256 hash of a file
HASH=$(shasum -a 256 artifact.tar.gz | awk '{print $1}')

# Convert hex hash to base64
HASH_B64=$(echo -n "$HASH" | xxd -r -p | base64)

echo "Hash (base64): $HASH_B64"
EOF
STEP1=$(bash step1.sh)
HASH_B64=${STEP1#Hash (base64): }
openssl dgst -sha256 -binary artifact.tar.gz >artifact.sha256
if [ "$HASH_B64" = "$(b64 artifact.sha256)" ]; then ok "step 1 computes the SHA-256 in base64"; else fail "step 1" "$STEP1"; fi

# Step 2: Sign the Hash (as written).
cat >step2.txt <<'EOF'
curl -X POST https://api.qpher.ai/api/v1/signature/sign-hash \
  -H "Content-Type: application/json" \
  -H "x-api-key: qph_your_key_here" \
  -d '{
    "hash": "'$HASH_B64'",
    "hash_algorithm": "SHA-256",
    "key_version": 1
  }'
EOF
run_doc_curl step2.txt
[ "$STATUS" = 200 ] && ok "step 2: sign-hash -> 200" || fail "step 2: sign-hash" "$STATUS $RESP"
check_envelope data "step 2"
sh_json '.data.key_version' 1 "step 2: data.key_version"
sh_json '.data.algorithm' Dilithium3 "step 2: data.algorithm"
sh_json '.data.hash_algorithm' SHA-256 "step 2: data.hash_algorithm"
sh_json '.data.signature_type' detached "step 2: data.signature_type"
sig_of step2.sig
STEP2_SIG=$(jq -r .data.signature <<<"$RESP")
STEP2_SIG_ID=$(jq -r .data.signature_id <<<"$RESP")
STEP2_RQ_ID=$(jq -r .data.signing_request_id <<<"$RESP")
assert_eq "$(stat -c %s step2.sig)" 3309 "Q3: a Dilithium3 signature is 3309 bytes (FIPS 204)"
mldsa_ok "step 2: HashML-DSA-65 over the SHA-256 digest, empty context" --mode hash --hash SHA-256 \
	--alg ML-DSA-65 d3.pem artifact.sha256 step2.sig
mldsa_ok "step 2: the same signature over the file itself" --mode hash --hash SHA-256 --hash-message \
	d3.pem artifact.tar.gz step2.sig
mldsa_rejects "step 2: not a pure ML-DSA signature of the digest" --mode pure d3.pem artifact.sha256 step2.sig
printf 'x' >>artifact.tar.gz.tampered
cat artifact.tar.gz >>artifact.tar.gz.tampered
mldsa_rejects "step 2: a tampered file" --mode hash --hash SHA-256 --hash-message d3.pem \
	artifact.tar.gz.tampered step2.sig

# Step 3: Verify the Signature (as written, the placeholder replaced by the signature).
sed "s|base64-encoded-signature...|$STEP2_SIG|" >step3.txt <<'EOF'
curl -X POST https://api.qpher.ai/api/v1/signature/verify-hash \
  -H "Content-Type: application/json" \
  -H "x-api-key: qph_your_key_here" \
  -d '{
    "hash": "'$HASH_B64'",
    "hash_algorithm": "SHA-256",
    "signature": "base64-encoded-signature...",
    "key_version": 1
  }'
EOF
run_doc_curl step3.txt
[ "$STATUS" = 200 ] && ok "step 3: verify-hash -> 200" || fail "step 3: verify-hash" "$STATUS $RESP"
check_envelope data "step 3"
sh_json '.data.valid' true "step 3: data.valid"

# The "Understand the Response" request (URL-safe base64 hash).
shcall "$SIGNER_KEY" POST /api/v1/signature/sign-hash '{
  "hash": "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg=",
  "hash_algorithm": "SHA-256",
  "key_version": 1
}'
[ "$STATUS" = 200 ] && ok "response example: 200" || fail "response example" "$STATUS $RESP"
sig_of example.sig
printf '%s' "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg=" | tr '_-' '/+' | base64 -d >example.digest
mldsa_ok "response example: HashML-DSA-65 over the URL-safe hash" --mode hash --hash SHA-256 d3.pem \
	example.digest example.sig

# Sign Hash with Composite-ML-DSA (as written).
cat >composite.txt <<'EOF'
curl -X POST https://api.qpher.ai/api/v1/signature/sign-hash \
  -H "Content-Type: application/json" \
  -H "x-api-key: qph_your_key_here" \
  -d '{
    "hash": "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg=",
    "hash_algorithm": "SHA-256",
    "key_version": 1,
    "algorithm": "Composite-ML-DSA"
  }'
EOF
run_doc_curl composite.txt
[ "$STATUS" = 200 ] && ok "composite example: 200" || fail "composite example" "$STATUS $RESP"
check_envelope data "composite example"
sh_json '.data.algorithm' Composite-ML-DSA "composite example: data.algorithm"
sh_json '.data.hash_algorithm' SHA-256 "composite example: data.hash_algorithm"
sh_json '.data.signature_type' detached "composite example: data.signature_type"
sig_of composite.sig
COMP_SIG=$(jq -r .data.signature <<<"$RESP")
mldsa_ok "Q4: composite with SHA-256 signs the hash bytes as its message" --mode composite --hash-message \
	comp.pem example.digest composite.sig
shcall "$SIGNER_KEY" POST /api/v1/signature/verify-hash "$(jq -cn --arg s "$COMP_SIG" \
	'{hash:"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg=",hash_algorithm:"SHA-256",key_version:1,algorithm:"Composite-ML-DSA",signature:$s}')"
sh_json '.data.valid' true "verify-hash accepts the composite signature"
shcall "$SIGNER_KEY" POST /api/v1/signature/verify-hash "$(jq -cn --arg s "$COMP_SIG" \
	'{hash:"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg=",hash_algorithm:"SHA-256",key_version:1,signature:$s}')"
sh_json '.data.valid' false "a composite signature is not a Dilithium3 one"

# The GitHub Actions steps (their run: scripts as written, env as the workflow sets it).
cat >gha-sign.txt <<'EOF'
# Compute SHA-256 hash
HASH_B64=$(shasum -a 256 artifact.tar.gz | awk '{print $1}' | xxd -r -p | base64)

# Sign the hash
RESPONSE=$(curl -s -X POST https://api.qpher.ai/api/v1/signature/sign-hash \
-H "Content-Type: application/json" \
-H "x-api-key: $QPHER_API_KEY" \
-d "{
\"hash\": \"$HASH_B64\",
\"hash_algorithm\": \"SHA-256\",
\"key_version\": $QPHER_KEY_VERSION
}")

# Save the signature
echo "$RESPONSE" | jq -r '.data.signature' > artifact.tar.gz.sig
echo "Artifact signed successfully"
EOF
cat >gha-verify.txt <<'EOF'
HASH_B64=$(shasum -a 256 artifact.tar.gz | awk '{print $1}' | xxd -r -p | base64)
SIGNATURE=$(cat artifact.tar.gz.sig)

RESPONSE=$(curl -s -X POST https://api.qpher.ai/api/v1/signature/verify-hash \
-H "Content-Type: application/json" \
-H "x-api-key: $QPHER_API_KEY" \
-d "{
\"hash\": \"$HASH_B64\",
\"hash_algorithm\": \"SHA-256\",
\"signature\": \"$SIGNATURE\",
\"key_version\": $QPHER_KEY_VERSION
}")

VALID=$(echo "$RESPONSE" | jq -r '.data.valid')
if [ "$VALID" != "true" ]; then
echo "ERROR: Signature verification failed!"
exit 1
fi
echo "Signature verified successfully"
EOF
if out=$(doc gha-sign.txt | QPHER_API_KEY=$SIGNER_KEY QPHER_KEY_VERSION=1 bash -e 2>&1) &&
	[ "$out" = "Artifact signed successfully" ]; then
	ok "GitHub Actions: sign step"
else
	fail "GitHub Actions: sign step" "$out"
fi
base64 -d <artifact.tar.gz.sig >gha.sig
mldsa_ok "GitHub Actions: the saved signature" --mode hash --hash SHA-256 --hash-message d3.pem \
	artifact.tar.gz gha.sig
if out=$(doc gha-verify.txt | QPHER_API_KEY=$SIGNER_KEY QPHER_KEY_VERSION=1 bash 2>&1) &&
	[ "$out" = "Signature verified successfully" ]; then
	ok "GitHub Actions: verify step"
else
	fail "GitHub Actions: verify step" "$out"
fi
cp artifact.tar.gz artifact.orig
cp artifact.tar.gz.tampered artifact.tar.gz
if out=$(doc gha-verify.txt | QPHER_API_KEY=$SIGNER_KEY QPHER_KEY_VERSION=1 bash 2>&1); then
	fail "GitHub Actions: verify step fails for a tampered artifact" "$out"
else
	ok "GitHub Actions: verify step fails for a tampered artifact"
fi
cp artifact.orig artifact.tar.gz

# ---------------------------------------------------------------- every hash, both algorithms

for h in SHA-256 SHA-384 SHA-512; do
	digest_file "$h" artifact.tar.gz "d.$h"
	for alg in Dilithium3 Composite-ML-DSA; do
		shcall "$SIGNER_KEY" POST /api/v1/signature/sign-hash "$(jq -cn --arg d "$(b64 "d.$h")" \
			--arg h "$h" --arg a "$alg" '{hash:$d,hash_algorithm:$h,key_version:1,algorithm:$a}')"
		[ "$STATUS" = 200 ] && ok "sign-hash $alg $h -> 200" || fail "sign-hash $alg $h" "$STATUS $RESP"
		sh_json '.data.hash_algorithm' "$h" "sign-hash $alg $h: data.hash_algorithm"
		sig_of "s.$alg.$h"
		if [ "$alg" = Dilithium3 ]; then
			mldsa_ok "$alg $h: HashML-DSA-65 binding the $h OID" --mode hash --hash "$h" --hash-message \
				d3.pem artifact.tar.gz "s.$alg.$h"
			other=SHA3-${h#SHA-}
			mldsa_rejects "$alg $h: the OID of another hash does not verify" --mode hash --hash "$other" \
				d3.pem "d.$h" "s.$alg.$h"
		elif [ "$h" = SHA-512 ]; then
			mldsa_ok "Q4: composite with SHA-512 verifies over the file" --mode composite --hash-message \
				comp.pem artifact.tar.gz "s.$alg.$h"
		else
			mldsa_ok "Q4: composite with $h signs the hash bytes as its message" --mode composite \
				--hash-message comp.pem "d.$h" "s.$alg.$h"
		fi
		shcall "$SIGNER_KEY" POST /api/v1/signature/verify-hash "$(jq -cn --arg d "$(b64 "d.$h")" \
			--arg h "$h" --arg a "$alg" --arg s "$(b64 "s.$alg.$h")" \
			'{hash:$d,hash_algorithm:$h,key_version:1,algorithm:$a,signature:$s}')"
		sh_json '.data.valid' true "verify-hash $alg $h"
		sh_json '.data.hash_algorithm' "$h" "verify-hash $alg $h: data.hash_algorithm"
	done
done

# ---------------------------------------------------------------- /signature/sign and /verify (Q5)

# msg_body OUT MESSAGE-FILE [SIGNATURE-FILE] [EXTRA-JSON] : a message body in a file
# (the message is too long for a command-line argument).
msg_body() {
	b64 "$2" >"$1.m"
	if [ -n "${3:-}" ]; then b64 "$3" >"$1.s"; else : >"$1.s"; fi
	jq -cn --rawfile m "$1.m" --rawfile s "$1.s" --argjson x "${4:-{\}}" \
		'{message:$m,key_version:1} + (if $s == "" then {} else {signature:$s} end) + $x' >"$1"
}

msg_body sign-d3.json artifact.tar.gz
shcall "$SIGNER_KEY" POST /api/v1/signature/sign @sign-d3.json
[ "$STATUS" = 200 ] && ok "sign (message) Dilithium3 -> 200" || fail "sign Dilithium3" "$STATUS $RESP"
check_envelope data "sign (message)"
sh_json '.data.algorithm' Dilithium3 "sign: data.algorithm"
sh_json '.data.signature_type' embedded "sign: data.signature_type"
MSG_SIG_ID=$(jq -r .data.signature_id <<<"$RESP")
sig_of msg.d3.sig
assert_eq "$(stat -c %s msg.d3.sig)" 3309 "sign: 3309-byte signature"
mldsa_ok "Q5: Dilithium3 /signature/sign is pure ML-DSA-65 over the message" --mode pure d3.pem \
	artifact.tar.gz msg.d3.sig
msg_body verify-d3.json artifact.tar.gz msg.d3.sig
shcall "$SIGNER_KEY" POST /api/v1/signature/verify @verify-d3.json
sh_json '.data.valid' true "verify (message) Dilithium3"
msg_body verify-d3-bad.json artifact.tar.gz.tampered msg.d3.sig
shcall "$SIGNER_KEY" POST /api/v1/signature/verify @verify-d3-bad.json
sh_json '.data.valid' false "verify (message) refuses another message"
shcall "$SIGNER_KEY" POST /api/v1/signature/verify-hash "$(jq -cn --arg d "$HASH_B64" --arg s "$(b64 msg.d3.sig)" \
	'{hash:$d,hash_algorithm:"SHA-256",signature:$s,key_version:1}')"
sh_json '.data.valid' false "a sign signature does not pass verify-hash (the document's warning)"

msg_body sign-comp.json artifact.tar.gz "" '{"algorithm":"Composite-ML-DSA"}'
shcall "$SIGNER_KEY" POST /api/v1/signature/sign @sign-comp.json
[ "$STATUS" = 200 ] && ok "sign (message) composite -> 200" || fail "sign composite" "$STATUS $RESP"
sig_of msg.comp.sig
mldsa_ok "Q5: composite /signature/sign over the message" --mode composite --hash-message comp.pem \
	artifact.tar.gz msg.comp.sig
msg_body verify-comp.json artifact.tar.gz msg.comp.sig '{"algorithm":"Composite-ML-DSA"}'
shcall "$SIGNER_KEY" POST /api/v1/signature/verify @verify-comp.json
sh_json '.data.valid' true "verify (message) composite"

# 1 MiB is the limit: exactly 1 MiB signs, one byte more is refused.
head -c 1048576 /dev/urandom >mib.bin
msg_body mib.json mib.bin
shcall "$SIGNER_KEY" POST /api/v1/signature/sign @mib.json
[ "$STATUS" = 200 ] && ok "sign: a 1 MiB message -> 200" || fail "sign 1 MiB" "$STATUS $(head -c 300 <<<"$RESP")"
sig_of mib.sig
mldsa_ok "sign: the 1 MiB message" --mode pure d3.pem mib.bin mib.sig
head -c 1 /dev/urandom >>mib.bin
msg_body mib1.json mib.bin
BEFORE=$(stored_count)
shcall "$SIGNER_KEY" POST /api/v1/signature/sign @mib1.json
sh_error 413 ERR_INVALID_001 "sign: 1 MiB + 1 byte"
assert_eq "$(stored_count)" "$BEFORE" "sign: nothing stored for the oversized message"

# ---------------------------------------------------------------- native records, one audit chain

api "$ADMIN_KEY" GET "/v1/signatures/$STEP2_SIG_ID"
assert_status 200 "the step 2 signature is a native record"
assert_json .key_id "$D3_ID" "record: key_id"
assert_json .key_version 1 "record: key_version"
assert_json .signature_algorithm HashML-DSA-65 "record: signature_algorithm"
assert_json .hash_algorithm SHA-256 "record: hash_algorithm"
assert_json .signature "$STEP2_SIG" "record: the same signature"
assert_json .created_by "$SIGNER_ID" "record: created_by"
assert_json .request_id "$STEP2_RQ_ID" "record: request_id"
api "$ADMIN_KEY" GET "/v1/requests/$STEP2_RQ_ID"
assert_status 200 "the step 2 request is a native request"
assert_json .status SIGNED "request: SIGNED"
api "$ADMIN_KEY" GET "/v1/signatures/$MSG_SIG_ID"
assert_status 200 "the message signature is a native record"
assert_json .signature_algorithm ML-DSA-65 "message record: pure ML-DSA-65"
assert_json .signature_format MESSAGE "message record: signature_format MESSAGE"
assert_json .hash_algorithm SHA-512 "message record: hash_algorithm SHA-512"
assert_json .digest "$(openssl dgst -sha512 -binary artifact.tar.gz | b64)" "message record: digest = SHA-512(message)"
api "$ADMIN_KEY" GET "/v1/audit?limit=1000"
assert_contains "$RESP" "$STEP2_RQ_ID" "the audit log names the sign-hash request"
api "$ADMIN_KEY" GET /v1/audit/verify
assert_status 200 "audit verify"
assert_json .valid true "one intact audit chain"

# ---------------------------------------------------------------- errors (Q2, Q7, the table)

BEFORE=$(stored_count)
HASH32=$(b64 artifact.sha256)
errcase() {  # STATUS CODE DESCRIPTION PATH BODY [KEY]
	shcall "${6-$SIGNER_KEY}" POST "$4" "$5"
	sh_error "$1" "$2" "$3"
}
errcase 400 ERR_INVALID_001 "Q7: missing hash" /api/v1/signature/sign-hash \
	'{"hash_algorithm":"SHA-256","key_version":1}'
errcase 400 ERR_INVALID_001 "Q7: missing hash_algorithm" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"key_version\":1}"
errcase 400 ERR_INVALID_001 "Q7: missing key_version" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\"}"
errcase 400 ERR_INVALID_001 "verify-hash: missing signature" /api/v1/signature/verify-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":1}"
errcase 400 ERR_INVALID_001 "sign: missing message" /api/v1/signature/sign '{"key_version":1}'
errcase 400 ERR_INVALID_001 "not JSON" /api/v1/signature/sign-hash 'hash=1'
for h in SHA3-256 MD5 SHA-1 SHA-224 BLAKE2; do
	errcase 400 ERR_SIG_010 "Q7: hash_algorithm $h" /api/v1/signature/sign-hash \
		"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"$h\",\"key_version\":1}"
done
errcase 400 ERR_SIG_010 "Q7: verify-hash with SHA3-512" /api/v1/signature/verify-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA3-512\",\"key_version\":1,\"signature\":\"$STEP2_SIG\"}"
errcase 400 ERR_SIG_011 "the document's case: a 32-byte hash with SHA-512" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-512\",\"key_version\":1}"
errcase 400 ERR_SIG_011 "a 32-byte hash with SHA-384" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-384\",\"key_version\":1,\"algorithm\":\"Composite-ML-DSA\"}"
errcase 400 ERR_SIG_011 "Q7: the length check applies to verify-hash" /api/v1/signature/verify-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-512\",\"key_version\":1,\"signature\":\"$STEP2_SIG\"}"
errcase 400 ERR_INVALID_001 "a hex hash" /api/v1/signature/sign-hash \
	"{\"hash\":\"$(to_hex artifact.sha256)\",\"hash_algorithm\":\"SHA-256\",\"key_version\":1}"
errcase 400 ERR_INVALID_001 "unknown algorithm" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":1,\"algorithm\":\"Falcon-512\"}"
errcase 400 ERR_INVALID_001 "key_version not a number" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":\"one\"}"
errcase 401 ERR_AUTH_001 "a wrong API key" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":1}" "qph_not_a_key"
errcase 401 ERR_AUTH_001 "no API key" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":1}" ""
errcase 403 ERR_AUTH_001 "a principal without the signer role" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":1}" "$AUDITOR_KEY"
errcase 404 ERR_SIG_003 "Q2: a key_version that never existed" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":7}"
errcase 404 ERR_SIG_003 "Q2: verify-hash with a version that never existed" /api/v1/signature/verify-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":7,\"signature\":\"$STEP2_SIG\"}"
shcall "$SIGNER_KEY" GET /api/v1/signature/sign-hash
[ "$STATUS" = 405 ] && ok "GET sign-hash -> 405" || fail "GET sign-hash" "$STATUS $RESP"
check_envelope error "GET sign-hash"
assert_eq "$(stored_count)" "$BEFORE" "no refused request stored anything (requests/audit entries)"

# Q2: after a rotation only the current version signs; the old one still verifies.
api "$ADMIN_KEY" POST "/v1/keys/$D3_ID/rotate"
assert_status 200 "rotate the Dilithium3 key" || true
BEFORE=$(stored_count)
errcase 409 ERR_SIG_004 "Q2: an older key_version" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":1}"
assert_eq "$(stored_count)" "$BEFORE" "the refused older version stored nothing"
shcall "$SIGNER_KEY" POST /api/v1/signature/verify-hash "$(jq -cn --arg d "$HASH32" --arg s "$STEP2_SIG" \
	'{hash:$d,hash_algorithm:"SHA-256",signature:$s,key_version:1}')"
sh_json '.data.valid' true "Q2: verify-hash accepts the older version"
sh_json '.data.key_version' 1 "verify-hash: data.key_version"
shcall "$SIGNER_KEY" POST /api/v1/signature/sign-hash "{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":2}"
[ "$STATUS" = 200 ] && ok "the current version 2 signs" || fail "version 2 signs" "$STATUS $RESP"
sh_json '.data.key_version' 2 "data.key_version 2"
sig_of v2.sig
require "version 2 public key" fetch_pem "$D3_ID" 2 "$W/d3v2.pem"
mldsa_ok "version 2 signature under version 2's key" --mode hash --hash SHA-256 d3v2.pem artifact.sha256 v2.sig
mldsa_rejects "version 2 signature under version 1's key" --mode hash --hash SHA-256 d3.pem artifact.sha256 v2.sig

# Q2: a key that is not ONLINE does not sign.
api "$ADMIN_KEY" PATCH "/v1/keys/$D3_ID" '{"status":"OFFLINE"}'
assert_status 200 "take the key OFFLINE"
BEFORE=$(stored_count)
errcase 409 ERR_SIG_004 "Q2: an OFFLINE key" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":2}"
assert_eq "$(stored_count)" "$BEFORE" "the OFFLINE refusal stored nothing"
api "$ADMIN_KEY" PATCH "/v1/keys/$D3_ID" '{"status":"ONLINE"}'
assert_status 200 "the key ONLINE again"

# Q1: a second ML-DSA-65 key makes the choice ambiguous until the default policy names one.
new_key "$ADMIN_KEY" qpher-d3-second ML-DSA-65
SECOND_ID=$K_ID
errcase 400 ERR_INVALID_001 "Q1: two Dilithium3 keys and no default policy" /api/v1/signature/sign-hash \
	"{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":1}"
assert_contains "$(jq -r .error.message <<<"$RESP")" "default" "the message says a default policy would choose"
api "$ADMIN_KEY" POST /v1/policies "$(jq -cn --arg k "$SECOND_ID" '{project:"qpher",slug:"pq-signing",key:$k}')"
assert_status 201 "a policy on the second key"
api "$ADMIN_KEY" PATCH "/v1/principals/$SIGNER_ID" '{"default_policy":"qpher/pq-signing"}'
assert_status 200 "the signer's default policy"
shcall "$SIGNER_KEY" POST /api/v1/signature/sign-hash "{\"hash\":\"$HASH32\",\"hash_algorithm\":\"SHA-256\",\"key_version\":1}"
[ "$STATUS" = 200 ] && ok "Q1: the default policy's key signs" || fail "Q1 default policy" "$STATUS $RESP"
SIG_ID=$(jq -r .data.signature_id <<<"$RESP")
RQ_ID=$(jq -r .data.signing_request_id <<<"$RESP")
sig_of second.sig
require "second key public key" fetch_pem "$SECOND_ID" 1 "$W/second.pem"
mldsa_ok "Q1: signed by the default policy's key" --mode hash --hash SHA-256 second.pem artifact.sha256 second.sig
api "$ADMIN_KEY" GET "/v1/requests/$RQ_ID"
assert_json .policy qpher/pq-signing "Q1: the request went through the default policy"
assert_json .key_id "$SECOND_ID" "Q1: the request names the second key"
# Composite still resolves to the tenant's only composite key (the default policy's key is ML-DSA).
shcall "$SIGNER_KEY" POST /api/v1/signature/sign-hash "$(jq -cn --arg d "$(b64 d.SHA-512)" \
	'{hash:$d,hash_algorithm:"SHA-512",key_version:1,algorithm:"Composite-ML-DSA"}')"
[ "$STATUS" = 200 ] && ok "Q1: the only composite key signs despite the default policy" || fail "Q1 composite" "$STATUS $RESP"

api "$ADMIN_KEY" GET /v1/audit/verify
assert_json .valid true "the audit chain is intact at the end"

stop_server
e2e_finish
