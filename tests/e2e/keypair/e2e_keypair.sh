#!/usr/bin/env bash
#
# e2e_keypair.sh - the key-pair API (SPEC §4 item 4, D1-D7;
# reference/digicert-stm-keypair-sign-hash.txt) over real TLS with client
# certificates made here by openssl, as the document's examples
# authenticate (--cert client.crt --key client.key).  The document's curl
# examples run with only the host, the certificate files, the placeholders
# (KEY_ALG, KEYPAIR_ID, ...) and ids substituted; every signature is
# checked by `openssl pkeyutl`; every documented error code is provoked in
# the {"errors":[{code,message}]} shape and stores nothing.  Signatures are
# native records in the tenant's audit chain.  Not covered here: key_storage
# HSM (SoftHSM2), which goes through the same sg_svc_key_create as native
# keys (see tests/e2e/custody).

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2

PKI=$E2E_TMP/pki
W=$E2E_TMP/work
mkdir -p "$PKI" "$W"
cd "$W" || exit 2

ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$PKI/$1.key" -out "$PKI/$1.pem" -subj "/CN=signet keypair $1" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "/CN=signet keypair $1" 2>/dev/null &&
		printf '%s\n' "$3" >"$PKI/$1.ext" &&
		openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$2.pem" -CAkey "$PKI/$2.key" -CAcreateserial \
			-days 2 -out "$PKI/$1.pem" -extfile "$PKI/$1.ext" 2>/dev/null
}
CLIENT_EXT=$'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth'
require "server CA" ca server-ca
require "server certificate" leaf server server-ca \
	$'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1'
require "client CA" ca client-ca
for c in admin signer builder auditor stranger; do
	require "client certificate $c" leaf "$c" client-ca "$CLIENT_EXT"
done
require "rogue CA" ca rogue-ca
require "rogue client certificate" leaf rogue rogue-ca "$CLIENT_EXT"

ADMIN_KEY="e2e-kp-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
SERVER_SCHEME=https
CURL_TLS=(--cacert "$PKI/server-ca.pem")
require "signetd starts with TLS and a client CA" start_server "$E2E_TMP/data" \
	SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_TLS_CERT="$PKI/server.pem" SIGNET_TLS_KEY="$PKI/server.key" \
	SIGNET_TLS_CLIENT_CA="$PKI/client-ca.pem"

# Principals with registered certificates (D2: SSM_SIGNER and SSM_BUILD_ENGINEER are signer).
register() {  # NAME ROLES-JSON -> P_ID, P_KEY
	new_principal "$ADMIN_KEY" "kp-$1" "$2"
	api "$ADMIN_KEY" POST "/v1/principals/$P_ID/client-certs" \
		"$(jq -cn --rawfile pem "$PKI/$1.pem" '{certificate_pem:$pem}')"
	require "register the $1 certificate" [ "$STATUS" = 201 ]
}
register admin '["admin"]'
register signer '["SSM_SIGNER"]'
SIGNER_ID=$P_ID
SIGNER_KEY=$P_KEY
register builder '["SSM_BUILD_ENGINEER"]'
register auditor '["auditor"]'
AUDITOR_ID=$P_ID

