#!/usr/bin/env bash
#
# e2e_pkcs11_osslsigncode.sh - Authenticode through libsignet-pkcs11.so:
# osslsigncode (with the OpenSSL pkcs11 engine) signs a PE file - the EFI
# boot manager from Debian's systemd-boot-efi - with an RSA and an EC key
# whose chains a test CA issued from the keys' CSRs, an MSI package built
# with wixl, and a PowerShell script, each time-stamped (RFC 3161) by
# Signet's own /tsa.  `osslsigncode verify` with the test CA and the TSA
# certificate accepts the files and rejects them after a byte of the code
# changed (PE, script) or with the signature moved onto other content
# (MSI).  The signatures are on record as the module's.
#
# osslsigncode is 2.9 from bookworm-backports (scripts/install-deps.sh):
# bookworm's 2.5 signs no scripts.  No -pkcs11engine: osslsigncode loads
# the engine "pkcs11" from OpenSSL's engine directory itself (2.5 would pass
# a -pkcs11engine path as the engine id, which libp11 refuses).

. "$(dirname "${BASH_SOURCE[0]}")/p11_lib.sh" || exit 2
p11_need osslsigncode osslsigncode
p11_need wixl wixl
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
		-pkcs11module "$P11_LIB" \
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

# ---------------------------------------------------------------- MSI

# A small Windows Installer package built with wixl (msitools).
cat >"$W/app.wxs" <<'WXS'
<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="Signet e2e" Language="1033" Version="1.0.0" Manufacturer="Signet e2e"
           UpgradeCode="5c0c2c2e-1e9b-4d4e-9f67-4b2a9f1b3c11">
    <Package InstallerVersion="200" Compressed="yes" Comments="Signet e2e package"/>
    <Media Id="1" Cabinet="app.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFilesFolder">
        <Directory Id="INSTALLDIR" Name="SignetE2E">
          <Component Id="Hello" Guid="0e0b3b53-5b53-4f4e-8a5b-2f8f2a3e5d21">
            <File Id="HelloTxt" Source="hello.txt"/>
          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Main" Level="1"><ComponentRef Id="Hello"/></Feature>
  </Product>
</Wix>
WXS
printf 'hello from signet\n' >"$W/hello.txt"
require "wixl builds an MSI" bash -c "cd '$W' && wixl -o app.msi app.wxs"
out=$(p11_env SIGNET_PKCS11_REQUIRE_CERT=1 -- osslsigncode sign \
	-pkcs11module "$P11_LIB" \
	-key "pkcs11:token=Signet;object=rsa;type=private" -certs "$W/rsa.chain.pem" \
	-h sha256 -n "Signet e2e" -ts "$BASE_URL/tsa" -in "$W/app.msi" -out "$W/signed.msi" 2>&1)
if [ -s "$W/signed.msi" ]; then
	ok "osslsigncode signs the MSI with 'rsa' through the module, time-stamped by /tsa"
else
	fail "osslsigncode signs the MSI with 'rsa' through the module" "$out"
fi
out=$(osslsigncode verify -CAfile "$W/ca.pem" -TSA-CAfile "$W/tsa.pem" -in "$W/signed.msi" 2>&1)
assert_contains "$out" "Timestamp Server Signature verification: ok" "the MSI's time stamp from /tsa verifies"
assert_match "$out" $'Succeeded$' "osslsigncode verify accepts the signed MSI with the test CA"
# The same signature moved onto a package with other content must not verify.
printf 'changed after signing\n' >"$W/hello.txt"
(cd "$W" && wixl -o other.msi app.wxs)
osslsigncode extract-signature -in "$W/signed.msi" -out "$W/msi.p7" >/dev/null 2>&1
osslsigncode attach-signature -sigin "$W/msi.p7" -in "$W/other.msi" -out "$W/tampered.msi" >/dev/null 2>&1
require "a copy of the signature is attached to another package" [ -s "$W/tampered.msi" ]
out=$(osslsigncode verify -CAfile "$W/ca.pem" -TSA-CAfile "$W/tsa.pem" -in "$W/tampered.msi" 2>&1)
assert_match "$out" $'Failed$' "osslsigncode verify rejects the signature on a package whose content changed"

# ---------------------------------------------------------------- PowerShell

oss_version=$(osslsigncode -v 2>&1 | sed -n '1s/^osslsigncode \([0-9][0-9.]*\).*/\1/p')
require "osslsigncode is 2.9 or later (bookworm-backports; found '${oss_version:-?}')" \
	dpkg --compare-versions "${oss_version:-0}" ge 2.9
# A script with Windows line ends, as PowerShell scripts usually have.
printf 'param([string]$Name = "world")\r\nWrite-Output "Hello, $Name"\r\n' >"$W/hello.ps1"
for alias in rsa ec; do
	out=$(p11_env SIGNET_PKCS11_REQUIRE_CERT=1 -- osslsigncode sign \
		-pkcs11module "$P11_LIB" \
		-key "pkcs11:token=Signet;object=$alias;type=private" -certs "$W/$alias.chain.pem" \
		-h sha256 -n "Signet e2e" -ts "$BASE_URL/tsa" \
		-in "$W/hello.ps1" -out "$W/$alias.ps1" 2>&1)
	if ! grep -q '^# SIG # Begin signature block' "$W/$alias.ps1" 2>/dev/null; then
		fail "osslsigncode signs the PowerShell script with '$alias' through the module" "$out"
		continue
	fi
	ok "osslsigncode signs the PowerShell script with '$alias' through the module (a '# SIG #' block is appended)"
	out=$(osslsigncode verify -CAfile "$W/ca.pem" -TSA-CAfile "$W/tsa.pem" -in "$W/$alias.ps1" 2>&1)
	assert_contains "$out" "Signature verification: ok" "osslsigncode verify accepts the '$alias'-signed script with the test CA"
	assert_contains "$out" "Timestamp Server Signature verification: ok" "the script's time stamp from /tsa verifies"
	sed 's/Hello, /Goodbye, /' "$W/$alias.ps1" >"$W/$alias.tampered.ps1"
	out=$(osslsigncode verify -CAfile "$W/ca.pem" -TSA-CAfile "$W/tsa.pem" -in "$W/$alias.tampered.ps1" 2>&1)
	assert_not_contains "$out" "Signature verification: ok" "osslsigncode verify rejects the '$alias'-signed script after its code changed"
done

p11_records_check 0 "osslsigncode"
assert_eq "$P11_RECORDS" 5 "one record per signed file (2 PE, 1 MSI, 2 scripts)"

e2e_finish
