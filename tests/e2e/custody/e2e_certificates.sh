#!/usr/bin/env bash
#
# e2e_certificates.sh - X.509 for signing keys (issue 5), checked with the
# openssl command line: CSRs of a DISK EC key, an HSM RSA key and DISK and
# HSM Ed25519 keys (signed through the keystore like every other) verify
# and carry the subject and the key; a TEST key gets a self-signed
# code-signing certificate, a PRODUCTION key does not; a chain issued by
# a CA made here with openssl is attached (PEM body and JSON body), shown
# in the key, its public-key export and a policy; a certificate of another
# key, a chain in the wrong order or from another CA is refused and changes
# nothing.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2
. "$(dirname "${BASH_SOURCE[0]}")/hsm.sh" || exit 2

W=$E2E_TMP/work
mkdir -p "$W"
require "a fresh SoftHSM2 token" hsm_init custody-cert
ADMIN_KEY="e2e-cert-admin-$RANDOM-$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts with the token" start_hsm_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
new_principal "$ADMIN_KEY" cert-signer '["signer"]'
SIGNER_KEY=$P_KEY

# new_key2 ALIAS ALGORITHM STORAGE TYPE: sets K_ID
new_key2() {
	api "$ADMIN_KEY" POST /v1/keys "$(jq -cn --arg a "$1" --arg g "$2" --arg s "$3" --arg t "$4" \
		'{alias:$a,algorithm:$g,storage:$s,type:$t}')"
	require "create $3 $4 key $1 ($2): got $STATUS $RESP" [ "$STATUS" = 201 ]
	K_ID=$(jget .id)
}

# split_pem FILE PREFIX: PREFIX1.pem, PREFIX2.pem, ... one certificate each; echoes the count
split_pem() {
	awk -v p="$2" '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (p n ".pem") }
		END { print n + 0 }' "$1"
}

# cert_fp FILE: SHA-256 of the (first) certificate's DER
cert_fp() {
	openssl x509 -in "$1" -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -d' ' -f1
}

# chain_fps FILE: the fingerprints of every certificate in a PEM chain, in order
chain_fps() {
	local n i pfx=$W/split.$RANDOM. out=""
	n=$(split_pem "$1" "$pfx")
	for ((i = 1; i <= n; i++)); do out+="$(cert_fp "$pfx$i.pem") "; done
	echo "${out% }"
}

# version_chain KEY VERSION OUT: the version's certificate_chain_pem from GET /v1/keys/KEY ("null" if none)
version_chain() {
	api "$ADMIN_KEY" GET "/v1/keys/$1"
	jq -r --argjson v "$2" '.versions[] | select(.version == $v) | .certificate_chain_pem // "null"' \
		<<<"$RESP" >"$3"
}

# ---------------------------------------------------------------- CSRs

new_key2 cert-ec EC-P256 DISK PRODUCTION
EC=$K_ID
new_key2 cert-rsa-hsm RSA-2048 HSM PRODUCTION
RSA=$K_ID
# Ed25519 signs the whole TBS as its message through the keystore (no digest)
new_key2 cert-ed Ed25519 DISK PRODUCTION
ED=$K_ID
require "export cert-rsa-hsm" fetch_pem "$RSA" 1 "$W/rsa.pem"
require "export cert-ec" fetch_pem "$EC" 1 "$W/ec.pem"
require "export cert-ed" fetch_pem "$ED" 1 "$W/ed.pem"

declare -A SUBJ=([ec]="CN=Custody EC Signing,O=Acme Test,C=DE" [rsa]="CN=Custody HSM RSA,O=Acme Test"
	[ed]="CN=Custody Ed25519,O=Acme Test")
declare -A RFC2253=([ec]="C=DE,O=Acme Test,CN=Custody EC Signing" [rsa]="O=Acme Test,CN=Custody HSM RSA"
	[ed]="O=Acme Test,CN=Custody Ed25519")
declare -A SIGALG=([ec]=ecdsa-with-SHA256 [rsa]=sha256WithRSAEncryption [ed]=ED25519)
declare -A KID_OF=([ec]=$EC [rsa]=$RSA [ed]=$ED)
for k in ec rsa ed; do
	api "$ADMIN_KEY" POST "/v1/keys/${KID_OF[$k]}/csr" "$(jq -cn --arg s "${SUBJ[$k]}" '{subject:$s}')"
	assert_status 200 "$k: CSR"
	assert_json .version 1 "$k: the CSR is for version 1"
	jget .csr_pem >"$W/$k.csr"
	out=$(openssl req -in "$W/$k.csr" -verify -noout 2>&1)
	rc=$?
	assert_eq "$rc:$(grep -c 'verify OK' <<<"$out")" "0:1" "$k: openssl req -verify accepts the CSR's signature"
	assert_eq "$(openssl req -in "$W/$k.csr" -noout -subject -nameopt RFC2253 2>&1)" "subject=${RFC2253[$k]}" \
		"$k: the CSR's subject is the one asked for"
	openssl req -in "$W/$k.csr" -noout -pubkey >"$W/$k.csr.pub" 2>/dev/null
	assert_eq "$(pem_fingerprint "$W/$k.csr.pub")" "$(pem_fingerprint "$W/$k.pem")" \
		"$k: the CSR carries the key's public key"
	assert_contains "$(openssl req -in "$W/$k.csr" -noout -text 2>/dev/null)" "Signature Algorithm: ${SIGALG[$k]}" \
		"$k: the CSR is signed with ${SIGALG[$k]}"
