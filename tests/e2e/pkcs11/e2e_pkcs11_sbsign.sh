#!/usr/bin/env bash
#
# e2e_pkcs11_sbsign.sh - UEFI Secure Boot signing through libsignet-pkcs11.so:
# sbsign (sbsigntool, with the OpenSSL pkcs11 engine) signs the EFI boot
# manager from Debian's systemd-boot-efi with an RSA key whose certificate a
# test CA issued from the key's CSR; `sbverify --cert` accepts the result
# with the leaf and with the CA, refuses it with another certificate and
# after a byte of the code changed.  The signature is on record as the
# module's.

. "$(dirname "${BASH_SOURCE[0]}")/p11_lib.sh" || exit 2
p11_need sbsign sbsigntool
p11_need sbverify sbsigntool
EFI=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
if [ ! -f "$EFI" ]; then
	echo "$E2E_NAME: $EFI is missing (apt-get install -y systemd-boot-efi)" >&2
	exit 2
fi

p11_start
p11_engine_conf
p11_ca
p11_key uefi RSA-2048 cert
p11_key other RSA-2048 cert

out=$(p11_env SIGNET_PKCS11_ALIASES=uefi OPENSSL_CONF="$W/engine.cnf" -- sbsign --engine pkcs11 \
	--key "pkcs11:token=Signet;object=uefi;type=private" --cert "$W/uefi.crt" \
	--output "$W/signed.efi" "$EFI" 2>&1)
if [ -s "$W/signed.efi" ]; then
	ok "sbsign signs the EFI binary through the module"
else
	fail "sbsign signs the EFI binary through the module" "$out"
fi
assert_ok "sbverify --cert <leaf> accepts the signed binary" sbverify --cert "$W/uefi.crt" "$W/signed.efi"
assert_ok "sbverify --cert <test CA> accepts it too" sbverify --cert "$W/ca.pem" "$W/signed.efi"
assert_fails "sbverify with another key's certificate refuses it" sbverify --cert "$W/other.crt" "$W/signed.efi"
cp "$W/signed.efi" "$W/tampered.efi"
printf '\x90\x90\x90\x90' | dd of="$W/tampered.efi" bs=1 seek=4096 conv=notrunc 2>/dev/null
assert_fails "sbverify refuses the binary after a byte of its code changed" \
	sbverify --cert "$W/uefi.crt" "$W/tampered.efi"

p11_records_check 0 "sbsign"
assert_eq "$P11_RECORDS" 1 "one signature record"

e2e_finish
