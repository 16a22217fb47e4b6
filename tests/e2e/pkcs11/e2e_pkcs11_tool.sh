#!/usr/bin/env bash
#
# e2e_pkcs11_tool.sh - libsignet-pkcs11.so seen through OpenSC's pkcs11-tool:
# the token and its flags, the objects (private key, public key and leaf
# certificate sharing label and CKA_ID; the CA certificate apart; keys
# without a certificate), the object filters, and a signature with every
# mechanism the token lists, each verified by the openssl CLI over the same
# input.  Wrong inputs (RSA-PKCS without a DigestInfo, a PSS MGF1 hash unlike
# the message hash, an ECDSA input of no hash length) must be refused.  Every
# signature must be on record as the module's.

. "$(dirname "${BASH_SOURCE[0]}")/p11_lib.sh" || exit 2
p11_need pkcs11-tool opensc

p11_start
p11_ca
p11_key rsa RSA-2048 cert
RSA_ID=$K_HEX
p11_key ec EC-P256 cert
EC_ID=$K_HEX
p11_key ec384 EC-P384
EC384_ID=$K_HEX
p11_key ec521 EC-P521
EC521_ID=$K_HEX
p11_key ed Ed25519
ED_ID=$K_HEX
new_key "$ADMIN_KEY" mldsa ML-DSA-65

# tool SETTING ARGS...: pkcs11-tool with one more module setting
tool() {
	local setting=$1
	shift
	p11_env "$setting" -- pkcs11-tool --module "$P11_LIB" "$@"
}
t() { p11_env -- pkcs11-tool --module "$P11_LIB" "$@"; }

# ---------------------------------------------------------------- token

out=$(t -I -L 2>&1)
assert_contains "$out" "Cryptoki version 2.40" "C_GetInfo reports Cryptoki 2.40"
assert_match "$out" "token label +: Signet" "one slot, token label Signet"
assert_not_contains "$out" "login required" "with an API key configured the token does not require login"
out=$(p11_env SIGNET_PKCS11_TOKEN_LABEL="Release signing" -- pkcs11-tool --module "$P11_LIB" -L 2>&1)
assert_match "$out" "token label +: Release signing" "the token label is configurable"

# ---------------------------------------------------------------- objects

objs=$(t -O 2>&1)
printf '%s\n' "$objs" >"$W/objects.txt"
count() { grep -c "$1" "$W/objects.txt"; }
assert_eq "$(count '^Private Key Object')" 5 "a private key object per RSA, EC and Ed25519 key (no ML-DSA: PKCS#11 has no key type for it)"
assert_eq "$(count '^Public Key Object')" 5 "a public key object per key"
assert_eq "$(count '^Certificate Object')" 3 "certificates: the two leaves and the CA once"
assert_eq "$(grep -c "ID: *$RSA_ID" "$W/objects.txt")" 3 "private key, public key and leaf certificate of 'rsa' share CKA_ID = the key's UUID bytes"
assert_eq "$(grep -c "ID: *$ED_ID" "$W/objects.txt")" 2 "a key without a certificate still has private and public key objects"
assert_contains "$objs" "sensitive, always sensitive, never extractable" "private keys are sensitive and never extractable"
assert_contains "$objs" "label:      Signet Test Root CA" "the CA certificate is labelled by its subject's CN"
assert_not_contains "$objs" "mldsa" "no object for the ML-DSA key"

# The leaf certificate is the one the CA issued, byte for byte.
t --read-object --type cert --id "$RSA_ID" -o "$W/rsa.leaf.der" >/dev/null 2>&1
openssl x509 -in "$W/rsa.crt" -outform DER -out "$W/rsa.crt.der"
assert_ok "the leaf certificate object holds the issued certificate (CKA_VALUE)" cmp "$W/rsa.leaf.der" "$W/rsa.crt.der"
# The public key object matches the service's public key.
t --read-object --type pubkey --id "$RSA_ID" -o "$W/rsa.p11.der" >/dev/null 2>&1
openssl pkey -pubin -in "$W/rsa.pub.pem" -outform DER -out "$W/rsa.api.der"
assert_ok "the RSA public key object is the service's public key" cmp "$W/rsa.p11.der" "$W/rsa.api.der"