done
# the verify above can fail: a CSR whose signature is damaged does not verify
# (the first character of the last base64 line, which holds the signature's end)
awk '{ l[NR] = $0 } /-----END/ { e = NR }
	END { for (i = 1; i <= NR; i++) {
		if (i == e - 1) l[i] = (substr(l[i], 1, 1) == "A" ? "B" : "A") substr(l[i], 2)
		print l[i] } }' "$W/ec.csr" >"$W/bad.csr"
out=$(openssl req -in "$W/bad.csr" -verify -noout 2>&1)
assert_not_contains "$out" "verify OK" "openssl req -verify refuses a CSR with a damaged signature"
api "$ADMIN_KEY" POST "/v1/keys/$EC/csr" '{"subject":"no equals sign"}'
assert_error 400 INVALID_ARGUMENT "CSR with a subject that does not parse"

# ---------------------------------------------------------------- self-signed

new_key2 test-ec EC-P256 DISK TEST
TEC=$K_ID
new_key2 test-rsa-hsm RSA-2048 HSM TEST
TRSA=$K_ID
new_key2 test-ed Ed25519 DISK TEST
declare -A TID_OF=([test-ec]=$TEC [test-rsa-hsm]=$TRSA [test-ed]=$K_ID)
for k in test-ec test-rsa-hsm test-ed; do
	id=${TID_OF[$k]}
	require "$k: export" fetch_pem "$id" 1 "$W/$k.pem"
	api "$ADMIN_KEY" POST "/v1/keys/$id/versions/1/self-signed" '{"subject":"CN=Custody Test Signing,O=Acme Test","days":30}'
	assert_status 201 "$k: self-signed certificate for a TEST key"
	jget .certificate_pem >"$W/$k.crt"
	text=$(openssl x509 -in "$W/$k.crt" -noout -text 2>&1)
	assert_eq "$(openssl x509 -in "$W/$k.crt" -noout -subject -nameopt RFC2253 2>&1)" \
		"subject=O=Acme Test,CN=Custody Test Signing" "$k: the certificate's subject"
	assert_eq "$(openssl x509 -in "$W/$k.crt" -noout -issuer -nameopt RFC2253 2>&1)" \
		"issuer=O=Acme Test,CN=Custody Test Signing" "$k: ... and its issuer is itself"
	assert_match "$text" 'X509v3 Extended Key Usage:[^'$'\n'']*'$'\n'' *Code Signing' "$k: the certificate has the Code Signing EKU"
	assert_match "$text" 'CA:FALSE' "$k: the certificate is not a CA"
	assert_match "$text" 'Key Usage: critical'$'\n'' *Digital Signature' "$k: key usage digitalSignature"
	openssl x509 -in "$W/$k.crt" -noout -pubkey >"$W/$k.crt.pub" 2>/dev/null
	assert_eq "$(pem_fingerprint "$W/$k.crt.pub")" "$(pem_fingerprint "$W/$k.pem")" "$k: the certificate carries the key"
	assert_eq "$(openssl verify -CAfile "$W/$k.crt" -partial_chain "$W/$k.crt" 2>&1)" "$W/$k.crt: OK" \
		"$k: openssl verify accepts the self-signed certificate"
	nb=$(openssl x509 -in "$W/$k.crt" -noout -startdate | cut -d= -f2)
	na=$(openssl x509 -in "$W/$k.crt" -noout -enddate | cut -d= -f2)
	days=$((($(date -d "$na" +%s) - $(date -d "$nb" +%s) + 43200) / 86400))
	assert_eq "$days" 30 "$k: the certificate is valid for the 30 days asked"
	version_chain "$id" 1 "$W/$k.chain"
	assert_eq "$(chain_fps "$W/$k.chain")" "$(cert_fp "$W/$k.crt")" "$k: the key's version 1 now carries the certificate"
done
assert_ne "$(openssl verify -CAfile "$W/test-ec.crt" -partial_chain "$W/test-rsa-hsm.crt" 2>&1)" \
	"$W/test-rsa-hsm.crt: OK" "openssl verify refuses one self-signed certificate as the other's issuer"