# kp CERT METHOD PATH [BODY] [EXTRA CURL ARGS...]: a call with a client certificate (or none).
kp() {
	local cert=$1 method=$2 path=$3 body=${4:-}
	shift 3
	[ $# -gt 0 ] && shift
	local args=(-s -o "$W/b" -D "$W/h" -w '%{http_code}' -X "$method" --max-time 120 "${CURL_TLS[@]}")
	[ -n "$cert" ] && args+=(--cert "$PKI/$cert.pem" --key "$PKI/$cert.key")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	STATUS=$(curl "${args[@]}" "$@" "$BASE_URL$path")
	RESP=$(cat "$W/b" 2>/dev/null)
}
# kp_error STATUS CODE DESCRIPTION: the {"errors":[{code,message}]} shape with this code
kp_error() {
	local code shape
	code=$(jq -r '.errors[0].code' <<<"$RESP" 2>/dev/null)
	shape=$(jq -r 'if (keys == ["errors"]) and (.errors | length == 1) and (.errors[0] | keys == ["code","message"])
		and (.errors[0].message | length > 0) then "good" else "bad" end' <<<"$RESP" 2>/dev/null)
	if [ "$STATUS" = "$1" ] && [ "$code" = "$2" ] && [ "$shape" = good ]; then
		ok "$3 -> $1 $2 in the errors shape"
	else
		fail "$3" "expected HTTP $1 $2 in {errors:[{code,message}]}, got $STATUS" "$RESP"
	fi
}
kp_json() {
	local got
	got=$(jq -r "$1" <<<"$RESP" 2>/dev/null)
	if [ "$got" = "$2" ]; then ok "$3"; else fail "$3" "$1: expected '$2', got '$got'" "$RESP"; fi
}
stored() {
	api "$ADMIN_KEY" GET "/v1/requests?limit=1000"
	local n=$(jget '.requests | length')
	api "$ADMIN_KEY" GET /v1/keys
	echo "$n/$(jget '.keys | length')"
}

# The document's commands, host and certificate files substituted (the client.crt/.key
# of the document is the registered certificate of the principal running it).
doc_run() {  # CERT FILE [SED-EXPRESSIONS...]
	local cert=$1 file=$2
	shift 2
	local sedargs=(-e "s|https://clientauth.demo.one.digicert.com|$BASE_URL|g"
		-e "s|--cert client.crt|--cacert $PKI/server-ca.pem -s -o $W/b -w '%{http_code}' --cert $PKI/$cert.pem|"
		-e "s|--key client.key|--key $PKI/$cert.key|" -e "s/ | jq '.'//")
	local e
	for e in "$@"; do sedargs+=(-e "$e"); done
	sed "${sedargs[@]}" "$file" >"$file.sh"
	STATUS=$(bash "$file.sh")
	RESP=$(cat "$W/b")
}

# ---------------------------------------------------------------- Step 1: create a keypair

cat >step1.txt <<'EOF'
curl -X POST "https://clientauth.demo.one.digicert.com/signingmanager/api/v1/keypairs" \
--cert client.crt \
--key client.key \
-H "Content-Type: application/json" \
-d '{
"alias": "my_new_keypair",
"key_alg": "KEY_ALG",
"key_storage": "KEY_STORAGE",
"key_type": "KEY_TYPE",
"properties": {
"key_size": 0,
"curve": "curve_value"
},
"status": "STATUS"
}' | jq '.'
EOF
BEFORE=$(stored)
doc_run admin step1.txt 's/KEY_ALG/RSA/' 's/KEY_STORAGE/DISK/' 's/KEY_TYPE/TEST/' 's/"STATUS"/"ONLINE"/'
kp_error 400 INVALID_PROPERTIES "the document's template as written (key_size 0)"
doc_run admin step1.txt 's/KEY_ALG/DSA/' 's/KEY_STORAGE/DISK/' 's/KEY_TYPE/TEST/' 's/"STATUS"/"ONLINE"/'
kp_error 400 INVALID_KEY_ALG "key_alg DSA"
doc_run admin step1.txt 's/KEY_ALG/ECDSA/' 's/KEY_STORAGE/DISK/' 's/KEY_TYPE/TEST/' 's/"STATUS"/"ONLINE"/'
kp_error 400 INVALID_PROPERTIES "ECDSA with curve_value"
kp admin POST /signingmanager/api/v1/keypairs '{"alias":"kp-noprops","key_alg":"RSA","key_storage":"DISK","key_type":"TEST","status":"ONLINE"}'
kp_error 400 INVALID_PROPERTIES "RSA without properties"
kp admin POST /signingmanager/api/v1/keypairs '{"alias":"kp-ed448","key_alg":"EdDSA","properties":{"curve":"Ed448"}}'
kp_error 400 INVALID_PROPERTIES "EdDSA with Ed448"
kp signer POST /signingmanager/api/v1/keypairs '{"alias":"kp-signer-made","key_alg":"RSA","properties":{"key_size":2048}}'
[ "${STATUS:0:1}" = 4 ] && [ "$STATUS" != 201 ] && ok "D2: a signer cannot create a keypair ($STATUS)" ||
	fail "D2: a signer cannot create a keypair" "$STATUS $RESP"
kp rogue POST /signingmanager/api/v1/keypairs '{"alias":"kp-rogue","key_alg":"RSA","properties":{"key_size":2048}}'
if [ "$STATUS" = 000 ]; then ok "D7: a rogue-CA certificate is refused in the handshake"; else kp_error 401 UNAUTHENTICATED "D7: a rogue-CA certificate"; fi
kp stranger POST /signingmanager/api/v1/keypairs '{"alias":"kp-stranger","key_alg":"RSA","properties":{"key_size":2048}}'
kp_error 401 UNAUTHENTICATED "D7: a trusted but unregistered certificate"
assert_eq "$(stored)" "$BEFORE" "no refused create stored a key"

# The document's example with real values, one keypair of each family.
declare -A KP
create() {  # NAME KEY_ALG PROPERTIES-JSON
	sed -e "s/\"my_new_keypair\"/\"$1\"/" -e "s/KEY_ALG/$2/" -e 's/KEY_STORAGE/DISK/' -e 's/KEY_TYPE/PRODUCTION/' \
		-e 's/"STATUS"/"ONLINE"/' step1.txt | awk -v p="$3" '
		/"properties": \{/ { print "\"properties\": " p ","; skip = 1; next }
		skip && /^\},?$/ { skip = 0; next }
		skip { next }
		{ print }' >"create-$1.txt"
	doc_run admin "create-$1.txt"
}
create kp_rsa RSA '{"key_size": 2048}'
[ "$STATUS" = 201 ] && ok "Step 1: create an RSA keypair -> 201" || fail "Step 1 RSA" "$STATUS $RESP"
KP[rsa]=$(jq -r .id <<<"$RESP")
kp_json .key_alg RSA "RSA keypair: key_alg"
kp_json .properties.key_size 2048 "RSA keypair: properties.key_size"
kp_json .status ONLINE "RSA keypair: status"
create kp_ec ECDSA '{"curve": "P-384"}'
[ "$STATUS" = 201 ] && ok "create an ECDSA P-384 keypair -> 201" || fail "create ECDSA" "$STATUS $RESP"
KP[ec]=$(jq -r .id <<<"$RESP")
kp_json .properties.curve P-384 "ECDSA keypair: properties.curve"
create kp_ed EdDSA '{"curve": "Ed25519"}'
[ "$STATUS" = 201 ] && ok "create an EdDSA keypair -> 201" || fail "create EdDSA" "$STATUS $RESP"
KP[ed]=$(jq -r .id <<<"$RESP")
kp admin POST /signingmanager/api/v1/keypairs '{"alias":"kp_off","key_alg":"ECDSA","key_storage":"DISK","key_type":"TEST","properties":{"curve":"P-256"},"status":"OFFLINE"}'
[ "$STATUS" = 201 ] && ok "create an OFFLINE keypair" || fail "create OFFLINE" "$STATUS $RESP"
KP[off]=$(jq -r .id <<<"$RESP")
kp "" POST /signingmanager/api/v1/keypairs '{"alias":"kp_apikey","key_alg":"ECDSA","properties":{"curve":"P-521"}}' \
	-H "x-api-key: $ADMIN_KEY"
[ "$STATUS" = 201 ] && ok "D7: x-api-key alone creates a keypair" || fail "x-api-key create" "$STATUS $RESP"

# D1: the keypair id is the native key id; storage, type and status map one to one.
api "$ADMIN_KEY" GET "/v1/keys/${KP[rsa]}"
assert_status 200 "D1: the RSA keypair is native key ${KP[rsa]}"
assert_json .algorithm RSA-2048 "native algorithm RSA-2048"
assert_json .storage DISK "native storage"
assert_json .type PRODUCTION "native type"
api "$ADMIN_KEY" GET "/v1/keys/${KP[off]}"
assert_json .status OFFLINE "native status OFFLINE"
assert_json .type TEST "native type TEST"
kp signer GET /signingmanager/api/v1/keypairs
kp_json '[.keypairs[].alias] | sort | join(",")' "kp_apikey,kp_ec,kp_ed,kp_off,kp_rsa" "GET keypairs lists them"
kp signer GET "/signingmanager/api/v1/keypairs/${KP[ec]}"
kp_json .alias kp_ec "GET keypairs/{id}"

for k in rsa ec ed off; do
	require "public key of $k" fetch_pem "${KP[$k]}" 1 "$W/$k.pem"
done

# ---------------------------------------------------------------- Step 2: sign a file hash

cat >step2.txt <<'EOF'
curl -X POST "https://clientauth.demo.one.digicert.com/signingmanager/api/v1/keypairs/KEYPAIR_ID/sign" \
--cert client.crt \
--key client.key \
-H "Content-Type: application/json" \
-d '{
"hash": "eeUnw3ky7+hI7Kawc9NnZ4CCCenu8rDDfV+YTwNutt+JHXX3LZsVRRjBzViDUobR",
"sig_alg": "SHA3-512WithRSA/PSS"
}' | jq '.'
EOF
BEFORE=$(stored)
doc_run signer step2.txt "s/KEYPAIR_ID/${KP[rsa]}/"
[ "$STATUS" = 400 ] && ok "D3: the document's example (48 bytes, SHA3-512WithRSA/PSS) -> 400" ||
	fail "D3: the document's example" "$STATUS $RESP"