# Filters: aliases, key types, only keys with a certificate.
n=$(tool SIGNET_PKCS11_ALIASES="ec, ed" -O 2>&1 | grep -c '^Private Key Object')
assert_eq "$n" 2 "SIGNET_PKCS11_ALIASES limits the objects to the listed aliases"
n=$(tool SIGNET_PKCS11_KEY_TYPES=rsa,ec -O 2>&1 | grep -c '^Private Key Object')
assert_eq "$n" 4 "SIGNET_PKCS11_KEY_TYPES=rsa,ec drops the Ed25519 key"
out=$(tool SIGNET_PKCS11_REQUIRE_CERT=1 -O 2>&1)
assert_eq "$(grep -c '^Private Key Object' <<<"$out")" 2 "SIGNET_PKCS11_REQUIRE_CERT=1 keeps only keys with a certificate"
printf 'SIGNET_URL=%s\nSIGNET_API_KEY=%s\nSIGNET_PKCS11_ALIASES=ed\n' "$BASE_URL" "$SIGNER_KEY" >"$W/p11.conf"
n=$(p11_bare SIGNET_PKCS11_CONFIG="$W/p11.conf" -- pkcs11-tool --module "$P11_LIB" -O 2>&1 | grep -c '^Private Key Object')
assert_eq "$n" 1 "the same settings work from the file named by SIGNET_PKCS11_CONFIG"

# ---------------------------------------------------------------- mechanisms

mechs=$(t -M 2>&1)
for m in RSA-PKCS RSA-PKCS-PSS SHA256-RSA-PKCS SHA384-RSA-PKCS SHA512-RSA-PKCS \
	SHA256-RSA-PKCS-PSS SHA384-RSA-PKCS-PSS SHA512-RSA-PKCS-PSS ECDSA ECDSA-SHA256 \
	ECDSA-SHA384 ECDSA-SHA512 EDDSA; do
	assert_match "$mechs" "(^|[[:space:]])$m, " "mechanism $m is listed"
done

# 200 KB of data: the hash-and-sign mechanisms take it in several C_SignUpdate calls.
head -c 200000 /dev/urandom >"$W/data.bin"
for h in sha256 sha384 sha512; do
	openssl dgst -"$h" -binary "$W/data.bin" >"$W/d.$h"
done
declare -A DI=([sha256]='3031300d060960864801650304020105000420'
	[sha384]='3041300d060960864801650304020205000430'
	[sha512]='3051300d060960864801650304020305000440')