api "$ADMIN_KEY" POST "/v1/keys/$EC/versions/1/self-signed" '{"subject":"CN=Nope"}'
assert_error 409 FAILED_PRECONDITION "self-signed certificate for a PRODUCTION key"
version_chain "$EC" 1 "$W/ec.chain0"
assert_eq "$(cat "$W/ec.chain0")" null "the refused PRODUCTION key still has no certificate"

# ---------------------------------------------------------------- issued chains

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ca.key" -out "$W/ca.pem" \
	-subj "/CN=Custody Test CA/O=Acme Test" -days 30 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ca2.key" -out "$W/ca2.pem" \
	-subj "/CN=Other CA" -days 30 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$W/leaf.ext"
for k in ec rsa; do
	openssl x509 -req -in "$W/$k.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -set_serial "$((RANDOM + 1000))" \
		-days 30 -extfile "$W/leaf.ext" -out "$W/$k.leaf.pem" >/dev/null 2>&1
done
require "openssl issued both leaf certificates" [ -s "$W/ec.leaf.pem" ] && [ -s "$W/rsa.leaf.pem" ]
quiet() { "$@" >/dev/null 2>&1; }
require "the issued leaf verifies against the CA (test setup)" \
	quiet openssl verify -CAfile "$W/ca.pem" -purpose any "$W/ec.leaf.pem"

# PEM body, leaf then CA
cat "$W/ec.leaf.pem" "$W/ca.pem" >"$W/ec.chain.pem"
api "$ADMIN_KEY" PUT "/v1/keys/$EC/versions/1/certificate" "" \
	-H 'Content-Type: application/x-pem-file' --data-binary "@$W/ec.chain.pem"
assert_status 200 "cert-ec: upload leaf + CA as application/x-pem-file"
jget .certificate_chain_pem >"$W/ec.put.chain"
WANT_EC="$(cert_fp "$W/ec.leaf.pem") $(cert_fp "$W/ca.pem")"
assert_eq "$(chain_fps "$W/ec.put.chain")" "$WANT_EC" "cert-ec: the answer carries leaf and CA, leaf first"
version_chain "$EC" 1 "$W/ec.chain1"
assert_eq "$(chain_fps "$W/ec.chain1")" "$WANT_EC" "cert-ec: GET /v1/keys shows the chain on version 1"
api "$SIGNER_KEY" GET "/v1/keys/$EC/public-key?version=1"
jget '.certificate_chain_pem // "null"' >"$W/ec.pubchain"
assert_eq "$(chain_fps "$W/ec.pubchain")" "$WANT_EC" "cert-ec: the public-key export carries the chain"
split_pem "$W/ec.chain1" "$W/ec.got." >/dev/null
assert_ok "cert-ec: openssl verifies the stored leaf against the CA" \
	openssl verify -CAfile "$W/ca.pem" "$W/ec.got.1.pem"

# JSON body for the HSM key
api "$ADMIN_KEY" PUT "/v1/keys/$RSA/versions/1/certificate" \
	"$(jq -cn --rawfile l "$W/rsa.leaf.pem" --rawfile c "$W/ca.pem" '{certificate_chain_pem: ($l + $c)}')"
assert_status 200 "cert-rsa-hsm: upload the chain as JSON certificate_chain_pem"
version_chain "$RSA" 1 "$W/rsa.chain1"
assert_eq "$(chain_fps "$W/rsa.chain1")" "$(cert_fp "$W/rsa.leaf.pem") $(cert_fp "$W/ca.pem")" \
	"cert-rsa-hsm: GET /v1/keys shows the chain"

# refusals change nothing
cat "$W/rsa.leaf.pem" "$W/ca.pem" >"$W/wrongkey.pem"
api "$ADMIN_KEY" PUT "/v1/keys/$EC/versions/1/certificate" "" \
	-H 'Content-Type: application/x-pem-file' --data-binary "@$W/wrongkey.pem"
assert_error 400 INVALID_ARGUMENT "cert-ec: a certificate of another key is refused"
assert_contains "$(jget .error.message)" "public key" "cert-ec: ... the refusal says the key does not match"
version_chain "$EC" 1 "$W/ec.chain2"
assert_eq "$(chain_fps "$W/ec.chain2")" "$WANT_EC" "cert-ec: the refused upload left the chain unchanged"

cat "$W/ca.pem" "$W/ec.leaf.pem" >"$W/reversed.pem"
api "$ADMIN_KEY" PUT "/v1/keys/$EC/versions/1/certificate" "" \
	-H 'Content-Type: application/x-pem-file' --data-binary "@$W/reversed.pem"
assert_error 400 INVALID_ARGUMENT "cert-ec: the chain in the wrong order (CA first) is refused"
version_chain "$EC" 1 "$W/ec.chain3"
assert_eq "$(chain_fps "$W/ec.chain3")" "$WANT_EC" "cert-ec: the refused order left the chain unchanged"

