#!/usr/bin/env bash
#
# e2e_pkcs11_openssl.sh - the openssl command line signs through the OpenSSL
# pkcs11 engine (Debian's libengine-pkcs11-openssl, libp11 0.4.12) and
# libsignet-pkcs11.so, naming keys by pkcs11: URI: RSA PKCS#1 v1.5 and PSS,
# ECDSA on P-256 and P-384.  Each signature is verified by openssl with the
# public key the service exports, and is on record as the module's.  The
# engine cannot enumerate a token holding an Ed25519 key, so the token is
# restricted with SIGNET_PKCS11_KEY_TYPES as docs/pkcs11.md recommends.

. "$(dirname "${BASH_SOURCE[0]}")/p11_lib.sh" || exit 2

p11_start
p11_engine_conf
p11_key rsa RSA-3072
p11_key ec EC-P256
p11_key ec384 EC-P384
new_key "$ADMIN_KEY" ed Ed25519

head -c 100000 /dev/urandom >"$W/data.bin"
openssl dgst -sha256 -binary "$W/data.bin" >"$W/d256"

# e ARGS...: openssl with the engine, the module configured for the signer
e() {
	p11_env SIGNET_PKCS11_KEY_TYPES=rsa,ec OPENSSL_CONF="$W/engine.cnf" -- openssl "$@"
}
uri() { echo "pkcs11:token=Signet;object=$1;type=private"; }

for h in sha256 sha384 sha512; do
	assert_ok "openssl dgst -$h -sign pkcs11:...object=rsa (RSA PKCS#1 v1.5)" \
		e dgst -"$h" -engine pkcs11 -keyform engine -sign "$(uri rsa)" -out "$W/rsa.$h.sig" "$W/data.bin"
	assert_ok "  verified by openssl" \
		openssl dgst -"$h" -verify "$W/rsa.pub.pem" -signature "$W/rsa.$h.sig" "$W/data.bin"
done
assert_ok "openssl pkeyutl -sign with RSA-PSS (salt = digest length) through the engine" \
	e pkeyutl -engine pkcs11 -keyform engine -inkey "$(uri rsa)" -sign -in "$W/d256" -out "$W/pss.sig" \
		-pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:digest
assert_ok "  verified by openssl" \
	openssl pkeyutl -verify -pubin -inkey "$W/rsa.pub.pem" -in "$W/d256" -sigfile "$W/pss.sig" \
		-pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:digest
for k in ec:sha256 ec384:sha384 ec:sha512; do
	alias=${k%%:*} h=${k#*:}
	assert_ok "openssl dgst -$h -sign pkcs11:...object=$alias (ECDSA)" \
		e dgst -"$h" -engine pkcs11 -keyform engine -sign "$(uri "$alias")" -out "$W/$alias.$h.sig" "$W/data.bin"
	assert_ok "  verified by openssl" \
		openssl dgst -"$h" -verify "$W/$alias.pub.pem" -signature "$W/$alias.$h.sig" "$W/data.bin"
done
printf 'tampered' >"$W/other.bin"
assert_fails "a signature does not verify over other data" \
	openssl dgst -sha256 -verify "$W/rsa.pub.pem" -signature "$W/rsa.sha256.sig" "$W/other.bin"

p11_records_check 0 "openssl via the pkcs11 engine"
assert_eq "$P11_RECORDS" 7 "one record per signature"

e2e_finish
