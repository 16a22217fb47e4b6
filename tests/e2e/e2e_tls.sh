#!/usr/bin/env bash
#
# e2e_tls.sh - HTTPS and client-certificate authentication (SPEC §1, §5).
# openssl makes a server CA and certificate (SAN IP:127.0.0.1), a client CA
# with a registered and an unregistered client certificate, and a rogue CA
# with its own client certificate.  signetd gets SIGNET_TLS_CERT,
# SIGNET_TLS_KEY and SIGNET_TLS_CLIENT_CA.  A registered certificate signs
# with no API key; the others are refused; TLS 1.1 and plain HTTP are
# refused on the TLS port.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || exit 2

PKI=$E2E_TMP/pki
mkdir -p "$PKI"

# ca NAME: a self-signed EC P-256 CA
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$PKI/$1.key" -out "$PKI/$1.pem" -subj "/CN=signet e2e $1" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
# leaf NAME CA EXTENSIONS: an EC P-256 certificate issued by CA
leaf() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "/CN=signet e2e $1" 2>/dev/null &&
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
require "make the unregistered client certificate" leaf stranger client-ca "$CLIENT_EXT"
require "make the rogue CA" ca rogue-ca
require "make the rogue client certificate" leaf rogue rogue-ca "$CLIENT_EXT"
assert_ok "the client certificate chains to the client CA (openssl verify)" \
	openssl verify -CAfile "$PKI/client-ca.pem" "$PKI/client.pem"
assert_fails "the rogue certificate does not chain to the client CA (openssl verify)" \
	openssl verify -CAfile "$PKI/client-ca.pem" "$PKI/rogue.pem"

ADMIN_KEY="e2e-tls-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
SERVER_SCHEME=https
CURL_TLS=(--cacert "$PKI/server-ca.pem")
require "signetd starts with TLS and a client CA" start_server "$E2E_TMP/data" \
	SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_TLS_CERT="$PKI/server.pem" SIGNET_TLS_KEY="$PKI/server.key" \
	SIGNET_TLS_CLIENT_CA="$PKI/client-ca.pem"
assert_contains "$BASE_URL" https:// "signetd says it serves https"

api "" GET /healthz
assert_status 200 "/healthz over HTTPS, server certificate checked against the server CA (SAN IP:127.0.0.1)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/healthz")
assert_eq "$code" 000 "curl without the server CA does not trust the server (it is our certificate)"
assert_contains "$(openssl s_client -connect "127.0.0.1:$SERVER_PORT" -CAfile "$PKI/server-ca.pem" </dev/null 2>&1)" \
	"Verify return code: 0 (ok)" "openssl s_client verifies the server certificate"

# ---- register the client certificate to a signer principal
new_principal "$ADMIN_KEY" tls-signer '["signer"]'
SIGNER_ID=$P_ID
new_key "$ADMIN_KEY" tls-ec EC-P256
KID=$K_ID
require "export the key" fetch_pem "$KID" 1 "$E2E_TMP/pub.pem"
api "$ADMIN_KEY" POST "/v1/principals/$SIGNER_ID/client-certs" \
	"$(jq -cn --rawfile pem "$PKI/client.pem" '{certificate_pem:$pem}')"
