#!/usr/bin/env bash
#
# e2e_pkcs11_java.sh - Java's SunPKCS11 provider over libsignet-pkcs11.so:
# `keytool -list` shows the keys that have a certificate by their aliases
# (taken from the certificate labels and paired with the private keys by
# CKA_ID), also after logging in with the API key as the store password
# (a wrong key loads no key store), and jarsigner signs a jar with an RSA
# and an EC key whose chains a test CA issued, time-stamped by Signet's /tsa.  `jarsigner -verify -strict`
# with a trust store holding the test CA and the TSA certificate accepts the
# jars and refuses one whose content changed after signing.  The signatures
# are on record as the module's.

. "$(dirname "${BASH_SOURCE[0]}")/p11_lib.sh" || exit 2
p11_need keytool openjdk-17-jdk-headless
p11_need jarsigner openjdk-17-jdk-headless
p11_need jar openjdk-17-jdk-headless

p11_start
p11_ca
p11_key release-rsa RSA-3072 cert
p11_key release-ec EC-P384 cert
p11_key no-cert EC-P256
curl -s "$BASE_URL/tsa/certificate" >"$W/tsa.pem"

printf 'name = Signet\nlibrary = %s\nslot = 0\n' "$P11_LIB" >"$W/p11.cfg"
P11_JAVA=(-keystore NONE -storetype PKCS11 -addprovider SunPKCS11 -providerArg "$W/p11.cfg"
	-storepass unused)
j() { p11_env -- "$@"; }

out=$(j keytool -list "${P11_JAVA[@]}" 2>&1)
assert_match "$out" "release-rsa, PrivateKeyEntry" "keytool -list shows release-rsa as a private key entry"
assert_match "$out" "release-ec, PrivateKeyEntry" "keytool -list shows release-ec as a private key entry"
assert_match "$out" "contains 2 entries" "exactly the two keys with a certificate are key store entries ($(grep -o 'contains [0-9]* entr[a-z]*' <<<"$out"))"

# Without credentials in the environment the token requires login, and Java
# logs in with the store password: the API key.
NOKEY=(-keystore NONE -storetype PKCS11 -addprovider SunPKCS11 -providerArg "$W/p11.cfg")
out=$(p11_bare SIGNET_URL="$BASE_URL" -- keytool -list "${NOKEY[@]}" -storepass "$SIGNER_KEY" 2>&1)
assert_match "$out" "release-rsa, PrivateKeyEntry" "without SIGNET_API_KEY, keytool logs in with the API key as -storepass"
out=$(p11_bare SIGNET_URL="$BASE_URL" -- keytool -list "${NOKEY[@]}" -storepass "wrong-$SIGNER_KEY" 2>&1)
assert_contains "$out" "load failed" "a wrong API key as -storepass fails to load the key store"

mkdir -p "$W/app/com/example"
printf 'class Hello {}\n' >"$W/app/com/example/Hello.java"
printf 'hello from signet\n' >"$W/app/README.txt"
(cd "$W/app" && jar cf "$W/app.jar" .)

keytool -importcert -noprompt -alias testca -file "$W/ca.pem" -keystore "$W/trust.p12" \
	-storetype PKCS12 -storepass changeit >/dev/null 2>&1
keytool -importcert -noprompt -alias tsa -file "$W/tsa.pem" -keystore "$W/trust.p12" \
	-storetype PKCS12 -storepass changeit >/dev/null 2>&1

for alias in release-rsa release-ec; do
	out=$(j jarsigner "${P11_JAVA[@]}" -tsa "$BASE_URL/tsa" -signedjar "$W/$alias.jar" "$W/app.jar" "$alias" 2>&1)
	if [ -s "$W/$alias.jar" ]; then
		ok "jarsigner signs the jar with $alias through SunPKCS11, time-stamped by /tsa"
	else
		fail "jarsigner signs the jar with $alias through SunPKCS11" "$out"
		continue
	fi
	out=$(jarsigner -verify -strict -verbose -certs -keystore "$W/trust.p12" -storetype PKCS12 \
		-storepass changeit "$W/$alias.jar" 2>&1)
	assert_contains "$out" "jar verified." "jarsigner -verify -strict accepts the $alias signature with the test CA"
	assert_contains "$out" "X.509, O=Signet e2e, CN=$alias code signing" "  signed by the certificate the test CA issued to $alias"
	assert_contains "$out" "Timestamped by \"CN=Signet TSA\"" "  time-stamped by Signet's TSA"

	cp "$W/$alias.jar" "$W/$alias.tampered.jar"
	mkdir -p "$W/t"
	printf 'changed after signing\n' >"$W/t/README.txt"
	(cd "$W/t" && jar uf "$W/$alias.tampered.jar" README.txt)
	out=$(jarsigner -verify -strict -keystore "$W/trust.p12" -storetype PKCS12 -storepass changeit \
		"$W/$alias.tampered.jar" 2>&1)
	assert_not_contains "$out" "jar verified." "jarsigner -verify refuses the $alias jar after its content changed"
done

p11_records_check 0 "jarsigner"
assert_eq "$P11_RECORDS" 2 "one signature record per signed jar"

e2e_finish
