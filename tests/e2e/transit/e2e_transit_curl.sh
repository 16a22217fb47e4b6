#!/usr/bin/env bash
#
# e2e_transit_curl.sh - the Vault Transit dialect (SPEC §4 item 5) driven
# by plain curl with Vault's documented requests (the Transit API page's
# payload.json bodies and LIST/GET/POST calls; only host, token and key
# name substituted).  Every signature is verified by the openssl CLI: RSA
# PSS (largest salt) and PKCS#1 v1.5 with each hash, ECDSA asn1 and jws
# (r||s turned into DER by openssl asn1parse), Ed25519 over the raw input.
# Also: batch order, rotation (old signatures still verify), each error
# status of the SPEC with Vault's {"errors":[...]} shape storing nothing,
# and that Transit signatures are native records in one audit chain.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2

if [ ! -x "${SIGNET_NODE:-}" ] || [ ! -f "${SIGNET_MLDSA_VERIFY:-}" ]; then
	echo "e2e_transit_curl: set SIGNET_MLDSA_VERIFY and SIGNET_NODE (see tests/tools)" >&2
	exit 1
fi

W=$E2E_TMP/work
mkdir -p "$W"
cd "$W" || exit 2

ADMIN_KEY="e2e-transit-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"

new_principal "$ADMIN_KEY" transit-signer '["signer"]'
SIGNER=$P_KEY
new_principal "$ADMIN_KEY" transit-auditor '["auditor"]'
AUDITOR=$P_KEY
new_key "$ADMIN_KEY" rsa-key RSA-2048
RSA_ID=$K_ID
new_key "$ADMIN_KEY" ec-key EC-P256
EC_ID=$K_ID
new_key "$ADMIN_KEY" ed-key Ed25519
ED_ID=$K_ID
new_key "$ADMIN_KEY" ec384-key EC-P384
new_key "$ADMIN_KEY" pq-key ML-DSA-65

# tv TOKEN METHOD PATH [CURL-ARGS...]: a Transit call; STATUS and RESP.
tv() {
	local tok=$1 method=$2 path=$3
	shift 3
	local hdr=()
	[ -n "$tok" ] && hdr=(--header "X-Vault-Token: $tok")
	STATUS=$(curl -s -o "$E2E_TMP/tv.body" -w '%{http_code}' --max-time 30 "${hdr[@]}" \
		--request "$method" "$@" "$BASE_URL$path")
	RESP=$(cat "$E2E_TMP/tv.body")
}

# vault_error STATUS DESCRIPTION: Vault's error shape with that status
vault_error() {
	if [ "$STATUS" = "$1" ] && jq -e '(keys == ["errors"]) and (.errors | length == 1) and
		(.errors[0] | type == "string" and length > 0)' <<<"$RESP" >/dev/null 2>&1; then
		ok "$2 -> $1 {errors:[...]}"
	else
		fail "$2" "expected HTTP $1 with {\"errors\":[msg]}, got $STATUS" "body: $RESP"
	fi
}

stored_count() {
	api "$ADMIN_KEY" GET "/v1/requests?limit=1000"
	local nreq
	nreq=$(jget '.requests | length')
	api "$ADMIN_KEY" GET "/v1/audit?limit=1000"
	echo "$nreq/$(jget '.entries // .audit // . | length')"
}