hex2bin() { local h=$1 i; for ((i = 0; i < ${#h}; i += 2)); do printf "\\x${h:i:2}"; done; }
for h in sha256 sha384 sha512; do
	{ hex2bin "${DI[$h]}"; cat "$W/d.$h"; } >"$W/di.$h"
done

# sign DESCRIPTION ID MECH INPUT OUT [pkcs11-tool args...]
sign() {
	local desc=$1 id=$2 mech=$3 in=$4 outf=$5 o
	shift 5
	if o=$(t --sign --id "$id" -m "$mech" -i "$in" -o "$outf" "$@" 2>&1) && [ -s "$outf" ]; then
		return 0
	fi
	fail "$desc: pkcs11-tool signs" "$o"
	return 1
}
# verified DESCRIPTION COMMAND...: openssl accepts the signature
verified() {
	local desc=$1 o
	shift
	if o=$("$@" 2>&1); then ok "$desc: verified by openssl"; else fail "$desc: verified by openssl" "$o"; fi
}

R=$W/rsa.pub.pem
for h in sha256 sha384 sha512; do
	H=${h^^}
	sign "RSA-PKCS over a DigestInfo($H)" "$RSA_ID" RSA-PKCS "$W/di.$h" "$W/s" &&
		verified "RSA-PKCS over a DigestInfo($H)" openssl pkeyutl -verify -pubin -inkey "$R" \
			-in "$W/d.$h" -sigfile "$W/s" -pkeyopt "digest:$h"
	sign "$H-RSA-PKCS" "$RSA_ID" "$H-RSA-PKCS" "$W/data.bin" "$W/s" &&
		verified "$H-RSA-PKCS over 200 KB" openssl dgst -"$h" -verify "$R" -signature "$W/s" "$W/data.bin"
	sign "$H-RSA-PKCS-PSS" "$RSA_ID" "$H-RSA-PKCS-PSS" "$W/data.bin" "$W/s" &&
		verified "$H-RSA-PKCS-PSS (salt = hash length)" openssl dgst -"$h" -sigopt rsa_padding_mode:pss \
			-sigopt rsa_pss_saltlen:digest -verify "$R" -signature "$W/s" "$W/data.bin"
	sign "RSA-PKCS-PSS $H" "$RSA_ID" RSA-PKCS-PSS "$W/d.$h" "$W/s" --hash-algorithm "$H" \
		--mgf "MGF1-$H" --salt-len 20 &&
		verified "RSA-PKCS-PSS over a $H digest, salt 20" openssl pkeyutl -verify -pubin -inkey "$R" \
			-in "$W/d.$h" -sigfile "$W/s" -pkeyopt "digest:$h" -pkeyopt rsa_padding_mode:pss \
			-pkeyopt rsa_pss_saltlen:20
done
sign "RSA-PKCS-PSS, salt 0" "$RSA_ID" RSA-PKCS-PSS "$W/d.sha256" "$W/s" --hash-algorithm SHA256 \
	--mgf MGF1-SHA256 --salt-len 0 &&
	verified "RSA-PKCS-PSS with salt length 0 is honoured" openssl pkeyutl -verify -pubin -inkey "$R" \
		-in "$W/d.sha256" -sigfile "$W/s" -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss \
		-pkeyopt rsa_pss_saltlen:0
out=$(t --sign --id "$RSA_ID" -m RSA-PKCS -i "$W/d.sha256" -o "$W/bad" 2>&1)
assert_contains "$out" "CKR_DATA_INVALID" "RSA-PKCS input that is not a DigestInfo is refused"
out=$(t --sign --id "$RSA_ID" -m RSA-PKCS-PSS --hash-algorithm SHA256 --mgf MGF1-SHA384 \
	-i "$W/d.sha256" -o "$W/bad" 2>&1)
assert_contains "$out" "CKR_MECHANISM_PARAM_INVALID" "PSS with an MGF1 hash unlike the message hash is refused"
# A signature that verifies must stop verifying over other data: the check can fail.
sign "SHA256-RSA-PKCS" "$RSA_ID" SHA256-RSA-PKCS "$W/data.bin" "$W/s"
printf 'x' >>"$W/data.bin.tampered"; cat "$W/data.bin" >>"$W/data.bin.tampered"
assert_fails "openssl rejects the signature over other data" \
	openssl dgst -sha256 -verify "$R" -signature "$W/s" "$W/data.bin.tampered"

for key in ec ec384 ec521; do
	case $key in ec) id=$EC_ID ;; ec384) id=$EC384_ID ;; ec521) id=$EC521_ID ;; esac
	P=$W/$key.pub.pem
	for h in sha256 sha384 sha512; do
		H=${h^^}
		sign "ECDSA $key over a $H digest" "$id" ECDSA "$W/d.$h" "$W/s" --signature-format openssl &&
			verified "ECDSA ($key) takes the hash from the input length ($H)" openssl pkeyutl -verify \
				-pubin -inkey "$P" -in "$W/d.$h" -sigfile "$W/s"
		sign "ECDSA-$H $key" "$id" "ECDSA-$H" "$W/data.bin" "$W/s" --signature-format openssl &&
			verified "ECDSA-$H ($key) over 200 KB" openssl dgst -"$h" -verify "$P" -signature "$W/s" \
				"$W/data.bin"
	done
done
t --sign --id "$EC_ID" -m ECDSA -i "$W/d.sha256" -o "$W/raw" >/dev/null 2>&1
assert_eq "$(stat -c %s "$W/raw")" 64 "CKM_ECDSA returns raw r||s (64 bytes on P-256)"
head -c 20 "$W/d.sha256" >"$W/d20"
out=$(t --sign --id "$EC_ID" -m ECDSA -i "$W/d20" -o "$W/bad" 2>&1)
assert_contains "$out" "CKR_DATA_LEN_RANGE" "an ECDSA input of 20 bytes (no SHA-2 length) is refused"

for h in sha256 sha384 sha512; do
	sign "EDDSA over a ${h^^}-sized input" "$ED_ID" EDDSA "$W/d.$h" "$W/s" &&
		verified "EDDSA signs a ${h^^}-sized input as the Ed25519 message" openssl pkeyutl -verify -pubin \
			-inkey "$W/ed.pub.pem" -rawin -in "$W/d.$h" -sigfile "$W/s"
done

# ---------------------------------------------------------------- records

p11_records_check 0 "pkcs11-tool"
assert_eq "$P11_RECORDS" 36 "one native signature record per signature made through the module"

e2e_finish