jq -e '.errors[0].code and .errors[0].message' <<<"$RESP" >/dev/null && ok "... in the errors shape" ||
	fail "... in the errors shape" "$RESP"
assert_eq "$(stored)" "$BEFORE" "the refused example stored nothing"

head -c 100000 /dev/urandom >myfile.exe
declare -A HASH_OF=([SHA256]=sha256 [SHA384]=sha384 [SHA512]=sha512 [SHA3-256]=sha3-256 [SHA3-384]=sha3-384 [SHA3-512]=sha3-512)
declare -A LEN_OF=([SHA256]=32 [SHA384]=48 [SHA512]=64 [SHA3-256]=32 [SHA3-384]=48 [SHA3-512]=64)
# sign_with CERT KP SIG_ALG HASHNAME : the document's Step 2 with this hash and sig_alg
sign_with() {
	local h
	h=$(openssl dgst "-${HASH_OF[$4]}" -binary myfile.exe | openssl base64 -A)
	doc_run "$1" step2.txt "s/KEYPAIR_ID/${KP[$2]}/" \
		"s|eeUnw3ky7+hI7Kawc9NnZ4CCCenu8rDDfV+YTwNutt+JHXX3LZsVRRjBzViDUobR|$h|" "s|SHA3-512WithRSA/PSS|$3|"
	openssl dgst "-${HASH_OF[$4]}" -binary myfile.exe >"digest.$4"
	jq -r .signature <<<"$RESP" | base64 -d >sig.bin 2>/dev/null
	SIG_ID=$(jq -r .id <<<"$RESP")
}
n=0
for sa in SHA256WithRSA SHA384WithRSA SHA512WithRSA; do
	h=${sa%WithRSA}
	sign_with signer rsa "$sa" "$h"
	[ "$STATUS" = 200 ] && ok "sign $sa -> 200" || fail "sign $sa" "$STATUS $RESP"
	assert_ok "$sa: PKCS#1 v1.5 verifies (openssl pkeyutl)" openssl pkeyutl -verify -pubin -inkey rsa.pem \
		-in "digest.$h" -sigfile sig.bin -pkeyopt "digest:${HASH_OF[$h]}"
	n=$((n + 1))
