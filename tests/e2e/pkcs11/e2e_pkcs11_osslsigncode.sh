#!/usr/bin/env bash
#
# e2e_pkcs11_osslsigncode.sh - Authenticode through libsignet-pkcs11.so:
# osslsigncode (with the OpenSSL pkcs11 engine) signs a PE file - the EFI
# boot manager from Debian's systemd-boot-efi - with an RSA and an EC key
# whose chains a test CA issued from the keys' CSRs, time-stamped (RFC 3161)
# by Signet's own /tsa.  `osslsigncode verify` with the test CA and the TSA
# certificate accepts both files and rejects them after a byte of the code
# is changed.  The signatures are on record as the module's.

. "$(dirname "${BASH_SOURCE[0]}")/p11_lib.sh" || exit 2
p11_need osslsigncode osslsigncode
PE=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
if [ ! -f "$PE" ]; then
	echo "$E2E_NAME: $PE is missing (apt-get install -y systemd-boot-efi)" >&2
	exit 2
fi

p11_start
p11_engine_conf
p11_ca
p11_key rsa RSA-2048 cert
p11_key ec EC-P256 cert
curl -s "$BASE_URL/tsa/certificate" >"$W/tsa.pem"
require "the TSA certificate is served" grep -q 'BEGIN CERTIFICATE' "$W/tsa.pem"

for alias in rsa ec; do
	out=$(p11_env SIGNET_PKCS11_REQUIRE_CERT=1 -- osslsigncode sign \
		-pkcs11engine "$P11_ENGINE" -pkcs11module "$P11_LIB" \
		-key "pkcs11:token=Signet;object=$alias;type=private" -certs "$W/$alias.chain.pem" \
		-h sha256 -n "Signet e2e" -ts "$BASE_URL/tsa" \
		-in "$PE" -out "$W/$alias.efi" 2>&1)
	if [ -s "$W/$alias.efi" ]; then
		ok "osslsigncode signs the PE with '$alias' through the module, time-stamped by /tsa"
	else
		fail "osslsigncode signs the PE with '$alias' through the module" "$out"
		continue
	fi
	out=$(osslsigncode verify -CAfile "$W/ca.pem" -TSA-CAfile "$W/tsa.pem" -in "$W/$alias.efi" 2>&1)
	assert_contains "$out" "Signature verification: ok" "osslsigncode verify accepts the '$alias' signature with the test CA and the TSA certificate"
	assert_contains "$out" "Timestamp Server Signature verification: ok" "the '$alias' signature carries a time stamp from /tsa that verifies"
	assert_contains "$out" "Issuer: /CN=Signet TSA" "  issued by Signet's TSA"
	assert_contains "$out" "Signet Test Root CA" "the '$alias' chain ends at the test CA"

	cp "$W/$alias.efi" "$W/$alias.tampered.efi"
	printf '\x90\x90\x90\x90' | dd of="$W/$alias.tampered.efi" bs=1 seek=4096 conv=notrunc 2>/dev/null
	out=$(osslsigncode verify -CAfile "$W/ca.pem" -TSA-CAfile "$W/tsa.pem" -in "$W/$alias.tampered.efi" 2>&1)
	assert_not_contains "$out" "Signature verification: ok" "osslsigncode verify rejects the '$alias' file after a byte of its code changed"
done

p11_records_check 0 "osslsigncode"

e2e_finish