assert_status 201 "register the client certificate to the signer"
want_fp=$(openssl x509 -in "$PKI/client.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
assert_json .fingerprint_sha256 "$want_fp" "the registration reports the certificate's SHA-256 fingerprint"
assert_json .principal_id "$SIGNER_ID" "the registration names the signer"
api "$ADMIN_KEY" POST "/v1/principals/$SIGNER_ID/client-certs" \
	"$(jq -cn --rawfile pem "$PKI/client.pem" '{certificate_pem:$pem}')"
assert_error 409 CONFLICT "registering the same certificate twice"
api "$ADMIN_KEY" POST "/v1/principals/$SIGNER_ID/client-certs" '{"certificate_pem":"-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----\n"}'
assert_error 400 INVALID_ARGUMENT "registering something that is not a certificate"
api "$SIGNER_ID" POST "/v1/principals/$SIGNER_ID/client-certs" \
	"$(jq -cn --rawfile pem "$PKI/stranger.pem" '{certificate_pem:$pem}')"
assert_error 401 UNAUTHENTICATED "registering a certificate without a valid credential"

# ---- sign with the certificate alone
printf 'mTLS artifact\n' >"$E2E_TMP/a.txt"
digest_file SHA-256 "$E2E_TMP/a.txt" "$E2E_TMP/d.bin"
D=$(b64 "$E2E_TMP/d.bin")
CERT=(--cert "$PKI/client.pem" --key "$PKI/client.key")
api "" POST /v1/sign "$(sign_body "$KID" "$D" SHA-256)" "${CERT[@]}"
assert_status 200 "sign with the registered client certificate and no API key"
b64_decode_to "$(jget .signature)" "$E2E_TMP/a.sig"
assert_ok "openssl verifies the signature made over mTLS" \
	openssl dgst -sha256 -verify "$E2E_TMP/pub.pem" -signature "$E2E_TMP/a.sig" "$E2E_TMP/a.txt"
api "" GET "/v1/signatures/$(jget .signature_id)" "" "${CERT[@]}"
assert_status 200 "read the record with the client certificate"
assert_json .created_by "$SIGNER_ID" "the record names the certificate's principal as created_by"
api "" POST /v1/keys '{"alias":"cert-made","algorithm":"EC-P256"}' "${CERT[@]}"
assert_error 403 PERMISSION_DENIED "the certificate carries the signer's roles only (no key creation)"

# ---- refused certificates
api "" POST /v1/sign "$(sign_body "$KID" "$D" SHA-256)" --cert "$PKI/rogue.pem" --key "$PKI/rogue.key"
if [ "$STATUS" = 000 ]; then
	ok "a certificate from a rogue CA: refused in the TLS handshake"
else
	assert_error 401 UNAUTHENTICATED "a certificate from a rogue CA"
fi
api "" POST /v1/sign "$(sign_body "$KID" "$D" SHA-256)" --cert "$PKI/stranger.pem" --key "$PKI/stranger.key"
assert_error 401 UNAUTHENTICATED "a certificate from the right CA that is not registered"
new_principal "$ADMIN_KEY" tls-signer2 '["signer"]'
api "$P_KEY" POST /v1/sign "$(sign_body "$KID" "$D" SHA-256)" --cert "$PKI/stranger.pem" --key "$PKI/stranger.key"
assert_error 401 UNAUTHENTICATED "an unregistered certificate is refused even beside a valid API key"
api "$P_KEY" POST /v1/sign "$(sign_body "$KID" "$D" SHA-256)"
assert_status 200 "... while that API key alone works over HTTPS"
api "" POST /v1/sign "$(sign_body "$KID" "$D" SHA-256)"
assert_error 401 UNAUTHENTICATED "no certificate and no API key"

# ---- protocol versions
api "" GET /healthz "" --tlsv1.2 --tls-max 1.2
assert_status 200 "TLS 1.2 is accepted"
api "" GET /healthz "" --tlsv1.3
assert_status 200 "TLS 1.3 is accepted"

# Control: show this client really can speak TLS 1.1 (to a throw-away
# openssl s_server), so that its failure against signetd means something.
TLS11_CIPHERS='DEFAULT:@SECLEVEL=0'
timeout 20 openssl s_server -accept 127.0.0.1:0 -naccept 1 -www -tls1_1 -cipher "$TLS11_CIPHERS" \
	-cert "$PKI/server.pem" -key "$PKI/server.key" >"$E2E_TMP/s_server.out" 2>&1 &
S_SERVER_PID=$!
port=""
for ((i = 0; i < 100; i++)); do
	port=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$E2E_TMP/s_server.out")
	[ -n "$port" ] && break
	sleep 0.05
done
control=000
if [ -n "$port" ]; then
	control=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$PKI/server-ca.pem" --tlsv1.1 --tls-max 1.1 \
		--ciphers "$TLS11_CIPHERS" "https://127.0.0.1:$port/")
fi
kill "$S_SERVER_PID" 2>/dev/null
wait "$S_SERVER_PID" 2>/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' "${CURL_TLS[@]}" --tlsv1.1 --tls-max 1.1 --ciphers "$TLS11_CIPHERS" \
	"$BASE_URL/healthz")
if [ "$control" = 200 ]; then
	ok "control: this curl speaks TLS 1.1 to an openssl s_server that offers it"
	assert_eq "$code" 000 "TLS 1.1 is refused by signetd"
else
	skip "TLS 1.1 refusal: this machine's curl/openssl cannot speak TLS 1.1 at all (control got $control)"
fi
assert_fails "openssl s_client -tls1_1 cannot connect" \
	openssl s_client -connect "127.0.0.1:$SERVER_PORT" -tls1_1 -cipher "$TLS11_CIPHERS" </dev/null

# ---- plain HTTP on the TLS port
code=$(curl -s -o "$E2E_TMP/plain.out" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$SERVER_PORT/healthz")
assert_ne "$code" 200 "plain HTTP to the TLS port does not get an answer (got $code)"
code=$(curl -s -o "$E2E_TMP/plain.out" -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $ADMIN_KEY" \
	"http://127.0.0.1:$SERVER_PORT/v1/keys")
assert_ne "$code" 200 "plain HTTP with an API key to the TLS port is not served"
if grep -q tls-ec "$E2E_TMP/plain.out" 2>/dev/null; then
	fail "no key data over plain HTTP" "$(head -c 300 "$E2E_TMP/plain.out")"
else
	ok "no key data over plain HTTP"
fi
api "" GET /healthz
assert_status 200 "signetd still serves HTTPS after the refused connections"

e2e_finish