done
for h in SHA256 SHA384 SHA512 SHA3-256 SHA3-384 SHA3-512; do
	sa="${h}WithRSA/PSS"
	sign_with builder rsa "$sa" "$h"
	[ "$STATUS" = 200 ] && ok "sign $sa (SSM_BUILD_ENGINEER) -> 200" || fail "sign $sa" "$STATUS $RESP"
	assert_ok "$sa: PSS, MGF1 with the same hash, salt = hash length (openssl pkeyutl)" openssl pkeyutl -verify \
		-pubin -inkey rsa.pem -in "digest.$h" -sigfile sig.bin -pkeyopt rsa_padding_mode:pss \
		-pkeyopt "digest:${HASH_OF[$h]}" -pkeyopt "rsa_mgf1_md:${HASH_OF[$h]}" -pkeyopt "rsa_pss_saltlen:${LEN_OF[$h]}"
done
for h in SHA256 SHA384 SHA512; do
	sa="${h}WithECDSA"
	sign_with signer ec "$sa" "$h"
	[ "$STATUS" = 200 ] && ok "sign $sa -> 200" || fail "sign $sa" "$STATUS $RESP"
	assert_ok "$sa: DER ECDSA verifies (openssl pkeyutl)" openssl pkeyutl -verify -pubin -inkey ec.pem \
		-in "digest.$h" -sigfile sig.bin
	assert_ok "$sa: the signature is DER (openssl asn1parse)" openssl asn1parse -inform DER -in sig.bin