cat "$W/ec.leaf.pem" "$W/ca2.pem" >"$W/otherca.pem"
api "$ADMIN_KEY" PUT "/v1/keys/$EC/versions/1/certificate" "" \
	-H 'Content-Type: application/x-pem-file' --data-binary "@$W/otherca.pem"
assert_error 400 INVALID_ARGUMENT "cert-ec: a leaf followed by a CA that did not issue it is refused"
assert_contains "$(jget .error.message)" "not issued by" "cert-ec: ... the refusal says which link breaks"

printf 'this is not a certificate\n' >"$W/junk.pem"
api "$ADMIN_KEY" PUT "/v1/keys/$EC/versions/1/certificate" "" \
	-H 'Content-Type: application/x-pem-file' --data-binary "@$W/junk.pem"
assert_error 400 INVALID_ARGUMENT "cert-ec: a body without a PEM certificate is refused"
version_chain "$EC" 1 "$W/ec.chain4"
assert_eq "$(chain_fps "$W/ec.chain4")" "$WANT_EC" "cert-ec: after every refusal the chain is still leaf + CA"

api "$SIGNER_KEY" PUT "/v1/keys/$EC/versions/1/certificate" "" \
	-H 'Content-Type: application/x-pem-file' --data-binary "@$W/ec.chain.pem"
assert_error 403 PERMISSION_DENIED "a signer cannot attach certificates"

# ---------------------------------------------------------------- a policy shows the chain

api "$ADMIN_KEY" POST /v1/policies '{"project":"custody","slug":"release","key":"cert-ec"}'
assert_status 201 "create policy custody/release on cert-ec"
api "$SIGNER_KEY" GET /v1/policies/custody/release
assert_status 200 "GET /v1/policies/custody/release"
jget '.certificate_chain_pem // "null"' >"$W/pol.chain"
assert_eq "$(chain_fps "$W/pol.chain")" "$WANT_EC" "the policy includes the key's certificate chain"
jget '.public_key_pem // ""' >"$W/pol.pub"
assert_eq "$(pem_fingerprint "$W/pol.pub")" "$(pem_fingerprint "$W/ec.pem")" "the policy includes the key's public key"

# a signature under the policy verifies with the leaf certificate's key
head -c 2000 /dev/urandom >"$W/art.bin"
digest_file SHA-256 "$W/art.bin" "$W/art.d"
api "$SIGNER_KEY" POST /v1/sign "$(jq -cn --arg d "$(b64 "$W/art.d")" '{policy:"custody/release",digest:$d,hash_algorithm:"SHA-256"}')"
assert_status 200 "sign under custody/release"
b64_decode_to "$(jget .signature)" "$W/art.sig"
openssl x509 -in "$W/ec.got.1.pem" -noout -pubkey >"$W/leaf.pub"
assert_ok "openssl verifies the policy signature with the public key of the stored leaf certificate" \
	openssl dgst -sha256 -verify "$W/leaf.pub" -signature "$W/art.sig" "$W/art.bin"

# ---------------------------------------------------------------- limits

api "$ADMIN_KEY" PATCH "/v1/keys/$EC" '{"status":"DISABLED"}'
api "$ADMIN_KEY" POST "/v1/keys/$EC/csr" '{"subject":"CN=Disabled"}'
assert_error 409 KEY_NOT_ACTIVE "no CSR from a DISABLED key"
api "$ADMIN_KEY" POST /v1/keys '{"alias":"cert-ed-hsm","algorithm":"Ed25519","storage":"HSM"}'
if [ "$STATUS" = 201 ]; then
	EDH=$(jget .id)
	require "export cert-ed-hsm" fetch_pem "$EDH" 1 "$W/ed-hsm.pem"
	api "$ADMIN_KEY" POST "/v1/keys/$EDH/csr" '{"subject":"CN=Ed HSM"}'
	assert_status 200 "a CSR for an Ed25519 HSM key (CKM_EDDSA over the whole TBS)"
	jget .csr_pem >"$W/ed-hsm.csr"
	out=$(openssl req -in "$W/ed-hsm.csr" -verify -noout 2>&1)
	assert_eq "$?:$(grep -c 'verify OK' <<<"$out")" "0:1" "ed-hsm: openssl req -verify accepts the CSR's signature"
	openssl req -in "$W/ed-hsm.csr" -noout -pubkey >"$W/ed-hsm.csr.pub" 2>/dev/null
	assert_eq "$(pem_fingerprint "$W/ed-hsm.csr.pub")" "$(pem_fingerprint "$W/ed-hsm.pem")" \
		"ed-hsm: the CSR carries the token's key"
else
	skip "the token has no Ed25519: no Ed25519 HSM CSR check"
fi

check_pin_not_logged
e2e_finish