# sig_bytes SIGTEXT OUT [url]: "vault:vN:<b64>" -> raw bytes in OUT
sig_bytes() {
	local b=${1#vault:v*:}
	if [ "${3:-}" = url ]; then
		b=$(printf '%s' "$b" | tr -- '-_' '+/')
		while [ $((${#b} % 4)) != 0 ]; do b+="="; done
	fi
	printf '%s' "$b" | base64 -d >"$2"
}

# ---------------------------------------------------------------- LIST and read (Vault's examples)

tv "$SIGNER" LIST /v1/transit/keys
assert_status 200 "LIST /v1/transit/keys"
assert_json '.data.keys | sort | join(",")' "ec-key,ec384-key,ed-key,pq-key,rsa-key" "LIST names every key by alias"
tv "$SIGNER" GET "/v1/transit/keys?list=true"
assert_status 200 "GET /v1/transit/keys?list=true"
assert_json '.data.keys | sort | join(",")' "ec-key,ec384-key,ed-key,pq-key,rsa-key" "GET ?list=true names every key"

tv "$SIGNER" GET /v1/transit/keys/rsa-key
assert_status 200 "read rsa-key"
assert_json .data.name rsa-key "read: name"
assert_json .data.type rsa-2048 "read: Vault type rsa-2048"
assert_json .data.latest_version 1 "read: latest_version"
assert_json .data.min_available_version 0 "read: min_available_version"
assert_json .data.supports_signing true "read: supports_signing"
assert_json '.data.keys["1"].name' rsa-2048 "read: version name"
assert_match "$(jget '.data.keys["1"].creation_time')" '^20[0-9][0-9]-' "read: creation_time"
jget '.data.keys["1"].public_key' >rsa.pem
require "native PEM of rsa-key" fetch_pem "$RSA_ID" 1 rsa-native.pem
assert_eq "$(pem_fingerprint rsa.pem)" "$(pem_fingerprint rsa-native.pem)" "read: PEM public key = the native one"
tv "$SIGNER" GET /v1/transit/keys/ec-key
assert_json .data.type ecdsa-p256 "read: Vault type ecdsa-p256"
assert_json '.data.keys["1"].name' P-256 "read: ECDSA version name P-256"
jget '.data.keys["1"].public_key' >ec.pem
require "native PEM of ec-key" fetch_pem "$EC_ID" 1 ec-native.pem
assert_eq "$(pem_fingerprint ec.pem)" "$(pem_fingerprint ec-native.pem)" "read: ECDSA PEM = the native one"
tv "$SIGNER" GET /v1/transit/keys/ec384-key
assert_json .data.type ecdsa-p384 "read: Vault type ecdsa-p384"
tv "$SIGNER" GET /v1/transit/keys/ed-key
assert_json .data.type ed25519 "read: Vault type ed25519"
ED_RAW=$(jget '.data.keys["1"].public_key')
assert_eq "$(printf '%s' "$ED_RAW" | base64 -d | wc -c)" 32 "read: Ed25519 public key is raw base64 (32 bytes)"
{ printf '302a300506032b6570032100' | xxd -r -p; printf '%s' "$ED_RAW" | base64 -d; } >ed.der
openssl pkey -pubin -inform DER -in ed.der -out ed.pem
require "native PEM of ed-key" fetch_pem "$ED_ID" 1 ed-native.pem
assert_eq "$(pem_fingerprint ed.pem)" "$(pem_fingerprint ed-native.pem)" "read: the raw Ed25519 key = the native one"

# ---------------------------------------------------------------- sign and verify (Vault's documented payloads)

# The Transit page's sign example: payload.json {"input": "adba32=="} to sign/my-key/sha2-256.
cat >payload.json <<'JSON'
{
  "input": "adba32=="
}
JSON
tv "$SIGNER" POST /v1/transit/sign/ec-key/sha2-256 --data @payload.json
assert_status 200 "documented sign request (ECDSA, sha2-256 in the path)"
assert_match "$(jget .data.signature)" '^vault:v1:' "signature is vault:v1:..."
assert_json .data.key_version 1 "key_version 1"
DOC_SIG=$(jget .data.signature)
printf '%s' adba32== | base64 -d >doc.in 2>/dev/null
sig_bytes "$DOC_SIG" doc.sig
assert_ok "openssl verifies the documented ECDSA signature over SHA-256(input)" \
	openssl dgst -sha256 -verify ec.pem -signature doc.sig doc.in
# The verify example: {"input": ..., "signature": "vault:v1:..."}.
tv "$SIGNER" POST /v1/transit/verify/ec-key/sha2-256 --data "$(jq -cn --arg s "$DOC_SIG" '{input:"adba32==",signature:$s}')"
assert_status 200 "documented verify request"
assert_json .data.valid true "verify: valid"
tv "$SIGNER" POST /v1/transit/verify/ec-key/sha2-256 --data "$(jq -cn --arg s "$DOC_SIG" '{input:"AAAAAA==",signature:$s}')"
assert_json .data.valid false "verify: another input is not valid"

head -c 5000 /dev/urandom >msg.bin
MSG=$(b64 msg.bin)
declare -A VH=([sha2-256]=sha256 [sha2-384]=sha384 [sha2-512]=sha512 [sha3-256]=sha3-256 [sha3-384]=sha3-384 [sha3-512]=sha3-512)
for h in sha2-256 sha2-384 sha2-512 sha3-256 sha3-384 sha3-512; do
	# RSA-PSS by default, salt auto = the largest
	tv "$SIGNER" POST /v1/transit/sign/rsa-key --data "$(jq -cn --arg i "$MSG" --arg h "$h" '{input:$i,hash_algorithm:$h,name:"rsa-key"}')"
	[ "$STATUS" = 200 ] || fail "RSA pss $h" "$STATUS $RESP"
	PSS_SIG=$(jget .data.signature)
	sig_bytes "$PSS_SIG" rsa.sig
	hl=$(openssl dgst -"${VH[$h]}" -binary msg.bin | wc -c)
	assert_ok "RSA-PSS $h (default, largest salt $((256 - hl - 2))) verified by openssl" \
		openssl dgst -"${VH[$h]}" -verify rsa.pem -sigopt rsa_padding_mode:pss \
		-sigopt rsa_pss_saltlen:$((256 - hl - 2)) -signature rsa.sig msg.bin
	tv "$SIGNER" POST "/v1/transit/verify/rsa-key/$h" --data "$(jq -cn --arg i "$MSG" --arg s "$PSS_SIG" '{input:$i,signature:$s}')"
	assert_json .data.valid true "Transit verifies its RSA-PSS $h signature"
	tv "$SIGNER" POST "/v1/transit/sign/rsa-key/$h" --data "$(jq -cn --arg i "$MSG" '{input:$i,signature_algorithm:"pkcs1v15"}')"
	sig_bytes "$(jget .data.signature)" rsa1.sig
	assert_ok "RSA PKCS#1 v1.5 $h verified by openssl" \
		openssl dgst -"${VH[$h]}" -verify rsa.pem -signature rsa1.sig msg.bin
	tv "$SIGNER" POST "/v1/transit/sign/ec-key/$h" --data "$(jq -cn --arg i "$MSG" '{input:$i}')"
	sig_bytes "$(jget .data.signature)" ec.sig
	assert_ok "ECDSA asn1 $h verified by openssl" openssl dgst -"${VH[$h]}" -verify ec.pem -signature ec.sig msg.bin
done

tv "$SIGNER" POST /v1/transit/sign/rsa-key --data "$(jq -cn --arg i "$MSG" '{input:$i,salt_length:"hash"}')"
sig_bytes "$(jget .data.signature)" rsa.sig
assert_ok "RSA-PSS salt_length hash verified by openssl (salt 32)" openssl dgst -sha256 -verify rsa.pem \
	-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -signature rsa.sig msg.bin
tv "$SIGNER" POST /v1/transit/sign/rsa-key --data "$(jq -cn --arg i "$MSG" '{input:$i,salt_length:"20"}')"
sig_bytes "$(jget .data.signature)" rsa.sig
assert_ok "RSA-PSS salt_length 20 verified by openssl" openssl dgst -sha256 -verify rsa.pem \
	-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:20 -signature rsa.sig msg.bin

# prehashed
openssl dgst -sha384 -binary msg.bin >msg.sha384
tv "$SIGNER" POST /v1/transit/sign/ec-key/sha2-384 --data "$(jq -cn --arg i "$(b64 msg.sha384)" '{input:$i,prehashed:true}')"
assert_status 200 "prehashed sha2-384"
sig_bytes "$(jget .data.signature)" ec.sig
assert_ok "prehashed ECDSA verified by openssl over the original data" \
	openssl dgst -sha384 -verify ec.pem -signature ec.sig msg.bin

# jws: unpadded base64url of fixed-width r||s
tv "$SIGNER" POST /v1/transit/sign/ec-key --data "$(jq -cn --arg i "$MSG" '{input:$i,marshaling_algorithm:"jws"}')"
JWS=$(jget .data.signature)
assert_match "$JWS" '^vault:v1:[A-Za-z0-9_-]+$' "jws signature is unpadded base64url"
sig_bytes "$JWS" ec.p1363 url
assert_eq "$(wc -c <ec.p1363)" 64 "jws: r||s is 64 bytes for P-256"
p1363_to_der ec.p1363 ec.der
assert_ok "jws ECDSA (r||s -> DER) verified by openssl" openssl dgst -sha256 -verify ec.pem -signature ec.der msg.bin
tv "$SIGNER" POST /v1/transit/verify/ec-key --data "$(jq -cn --arg i "$MSG" --arg s "$JWS" '{input:$i,signature:$s,marshaling_algorithm:"jws"}')"
assert_json .data.valid true "Transit verifies its jws signature"

# Ed25519 signs the input itself, at any length (here 200 KiB, beyond the 64 KiB hashed limit)
head -c 204800 /dev/urandom >big.bin
jq -cn --rawfile i <(b64 big.bin) '{input:$i}' >big.json
tv "$SIGNER" POST /v1/transit/sign/ed-key --data @big.json
assert_status 200 "Ed25519 signs a 200 KiB input"
sig_bytes "$(jget .data.signature)" ed.sig
assert_ok "Ed25519 over the raw input verified by openssl" \
	openssl pkeyutl -verify -pubin -inkey ed.pem -rawin -in big.bin -sigfile ed.sig
ED_SIG=$(jget .data.signature)
jq -cn --rawfile i <(b64 big.bin) --arg s "$ED_SIG" '{input:$i,signature:$s}' >bigv.json
tv "$SIGNER" POST /v1/transit/verify/ed-key --data @bigv.json
assert_json .data.valid true "Transit verifies the Ed25519 signature"

# ML-DSA-65: type ml-dsa, parameter_set 65; pure ML-DSA over the input, HashML-DSA when prehashed
tv "$SIGNER" GET /v1/transit/keys/pq-key
assert_json .data.type ml-dsa "read: ML-DSA-65 is type ml-dsa"
assert_json .data.parameter_set 65 "read: parameter_set 65"
jget '.data.keys["1"].public_key' >pq.pem
tv "$SIGNER" POST /v1/transit/sign/pq-key --data "$(jq -cn --arg i "$MSG" '{input:$i}')"
assert_status 200 "ML-DSA signs the input"
sig_bytes "$(jget .data.signature)" pq.sig
if "$SIGNET_NODE" "$SIGNET_MLDSA_VERIFY" --mode pure pq.pem msg.bin pq.sig >/dev/null 2>&1; then
	ok "pure ML-DSA-65 over the input verified by mldsa-verify.mjs"
else
	fail "pure ML-DSA-65 over the input" "mldsa-verify.mjs refuses"
fi
openssl dgst -sha256 -binary msg.bin >msg.sha256
tv "$SIGNER" POST /v1/transit/sign/pq-key --data "$(jq -cn --arg i "$(b64 msg.sha256)" '{input:$i,prehashed:true}')"
assert_status 200 "ML-DSA signs a prehashed input"
sig_bytes "$(jget .data.signature)" pqh.sig
if "$SIGNET_NODE" "$SIGNET_MLDSA_VERIFY" --mode hash --hash SHA-256 pq.pem msg.sha256 pqh.sig >/dev/null 2>&1; then
	ok "HashML-DSA-65 SHA-256 verified by mldsa-verify.mjs"
else
	fail "HashML-DSA-65 SHA-256" "mldsa-verify.mjs refuses"
fi

# ---------------------------------------------------------------- batch

BEFORE_REQ=$(stored_count)
printf 'one' >b1; printf 'two' >b2; printf 'three' >b3
tv "$SIGNER" POST /v1/transit/sign/ec-key --data "$(jq -cn --arg a "$(b64 b1)" --arg b "$(b64 b2)" --arg c "$(b64 b3)" \
	'{batch_input:[{input:$a,reference:"r1"},{input:$b,reference:"r2"},{input:$c,reference:"r3"}]}')"
assert_status 200 "batch sign"
assert_json '.data.batch_results | length' 3 "batch: three results"
assert_json '[.data.batch_results[].reference] | join(",")' "r1,r2,r3" "batch: results keep input order"
for i in 1 2 3; do
	sig_bytes "$(jget ".data.batch_results[$((i - 1))].signature")" b$i.sig
	assert_ok "batch item $i verified by openssl over its own input" \
		openssl dgst -sha256 -verify ec.pem -signature b$i.sig b$i
done
AFTER_REQ=$(stored_count)
assert_eq "$((${AFTER_REQ%/*} - ${BEFORE_REQ%/*}))" 3 "batch: one request per item"
assert_eq "$((${AFTER_REQ#*/} - ${BEFORE_REQ#*/}))" 3 "batch: one audit entry per item"
tv "$SIGNER" POST /v1/transit/verify/ec-key --data "$(jq -cn --arg a "$(b64 b1)" --arg b "$(b64 b2)" \
	--arg s1 "$(jget '.data.batch_results[0].signature')" \
	'{batch_input:[{input:$a,signature:$s1},{input:$b,signature:$s1}]}')"
assert_json '[.data.batch_results[].valid] | map(tostring) | join(",")' "true,false" "batch verify in order"

# ---------------------------------------------------------------- native records, audit chain

printf 'native record check' >n.bin
tv "$SIGNER" POST /v1/transit/sign/rsa-key --data "$(jq -cn --arg i "$(b64 n.bin)" '{input:$i}')"
NSIG=$(jget .data.signature)
api "$ADMIN_KEY" GET "/v1/requests?limit=1000"
ND=$(openssl dgst -sha256 -binary n.bin | b64)
RQ_ID=$(jq -r --arg d "$ND" '[.requests[] | select(.digest == $d)][0].id' <<<"$RESP")
api "$ADMIN_KEY" GET "/v1/requests/$RQ_ID"
assert_status 200 "the Transit signature's request is a native request"
assert_json .status SIGNED "native request SIGNED"
SIG_ID=$(jget '.signature_id // .signature.id')
api "$ADMIN_KEY" GET "/v1/signatures/$SIG_ID"
assert_status 200 "the Transit signature is a native record"
assert_json .signature "${NSIG#vault:v1:}" "native record holds the same signature bytes"
assert_json .signature_algorithm RSA-PSS "native record: RSA-PSS"
api "$ADMIN_KEY" GET "/v1/audit?limit=1000"
assert_contains "$RESP" "$RQ_ID" "the audit log names the Transit request"

# ---------------------------------------------------------------- rotation

OLD_SIG=$NSIG
api "$ADMIN_KEY" POST "/v1/keys/$RSA_ID/rotate"
assert_status 200 "rotate rsa-key"
tv "$SIGNER" GET /v1/transit/keys/rsa-key
assert_json .data.latest_version 2 "read after rotation: latest_version 2"
assert_json .data.min_encryption_version 2 "read after rotation: min_encryption_version 2 (older versions only verify)"
assert_json '.data.keys | keys | join(",")' "1,2" "read after rotation: every version in keys"
jget '.data.keys["2"].public_key' >rsa2.pem
tv "$SIGNER" POST /v1/transit/sign/rsa-key --data "$(jq -cn --arg i "$(b64 n.bin)" '{input:$i}')"
assert_match "$(jget .data.signature)" '^vault:v2:' "new signatures use v2"
assert_json .data.key_version 2 "key_version 2"
sig_bytes "$(jget .data.signature)" rsa2.sig
assert_ok "v2 signature verified by openssl with version 2's key" openssl dgst -sha256 -verify rsa2.pem \
	-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:222 -signature rsa2.sig n.bin
tv "$SIGNER" POST /v1/transit/verify/rsa-key --data "$(jq -cn --arg i "$(b64 n.bin)" --arg s "$OLD_SIG" '{input:$i,signature:$s}')"
assert_json .data.valid true "the v1 signature still verifies after rotation"
tv "$SIGNER" POST /v1/transit/sign/rsa-key --data "$(jq -cn --arg i "$(b64 n.bin)" '{input:$i,key_version:1}')"
vault_error 400 "key_version 1 after rotation: older versions only verify (min_encryption_version = latest)"

# ---------------------------------------------------------------- errors (nothing stored)

BEFORE=$(stored_count)
BODY=$(jq -cn --arg i "$MSG" '{input:$i}')
tv "" POST /v1/transit/sign/ec-key --data "$BODY"
vault_error 403 "no token"
assert_json '.errors[0]' "permission denied" "no token: permission denied"
tv "not-a-key" POST /v1/transit/sign/ec-key --data "$BODY"
vault_error 403 "bad token"
tv "$AUDITOR" POST /v1/transit/sign/ec-key --data "$BODY"
vault_error 403 "a principal without signer"
assert_json '.errors[0]' "permission denied" "no signer role: permission denied"
tv "" GET /v1/transit/keys/ec-key
vault_error 403 "read without a token"
tv "$SIGNER" GET /v1/transit/keys/no-such-key
vault_error 404 "read an unknown key"
tv "$SIGNER" POST /v1/transit/sign/ec-key/sha2-224 --data "$BODY"
vault_error 400 "sha2-224 (a hash Signet does not offer)"
tv "$SIGNER" POST /v1/transit/sign/ec-key --data "$(jq -cn --arg i "$MSG" '{input:$i,hash_algorithm:"sha1"}')"
vault_error 400 "hash_algorithm sha1"
tv "$SIGNER" POST /v1/transit/sign/ec-key --data "$(jq -cn --arg i "$(b64 msg.sha384)" '{input:$i,prehashed:true}')"
vault_error 400 "prehashed input of the wrong length"
tv "$SIGNER" POST /v1/transit/sign/rsa-key --data "$(jq -cn --arg i "$MSG" '{input:$i,salt_length:"223"}')"
vault_error 400 "salt_length over the maximum"
tv "$SIGNER" POST /v1/transit/sign/rsa-key --data "$(jq -cn --arg i "$MSG" '{input:$i,signature_algorithm:"ps256"}')"
vault_error 400 "unknown signature_algorithm"
tv "$SIGNER" POST /v1/transit/sign/ec-key --data "$(jq -cn --arg i "$MSG" '{input:$i,marshaling_algorithm:"der"}')"
vault_error 400 "unknown marshaling_algorithm"
tv "$SIGNER" POST /v1/transit/sign/ec-key --data "$(jq -cn --arg i "$MSG" '{input:$i,key_version:9}')"
vault_error 400 "a key version that does not exist"
tv "$SIGNER" POST /v1/transit/sign/ec-key --data '{"name":"ec-key"}'
vault_error 400 "missing input"
tv "$SIGNER" POST /v1/transit/sign/ec-key --data '{"input":"%%%"}'
vault_error 400 "input that is not base64"
tv "$SIGNER" POST /v1/transit/sign/ec-key --data @big.json
if [ "$STATUS" = 400 ] || [ "$STATUS" = 413 ]; then vault_error "$STATUS" "hashed input over 64 KiB"; else fail "input over 64 KiB" "$STATUS $RESP"; fi
tv "$SIGNER" POST /v1/transit/sign/no-such-key --data "$BODY"
vault_error 404 "sign with an unknown key"
tv "$SIGNER" POST /v1/transit/verify/ec-key --data "$(jq -cn --arg i "$MSG" '{input:$i,signature:"v1:abc"}')"
vault_error 400 "verify with a malformed signature"
assert_eq "$(stored_count)" "$BEFORE" "no refused request stored anything (requests/audit entries)"
api "$ADMIN_KEY" PATCH "/v1/keys/$EC_ID" '{"status":"OFFLINE"}'
assert_status 200 "take ec-key OFFLINE"
BEFORE=$(stored_count)
tv "$SIGNER" POST /v1/transit/sign/ec-key --data "$BODY"
vault_error 400 "sign with an OFFLINE key"
assert_eq "$(stored_count)" "$BEFORE" "the OFFLINE refusal stored nothing"

api "$ADMIN_KEY" GET /v1/audit/verify
assert_status 200 "audit verify"
assert_json .valid true "one intact audit chain"
stop_server

# ---------------------------------------------------------------- another mount (transit_mount)

require "signetd restarts with SIGNET_TRANSIT_MOUNT=vault-signing" start_server "$E2E_TMP/data" \
	SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_TRANSIT_MOUNT=vault-signing
tv "$SIGNER" LIST /v1/vault-signing/keys
assert_status 200 "LIST on the configured mount"
assert_json '.data.keys | sort | join(",")' "ec-key,ec384-key,ed-key,pq-key,rsa-key" "the configured mount lists the keys"
tv "$SIGNER" POST /v1/vault-signing/sign/rsa-key --data "$(jq -cn --arg i "$(b64 n.bin)" '{input:$i}')"
assert_match "$(jget .data.signature)" '^vault:v2:' "sign on the configured mount"
tv "$SIGNER" LIST /v1/transit/keys
assert_status 404 "the default mount is gone when another is configured"
tv "$SIGNER" POST /v1/vault-signing/encrypt/rsa-key --data '{"plaintext":"AA=="}'
vault_error 404 "an endpoint Transit does not offer (encrypt)"
tv "$SIGNER" DELETE /v1/vault-signing/keys/rsa-key
vault_error 405 "a method the route does not take"
stop_server

# ---------------------------------------------------------------- rate limit (429 in Vault's shape)

require "signetd restarts with a principal rate of 1/s, burst 1" start_server "$E2E_TMP/data" \
	SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_RATE_LIMIT_PRINCIPAL=1 SIGNET_RATE_LIMIT_PRINCIPAL_BURST=1
GOT429=""
for _ in 1 2 3 4 5; do
	tv "$SIGNER" GET /v1/transit/keys/rsa-key
	if [ "$STATUS" = 429 ]; then GOT429=1; break; fi
done
if [ -n "$GOT429" ]; then vault_error 429 "over the principal's rate"; else fail "rate limit" "no 429 in 5 calls" "$STATUS $RESP"; fi
stop_server
e2e_finish