done
for h in SHA256 SHA384 SHA512; do
	sign_with signer ed ED25519 "$h"
	[ "$STATUS" = 200 ] && ok "sign ED25519 over a ${LEN_OF[$h]}-byte hash -> 200" || fail "sign ED25519 $h" "$STATUS $RESP"
	assert_ok "ED25519 ($h): Ed25519 over the hash bytes (openssl pkeyutl -rawin)" openssl pkeyutl -verify \
		-pubin -inkey ed.pem -rawin -in "digest.$h" -sigfile sig.bin
done

# D4/D5: the last RSA-PSS signature's record, through the document's Step 3.
sign_with signer rsa SHA256WithRSA SHA256
SENT_HASH=$(openssl dgst -sha256 -binary myfile.exe | openssl base64 -A)
SIG_VALUE=$(jq -r .signature <<<"$RESP")
kp_json 'keys | sort | join(",")' "id,keypair_id,sig_alg,signature" "D4: sign answers {id, signature, ...}"
cat >step3.txt <<'EOF'
curl -X GET "https://clientauth.demo.one.digicert.com/signingmanager/api/v1/signatures/SIGNATURE_ID" \
--cert client.crt \
--key client.key | jq '.'
EOF
doc_run signer step3.txt "s/SIGNATURE_ID/$SIG_ID/"
[ "$STATUS" = 200 ] && ok "Step 3: GET signatures/{id} -> 200" || fail "Step 3" "$STATUS $RESP"
SAVED=$RESP
api "$ADMIN_KEY" GET "/v1/signatures/$SIG_ID"
TENANT_ID=$(jget .tenant)
RESP=$SAVED
kp_json .id "$SIG_ID" "D5: id"
kp_json .keypair_id "${KP[rsa]}" "D5: keypair_id"
kp_json .key_pair kp_rsa "D5: key_pair (alias)"
kp_json .signature "$SIG_VALUE" "D5: signature"
kp_json .sig_alg SHA256WithRSA "D5: sig_alg"
kp_json .hash "$SENT_HASH" "D5: hash as sent"
kp_json .signing_status SUCCESS "D5: signing_status SUCCESS"
kp_json '.account | length' 1 "D5: account has one entry"
kp_json '.account[0]' "$TENANT_ID" "D5: account = [tenant id]"
kp_json '.created_on | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' true "D5: created_on ISO 8601 UTC"
kp_json .created_by "$SIGNER_ID" "D5: created_by = principal id"
kp_json .created_by_user kp-signer "D5: created_by_user = principal name"
kp_json .client_ip 127.0.0.1 "D5: client_ip"
kp_json '.client_type | startswith("curl/")' true "D5: client_type = the User-Agent"
for f in modified_on modified_by modified_by_user certificate_id signature_type; do
	kp_json "has(\"$f\")" true "D5: $f present"
done
api "$ADMIN_KEY" GET "/v1/signatures/$SIG_ID"
assert_status 200 "the keypair signature is a native record"
assert_json .signature_algorithm RSA-PKCS1 "native record: RSA-PKCS1"
assert_json .hash_algorithm SHA-256 "native record: SHA-256"
assert_json .signature "$SIG_VALUE" "native record: the same signature"
api "$ADMIN_KEY" GET "/v1/requests/$(jget .request_id)"
assert_json .status SIGNED "native request SIGNED"
api "$ADMIN_KEY" GET /v1/audit/verify
assert_json .valid true "one intact audit chain"

# D7: x-api-key alone and with the certificate.
kp "" POST "/signingmanager/api/v1/keypairs/${KP[ec]}/sign" \
	"{\"hash\":\"$SENT_HASH\",\"sig_alg\":\"SHA256WithECDSA\"}" -H "x-api-key: $SIGNER_KEY"
[ "$STATUS" = 200 ] && ok "D7: x-api-key alone signs" || fail "x-api-key alone" "$STATUS $RESP"
kp signer POST "/signingmanager/api/v1/keypairs/${KP[ec]}/sign" \
	"{\"hash\":\"$SENT_HASH\",\"sig_alg\":\"SHA256WithECDSA\"}" -H "x-api-key: $SIGNER_KEY"
[ "$STATUS" = 200 ] && ok "D7: x-api-key with the certificate signs" || fail "x-api-key + cert" "$STATUS $RESP"

# ---------------------------------------------------------------- errors (D3, D6, D7)

