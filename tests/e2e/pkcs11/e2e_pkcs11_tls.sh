#!/usr/bin/env bash
#
# e2e_pkcs11_tls.sh - the module against signetd over HTTPS with client
# certificates (SPEC §5): with SIGNET_CA_FILE and a registered client
# certificate alone (no API key) the token needs no login and signs; without
# SIGNET_CA_FILE the system trust store is used, which does not know the
# test CA, so the call fails at once with CKR_DEVICE_ERROR; an unregistered
# client certificate finds nothing to sign with.  Signatures are verified by
# openssl and are on record as the module's.

. "$(dirname "${BASH_SOURCE[0]}")/p11_lib.sh" || exit 2
p11_need pkcs11-tool opensc

PKI=$E2E_TMP/pki
mkdir -p "$PKI"
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$PKI/$1.key" -out "$PKI/$1.pem" -subj "/CN=signet p11 $1" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "/CN=signet p11 $1" 2>/dev/null &&
		printf '%s\n' "$3" >"$PKI/$1.ext" &&
		openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$2.pem" -CAkey "$PKI/$2.key" -CAcreateserial \
			-days 2 -out "$PKI/$1.pem" -extfile "$PKI/$1.ext" 2>/dev/null
}
CLIENT_EXT=$'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth'
require "make the server CA" ca server-ca
require "make the server certificate" leaf server server-ca \
	$'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1'
require "make the client CA" ca client-ca
require "make the client certificate" leaf client client-ca "$CLIENT_EXT"
require "make an unregistered client certificate" leaf stranger client-ca "$CLIENT_EXT"

ADMIN_KEY="e2e-p11-tls-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
SERVER_SCHEME=https
CURL_TLS=(--cacert "$PKI/server-ca.pem")
require "signetd starts with TLS and a client CA" start_server "$E2E_TMP/data" \
	SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_TLS_CERT="$PKI/server.pem" SIGNET_TLS_KEY="$PKI/server.key" \
	SIGNET_TLS_CLIENT_CA="$PKI/client-ca.pem"
new_principal "$ADMIN_KEY" p11-tls-signer '["signer"]'
SIGNER_KEY=$P_KEY
api "$ADMIN_KEY" POST "/v1/principals/$P_ID/client-certs" \
	"$(jq -cn --rawfile pem "$PKI/client.pem" '{certificate_pem:$pem}')"
require "register the client certificate to the signer" [ "$STATUS" = 201 ]
new_key "$ADMIN_KEY" tls-ec EC-P256
ID=${K_ID//-/}
require "export the key" fetch_pem tls-ec 1 "$W/ec.pem"

head -c 50000 /dev/urandom >"$W/data.bin"
# mtls ARGS...: pkcs11-tool with the client certificate and no API key
mtls() {
	p11_bare SIGNET_URL="$BASE_URL" SIGNET_CA_FILE="$PKI/server-ca.pem" SIGNET_CLIENT_CERT="$PKI/client.pem" \
		SIGNET_CLIENT_KEY="$PKI/client.key" -- pkcs11-tool --module "$P11_LIB" "$@"
}

out=$(mtls -L 2>&1)
assert_not_contains "$out" "login required" "with a client certificate configured the token does not require login"
out=$(mtls -O 2>&1)
assert_contains "$out" "label:      tls-ec" "the client certificate alone lists the signer's key"
out=$(mtls --sign --id "$ID" -m ECDSA-SHA256 --signature-format openssl -i "$W/data.bin" -o "$W/s1" 2>&1)
assert_ok "the client certificate alone signs; verified by openssl ($out)" \
	openssl dgst -sha256 -verify "$W/ec.pem" -signature "$W/s1" "$W/data.bin"

out=$(p11_bare SIGNET_URL="$BASE_URL" SIGNET_CA_FILE="$PKI/server-ca.pem" SIGNET_API_KEY="$SIGNER_KEY" \
	-- pkcs11-tool --module "$P11_LIB" --sign --id "$ID" -m ECDSA-SHA384 --signature-format openssl \
	-i "$W/data.bin" -o "$W/s2" 2>&1)
assert_ok "an API key over HTTPS with SIGNET_CA_FILE signs; verified by openssl ($out)" \
	openssl dgst -sha384 -verify "$W/ec.pem" -signature "$W/s2" "$W/data.bin"

t0=$(date +%s)
out=$(p11_bare SIGNET_URL="$BASE_URL" SIGNET_API_KEY="$SIGNER_KEY" -- pkcs11-tool --module "$P11_LIB" -O 2>&1)
t1=$(date +%s)
assert_contains "$out" "CKR_DEVICE_ERROR" "without SIGNET_CA_FILE the system trust store is used, which does not trust the test CA"
assert_eq "$((t1 - t0 <= 5))" 1 "the TLS failure is immediate ($((t1 - t0)) s)"

out=$(p11_bare SIGNET_URL="$BASE_URL" SIGNET_CA_FILE="$PKI/server-ca.pem" SIGNET_CLIENT_CERT="$PKI/stranger.pem" \
	SIGNET_CLIENT_KEY="$PKI/stranger.key" -- pkcs11-tool --module "$P11_LIB" -O 2>&1)
assert_not_contains "$out" "tls-ec" "an unregistered client certificate sees no key"

SERVER_SCHEME=https
p11_records_check 0 "mTLS and HTTPS"
assert_eq "$P11_RECORDS" 2 "one record per signature"

e2e_finish