BEFORE=$(stored)
SB="{\"hash\":\"$SENT_HASH\",\"sig_alg\":\"SHA256WithRSA\"}"
kp signer POST "/signingmanager/api/v1/keypairs/${KP[ec]}/sign" "$SB"
kp_error 400 INVALID_SIG_ALG "SHA256WithRSA on an ECDSA keypair"
kp signer POST "/signingmanager/api/v1/keypairs/${KP[rsa]}/sign" "{\"hash\":\"$SENT_HASH\",\"sig_alg\":\"SHA256WithECDSA\"}"
kp_error 400 INVALID_SIG_ALG "SHA256WithECDSA on an RSA keypair"
kp signer POST "/signingmanager/api/v1/keypairs/${KP[rsa]}/sign" "{\"hash\":\"$SENT_HASH\",\"sig_alg\":\"MD5WithRSA\"}"
kp_error 400 INVALID_SIG_ALG "an unknown sig_alg"
kp signer POST "/signingmanager/api/v1/keypairs/${KP[ed]}/sign" "{\"hash\":\"$SENT_HASH\",\"sig_alg\":\"SHA256WithRSA/PSS\"}"
kp_error 400 INVALID_SIG_ALG "PSS on an EdDSA keypair"
kp signer POST "/signingmanager/api/v1/keypairs/${KP[rsa]}/sign" "{\"hash\":\"$SENT_HASH\",\"sig_alg\":\"SHA512WithRSA\"}"
[ "$STATUS" = 400 ] && ok "D3: a 32-byte hash with SHA512WithRSA -> 400" || fail "D3 length" "$STATUS $RESP"
kp signer POST "/signingmanager/api/v1/keypairs/${KP[rsa]}/sign" '{"sig_alg":"SHA256WithRSA"}'
[ "$STATUS" = 400 ] && ok "a missing hash -> 400" || fail "missing hash" "$STATUS $RESP"
kp signer POST "/signingmanager/api/v1/keypairs/00000000-0000-0000-0000-000000000000/sign" "$SB"
kp_error 404 KEYPAIR_NOT_FOUND "D6: an unknown keypair id"
kp auditor POST "/signingmanager/api/v1/keypairs/${KP[rsa]}/sign" "$SB"
kp_error 404 KEYPAIR_NOT_FOUND "D6: a caller without a signing role"
kp signer POST "/signingmanager/api/v1/keypairs/${KP[off]}/sign" "{\"hash\":\"$SENT_HASH\",\"sig_alg\":\"SHA256WithECDSA\"}"
[ "$STATUS" = 409 ] && ok "an OFFLINE keypair does not sign (409)" || fail "OFFLINE keypair" "$STATUS $RESP"
kp stranger POST "/signingmanager/api/v1/keypairs/${KP[rsa]}/sign" "$SB"
kp_error 401 UNAUTHENTICATED "D7: an unregistered certificate does not sign"
kp rogue POST "/signingmanager/api/v1/keypairs/${KP[rsa]}/sign" "$SB"
if [ "$STATUS" = 000 ]; then ok "D7: a rogue-CA certificate cannot sign (handshake)"; else kp_error 401 UNAUTHENTICATED "D7: rogue-CA sign"; fi
kp "" POST "/signingmanager/api/v1/keypairs/${KP[rsa]}/sign" "$SB"
kp_error 401 UNAUTHENTICATED "no credentials"
kp signer GET /signingmanager/api/v1/signatures/00000000-0000-0000-0000-000000000000
[ "$STATUS" = 404 ] && ok "an unknown signature -> 404" || fail "unknown signature" "$STATUS $RESP"
assert_eq "$(stored)" "$BEFORE" "no refused sign stored a request"

# D6: another tenant's keypair reads as missing.
api "$ADMIN_KEY" POST /v1/tenants '{"name":"kp-other"}'
OTHER_TENANT=$(jget .id)
new_principal "$ADMIN_KEY" kp-other-signer '["signer"]' "$OTHER_TENANT"
kp "" POST "/signingmanager/api/v1/keypairs/${KP[rsa]}/sign" "$SB" -H "x-api-key: $P_KEY"
kp_error 404 KEYPAIR_NOT_FOUND "D6: another tenant's keypair"
kp "" GET "/signingmanager/api/v1/signatures/$SIG_ID" "" -H "x-api-key: $P_KEY"
[ "$STATUS" = 404 ] && ok "another tenant's signature -> 404" || fail "foreign signature" "$STATUS $RESP"

stop_server
e2e_finish
