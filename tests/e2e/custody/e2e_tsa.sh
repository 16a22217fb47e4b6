#!/usr/bin/env bash
#
# e2e_tsa.sh - signetd's RFC 3161 time-stamp authority (issue 5), judged by
# `openssl ts`: a query made by openssl is granted with its nonce and
# verifies against the certificate from GET /tsa/certificate, which has a
# critical timeStamping EKU; junk gets a rejection reply, not a dropped
# connection; serial numbers keep increasing across a restart;
# `timestamp: true` on /v1/sign stamps the hash of the signature bytes;
# and `signet verify-file` checks such a stamp offline when it can.
#
# The TSA key is a keystore key (issue 8, item 3): no tsa.key and no
# "PRIVATE KEY" anywhere in the data directory or the database dump, the
# store row keeps the same key and certificate across a restart; with
# SIGNET_TSA_STORAGE=HSM the key is a SoftHSM2 token object (pkcs11-tool)
# and tokens still verify; RSA-3072 works too; a data directory of an
# older version keeps its clear tsa.key (with a warning) until the
# operator deletes it, and then gets a keystore key; a tsa.crt without a
# store row, or HSM storage without an HSM, stops the start.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2
. "$(dirname "${BASH_SOURCE[0]}")/hsm.sh" || exit 2

W=$E2E_TMP/work
mkdir -p "$W"
DATA=$E2E_TMP/data
ADMIN_KEY="e2e-tsa-admin-$RANDOM-$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$DATA" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
new_principal "$ADMIN_KEY" tsa-signer '["signer"]'
SIGNER_KEY=$P_KEY

# tsa_post QUERY-FILE REPLY-FILE: POST /tsa without credentials; sets
# TSA_STATUS and TSA_CT
tsa_post() {
	local hdr=$W/tsa.hdr
	TSA_STATUS=$(curl -s -o "$2" -D "$hdr" -w '%{http_code}' --max-time 30 -X POST \
		-H 'Content-Type: application/timestamp-query' --data-binary "@$1" "$BASE_URL/tsa")
	TSA_CT=$(tr -d '\r' <"$hdr" | awk -F': ' 'tolower($1) == "content-type" { print $2 }')
}

# reply_field REPLY-FILE FIELD [-token_in]: a "Field: value" line of `openssl ts -reply -text`
reply_field() {
	openssl ts -reply -in "$1" ${3:-} -text 2>/dev/null | sed -n "s/^$2: //p" | head -n1
}

shopt -s extglob
# hex_gt A B: A > B for hex numbers of any length ("0x..." as openssl prints them)
hex_gt() {
	local a=${1#0x} b=${2#0x}
	a=${a^^} b=${b^^}
	a=${a##+(0)} b=${b##+(0)}
	if [ "${#a}" -ne "${#b}" ]; then
		[ "${#a}" -gt "${#b}" ]
	else
		[[ "$a" > "$b" ]]
	fi
}

# ---------------------------------------------------------------- the certificate

curl -s -o "$W/tsa.pem" -D "$W/cert.hdr" -w '%{http_code}' "$BASE_URL/tsa/certificate" >"$W/cert.status"
assert_eq "$(cat "$W/cert.status")" 200 "GET /tsa/certificate without credentials -> 200"
assert_match "$(tr -d '\r' <"$W/cert.hdr")" $'(^|\n)[Cc]ontent-[Tt]ype: application/x-pem-file' \
	"the TSA certificate comes as application/x-pem-file"
CERT_TEXT=$(openssl x509 -in "$W/tsa.pem" -noout -text 2>&1)
assert_match "$CERT_TEXT" $'X509v3 Extended Key Usage: critical\n *Time Stamping\n' \
	"the TSA certificate has a critical extendedKeyUsage of timeStamping only"
assert_match "$CERT_TEXT" $'X509v3 Key Usage: critical\n *Digital Signature\n' "... and keyUsage critical digitalSignature"
assert_match "$CERT_TEXT" 'CA:FALSE' "... and is not a CA"
assert_eq "$(openssl x509 -in "$W/tsa.pem" -noout -subject -nameopt RFC2253)" "subject=CN=Signet TSA" \
	"the TSA certificate's subject is CN=Signet TSA"
assert_eq "$(openssl x509 -in "$W/tsa.pem" -outform DER | to_hex)" \
	"$(openssl x509 -in "$DATA/tsa.crt" -outform DER | to_hex)" "it is the tsa.crt of the data directory"
TSA_FP=$(openssl x509 -in "$W/tsa.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)

# ---------------------------------------------------------------- the key is in the keystore

# no_clear_key DATA WHAT: no tsa.key, no PEM private key in any file of
# DATA, none in the database dump; the store has the TSA key row.
no_clear_key() {
	local data=$1 what=$2 hits
	assert_fails "$what: there is no tsa.key in the data directory" test -e "$data/tsa.key"
	hits=$(grep -rla 'PRIVATE KEY' "$data" 2>/dev/null)
	assert_eq "$hits" "" "$what: no file of the data directory holds a PEM private key"
	sqlite3 "$data/signet.db" .dump >"$W/dump.sql"
	assert_not_contains "$(cat "$W/dump.sql")" "PRIVATE KEY" "$what: the database dump holds no PEM private key"
	assert_contains "$(cat "$W/dump.sql")" "BEGIN CERTIFICATE" "$what: ... but the dump does hold the TSA certificate"
}
no_clear_key "$DATA" "first start"
assert_eq "$(sqlite3 "$DATA/signet.db" 'SELECT alg || " " || storage FROM tsa_key')" "EC-P256 DISK" \
	"the store records the TSA key: EC-P256 in storage DISK"
sqlite3 "$DATA/signet.db" 'SELECT cert_pem FROM tsa_key' >"$W/row.pem"
assert_eq "$(openssl x509 -in "$W/row.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)" "$TSA_FP" \
	"the store row's certificate is the served one"
assert_match "$(sqlite3 "$DATA/signet.db" 'SELECT hex(substr(handle, 1, 3)) FROM tsa_key')" '^53474B$' \
	"the row's handle is a sealed blob (SGK...)"
assert_eq "$(openssl verify -check_ss_sig -CAfile "$W/tsa.pem" "$W/tsa.pem" 2>&1 | tail -n1)" "$W/tsa.pem: OK" \
	"openssl verify -check_ss_sig: the keystore's self-signature on the TSA certificate is good"

# ---------------------------------------------------------------- a query

head -c 10000 /dev/urandom >"$W/file.bin"
openssl ts -query -data "$W/file.bin" -sha256 -cert -out "$W/q1.tsq" 2>/dev/null
QNONCE=$(openssl ts -query -in "$W/q1.tsq" -text 2>/dev/null | sed -n 's/^Nonce: //p')
require "openssl made a query with a nonce" [ -n "$QNONCE" ]
tsa_post "$W/q1.tsq" "$W/r1.tsr"
assert_eq "$TSA_STATUS" 200 "POST /tsa with an openssl query -> 200"
assert_eq "$TSA_CT" application/timestamp-reply "the reply is application/timestamp-reply"
assert_eq "$(reply_field "$W/r1.tsr" Status)" "Granted." "the reply is granted"
assert_eq "$(reply_field "$W/r1.tsr" Nonce)" "$QNONCE" "the reply echoes the query's nonce ($QNONCE)"
assert_eq "$(reply_field "$W/r1.tsr" 'Hash Algorithm')" sha256 "the token stamps a SHA-256 imprint"
assert_eq "$(reply_field "$W/r1.tsr" TSA)" "DirName:/CN=Signet TSA" "the token names the TSA"
assert_eq "$(reply_field "$W/r1.tsr" 'Policy OID')" "2.25.314270499503092785436115663385519827620.1" \
	"the token carries the default policy"
assert_eq "$(openssl ts -verify -in "$W/r1.tsr" -queryfile "$W/q1.tsq" -CAfile "$W/tsa.pem" 2>&1 | tail -n1)" \
	"Verification: OK" "openssl ts -verify -queryfile -CAfile tsa.pem: Verification: OK"
assert_eq "$(openssl ts -verify -in "$W/r1.tsr" -data "$W/file.bin" -CAfile "$W/tsa.pem" 2>&1 | tail -n1)" \
	"Verification: OK" "openssl ts -verify -data file: Verification: OK"
head -c 10000 /dev/urandom >"$W/other.bin"
assert_fails "openssl ts -verify refuses the reply for another file" \
	openssl ts -verify -in "$W/r1.tsr" -data "$W/other.bin" -CAfile "$W/tsa.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/fake.key" -out "$W/fake.pem" \
	-subj "/CN=Signet TSA" -days 1 >/dev/null 2>&1
assert_fails "openssl ts -verify refuses the reply against another certificate with the same name" \
	openssl ts -verify -in "$W/r1.tsr" -queryfile "$W/q1.tsq" -CAfile "$W/fake.pem"
SERIAL1=$(reply_field "$W/r1.tsr" 'Serial number')

openssl ts -query -data "$W/file.bin" -sha512 -cert -out "$W/q2.tsq" 2>/dev/null
tsa_post "$W/q2.tsq" "$W/r2.tsr"
assert_eq "$(reply_field "$W/r2.tsr" Status)" "Granted." "a SHA-512 query is granted"
assert_eq "$(openssl ts -verify -in "$W/r2.tsr" -queryfile "$W/q2.tsq" -CAfile "$W/tsa.pem" 2>&1 | tail -n1)" \
	"Verification: OK" "... and verifies"
SERIAL2=$(reply_field "$W/r2.tsr" 'Serial number')
if hex_gt "$SERIAL2" "$SERIAL1"; then
	ok "serial numbers increase ($SERIAL1 < $SERIAL2)"
else
	fail "serial numbers increase" "first $SERIAL1, then $SERIAL2"
fi

# ---------------------------------------------------------------- rejections

head -c 300 /dev/urandom >"$W/junk.tsq"
tsa_post "$W/junk.tsq" "$W/junk.tsr"
assert_eq "$TSA_STATUS" 200 "random bytes to /tsa -> HTTP 200"
assert_eq "$TSA_CT" application/timestamp-reply "... with a timestamp-reply"
assert_eq "$(reply_field "$W/junk.tsr" Status)" "Rejected." "openssl reads it as a rejection"
assert_match "$(reply_field "$W/junk.tsr" 'Failure info')" 'wrong format' "... with failInfo badDataFormat"
: >"$W/empty.tsq"
tsa_post "$W/empty.tsq" "$W/empty.tsr"
assert_eq "$TSA_STATUS:$(reply_field "$W/empty.tsr" Status)" "200:Rejected." "an empty query gets a rejection reply"
openssl ts -query -data "$W/file.bin" -sha1 -cert -out "$W/q-sha1.tsq" 2>/dev/null
tsa_post "$W/q-sha1.tsq" "$W/r-sha1.tsr"
assert_eq "$(reply_field "$W/r-sha1.tsr" Status)" "Rejected." "a SHA-1 query is rejected"
assert_match "$(reply_field "$W/r-sha1.tsr" 'Failure info')" 'algorithm' "... with failInfo badAlg"
api "" POST /tsa "" -H 'Content-Type: application/octet-stream' --data-binary "@$W/q1.tsq"
assert_error 415 UNSUPPORTED_MEDIA_TYPE "POST /tsa with another Content-Type"
assert_eq "$(healthz)" 200 "signetd is alive after the junk"
tsa_post "$W/q1.tsq" "$W/r1b.tsr"
assert_eq "$(reply_field "$W/r1b.tsr" Status)" "Granted." "and still grants good queries"

# ---------------------------------------------------------------- timestamps on signatures

new_key "$ADMIN_KEY" tsa-ec EC-P256
EC=$K_ID
new_key "$ADMIN_KEY" tsa-rsa RSA-2048
RSA=$K_ID
require "export tsa-ec" fetch_pem "$EC" 1 "$W/ec.pem"
head -c 4000 /dev/urandom >"$W/art.bin"

# stamp_sign KEY HASH NAME: sign art.bin's digest with timestamp:true; writes
# NAME.sig and NAME.tsd (token DER); sets SIG_ID
stamp_sign() {
	local key=$1 h=$2 name=$3 tok
	digest_file "$h" "$W/art.bin" "$W/art.$h"
	api "$SIGNER_KEY" POST /v1/sign "$(sign_body "$key" "$(b64 "$W/art.$h")" "$h" '{"timestamp":true}')"
	assert_status 200 "$name: sign with timestamp: true"
	jfield signature_id SIG_ID
	b64_decode_to "$(jget .signature)" "$W/$name.sig"
	tok=$(jget '.timestamp_token // ""')
	assert_ne "$tok" "" "$name: the answer has a timestamp_token"
	b64_decode_to "$tok" "$W/$name.tsd"
	TOKEN_B64=$tok
}

stamp_sign "$EC" SHA-256 ec256
EC_SIG_ID=$SIG_ID
EC_TOKEN=$TOKEN_B64
assert_ok "ec256: openssl verifies the signature itself" \
	openssl dgst -sha256 -verify "$W/ec.pem" -signature "$W/ec256.sig" "$W/art.bin"
assert_eq "$(reply_field "$W/ec256.tsd" 'Hash Algorithm' -token_in)" sha256 "ec256: the token's imprint is SHA-256"
SIGHASH=$(openssl dgst -sha256 -r "$W/ec256.sig" | cut -d' ' -f1)
assert_eq "$(openssl ts -verify -in "$W/ec256.tsd" -token_in -digest "$SIGHASH" -CAfile "$W/tsa.pem" 2>&1 | tail -n1)" \
	"Verification: OK" "ec256: the token's imprint is the SHA-256 of the signature bytes ($SIGHASH)"
assert_eq "$(openssl ts -verify -in "$W/ec256.tsd" -token_in -data "$W/ec256.sig" -CAfile "$W/tsa.pem" 2>&1 | tail -n1)" \
	"Verification: OK" "ec256: openssl ts -verify -token_in -data sig.bin -CAfile tsa.pem: Verification: OK"
assert_fails "ec256: the token does not verify over the artifact's digest (it stamps the signature)" \
	openssl ts -verify -in "$W/ec256.tsd" -token_in -digest "$(to_hex "$W/art.SHA-256")" -CAfile "$W/tsa.pem"
SERIAL_SIGN=$(reply_field "$W/ec256.tsd" 'Serial number' -token_in)
if hex_gt "$SERIAL_SIGN" "$SERIAL2"; then
	ok "a signature's token continues the serial numbers of /tsa ($SERIAL2 < $SERIAL_SIGN)"
else
	fail "a signature's token continues the serial numbers of /tsa" "/tsa gave $SERIAL2, the sign token $SERIAL_SIGN"
fi
api "$SIGNER_KEY" GET "/v1/signatures/$EC_SIG_ID"
assert_json .timestamp_token "$EC_TOKEN" "ec256: the signature record keeps the same timestamp_token"

stamp_sign "$RSA" SHA-384 rsa384
assert_eq "$(reply_field "$W/rsa384.tsd" 'Hash Algorithm' -token_in)" sha384 \
	"rsa384: the token of a SHA-384 request uses SHA-384, as documented"
assert_eq "$(openssl ts -verify -in "$W/rsa384.tsd" -token_in -data "$W/rsa384.sig" -CAfile "$W/tsa.pem" 2>&1 | tail -n1)" \
	"Verification: OK" "rsa384: the token verifies over the signature bytes"

digest_file SHA-256 "$W/art.bin" "$W/art.d"
api "$SIGNER_KEY" POST /v1/sign "$(sign_body "$EC" "$(b64 "$W/art.d")" SHA-256)"
assert_json 'has("timestamp_token")' false "a sign without timestamp has no timestamp_token"

api "$ADMIN_KEY" POST /v1/policies '{"project":"tsa","slug":"stamped","key":"tsa-ec","timestamp":true}'
assert_status 201 "a policy with timestamp: true"
api "$SIGNER_KEY" POST /v1/sign "$(jq -cn --arg d "$(b64 "$W/art.d")" '{policy:"tsa/stamped",digest:$d,hash_algorithm:"SHA-256"}')"
assert_status 200 "sign under the stamping policy"
b64_decode_to "$(jget .signature)" "$W/pol.sig"
b64_decode_to "$(jget '.timestamp_token // ""')" "$W/pol.tsd"
assert_eq "$(openssl ts -verify -in "$W/pol.tsd" -token_in -data "$W/pol.sig" -CAfile "$W/tsa.pem" 2>&1 | tail -n1)" \
	"Verification: OK" "the policy's signature is stamped and the token verifies"

# ---------------------------------------------------------------- signet verify-file

if [ -z "${SIGNET_CLI:-}" ] || [ ! -x "$SIGNET_CLI" ]; then
	skip "signet verify-file with a time stamp (SIGNET_CLI not set)"
elif ! "$SIGNET_CLI" verify-file --help 2>&1 | grep -q -- '--tsa-cert'; then
	skip "signet verify-file with a time stamp (this CLI has no --tsa-cert yet)"
else
	# a signet-bundle-v1 written here from the sign answer, so only
	# verify-file is under test
	api "$SIGNER_KEY" GET "/v1/signatures/$EC_SIG_ID"
	jq --rawfile pem "$W/ec.pem" '{format:"signet-bundle-v1", file:"art.bin", key_id, key_alias:"tsa-ec",
		key_version, key_algorithm:"EC-P256", signature_algorithm, hash_algorithm, signature_format,
		digest, signature, public_key_pem:$pem, timestamp_token, signature_id:.id, request_id, created_at}' \
		<<<"$RESP" >"$W/ec.bundle.json"
	out=$("$SIGNET_CLI" verify-file "$W/art.bin" --bundle "$W/ec.bundle.json" --tsa-cert "$W/tsa.pem" 2>&1)
	rc=$?
	assert_eq "$rc" 0 "signet verify-file --bundle --tsa-cert accepts the stamped signature offline"
	assert_contains "$out" "signature valid" "... and says so"
	# the token of another signature does not fit this one
	jq --arg t "$(b64 "$W/rsa384.tsd")" '.timestamp_token = $t' "$W/ec.bundle.json" >"$W/swapped.bundle.json"
	out=$("$SIGNET_CLI" verify-file "$W/art.bin" --bundle "$W/swapped.bundle.json" --tsa-cert "$W/tsa.pem" 2>&1)
	rc=$?
	assert_ne "$rc" 0 "signet verify-file refuses a bundle whose time stamp belongs to another signature ($out)"
	out=$("$SIGNET_CLI" verify-file "$W/art.bin" --bundle "$W/ec.bundle.json" --tsa-cert "$W/fake.pem" 2>&1)
	rc=$?
	assert_ne "$rc" 0 "signet verify-file refuses the time stamp against another TSA certificate ($out)"
fi

# ---------------------------------------------------------------- restart

stop_server
assert_eq "$SERVER_EXIT" 0 "signetd stops cleanly"
require "signetd restarts on the same data" start_server "$DATA" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
curl -s -o "$W/tsa2.pem" "$BASE_URL/tsa/certificate"
assert_eq "$(openssl x509 -in "$W/tsa2.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)" "$TSA_FP" \
	"the TSA keeps its certificate across the restart"
openssl ts -query -data "$W/file.bin" -sha256 -cert -out "$W/q3.tsq" 2>/dev/null
tsa_post "$W/q3.tsq" "$W/r3.tsr"
assert_eq "$(reply_field "$W/r3.tsr" Status)" "Granted." "a query after the restart is granted"
assert_eq "$(openssl ts -verify -in "$W/r3.tsr" -queryfile "$W/q3.tsq" -CAfile "$W/tsa.pem" 2>&1 | tail -n1)" \
	"Verification: OK" "... and verifies with the certificate fetched before the restart"
SERIAL3=$(reply_field "$W/r3.tsr" 'Serial number')
if hex_gt "$SERIAL3" "$SERIAL_SIGN"; then
	ok "serial numbers keep increasing across the restart ($SERIAL_SIGN < $SERIAL3)"
else
	fail "serial numbers keep increasing across the restart" "before $SERIAL_SIGN, after $SERIAL3"
fi
assert_eq "$(openssl ts -verify -in "$W/ec256.tsd" -token_in -data "$W/ec256.sig" -CAfile "$W/tsa2.pem" 2>&1 | tail -n1)" \
	"Verification: OK" "a token from before the restart verifies with the certificate served after it"
no_clear_key "$DATA" "after the restart"
assert_eq "$(sqlite3 "$DATA/signet.db" 'SELECT count(*) FROM tsa_key')" 1 "the store still has one TSA key"
stop_server

# ---------------------------------------------------------------- helpers for more servers

# stamp_both NAME CERT-FILE: a /tsa reply and a `timestamp: true` token from
# the current server, each verified by openssl against CERT-FILE.  Needs
# ADMIN_KEY; makes a signer and an EC key on the server.
stamp_both() {
	local name=$1 cert=$2 signer key
	openssl ts -query -data "$W/file.bin" -sha256 -cert -out "$W/$name.tsq" 2>/dev/null
	tsa_post "$W/$name.tsq" "$W/$name.tsr"
	assert_eq "$(reply_field "$W/$name.tsr" Status)" "Granted." "$name: a /tsa query is granted"
	assert_eq "$(openssl ts -verify -in "$W/$name.tsr" -queryfile "$W/$name.tsq" -CAfile "$cert" 2>&1 | tail -n1)" \
		"Verification: OK" "$name: openssl ts -verify accepts the /tsa reply"
	new_principal "$ADMIN_KEY" "$name-signer" '["signer"]'
	signer=$P_KEY
	new_key "$ADMIN_KEY" "$name-key" EC-P256
	key=$K_ID
	digest_file SHA-256 "$W/art.bin" "$W/$name.d"
	api "$signer" POST /v1/sign "$(sign_body "$key" "$(b64 "$W/$name.d")" SHA-256 '{"timestamp":true}')"
	assert_status 200 "$name: sign with timestamp: true"
	b64_decode_to "$(jget .signature)" "$W/$name.sig"
	b64_decode_to "$(jget '.timestamp_token // ""')" "$W/$name.tsd"
	assert_eq "$(openssl ts -verify -in "$W/$name.tsd" -token_in -data "$W/$name.sig" -CAfile "$cert" 2>&1 | tail -n1)" \
		"Verification: OK" "$name: openssl ts -verify accepts the timestamp: true token"
}

# start_fails WHAT PATTERN DATA [VAR=VALUE...]: signetd must not start, and its log must match PATTERN
start_fails() {
	local what=$1 pattern=$2 data=$3
	shift 3
	if start_server "$data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" "$@" 2>/dev/null; then
		fail "$what: signetd must not start"
		stop_server
		return
	fi
	wait "$SERVER_PID" 2>/dev/null
	SERVER_EXIT=$?
	SERVER_PID=""
	assert_ne "$SERVER_EXIT" 0 "$what: signetd exits non-zero"
	assert_match "$(cat "$SERVER_LOG")" "$pattern" "$what: the log says why"
}

# ---------------------------------------------------------------- storage HSM

require "a fresh SoftHSM2 token" hsm_init custody-tsa
HDATA=$E2E_TMP/data-hsm
require "signetd starts with SIGNET_TSA_STORAGE=HSM" start_hsm_server "$HDATA" \
	SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_TSA_STORAGE=HSM
curl -s -o "$W/tsa-hsm.pem" "$BASE_URL/tsa/certificate"
HSM_FP=$(openssl x509 -in "$W/tsa-hsm.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
assert_ne "$HSM_FP" "$TSA_FP" "the HSM-backed TSA has a certificate of its own"
OBJS=$(hsm_objects)
assert_match "$OBJS" $'(^|\n)Private\|tsa/1\|' "pkcs11-tool lists the TSA key as a private key object labelled tsa/1"
assert_match "$(grep -F 'Private|tsa/1|' <<<"$OBJS")" 'sensitive' "... which is sensitive"
assert_match "$(grep -F 'Private|tsa/1|' <<<"$OBJS")" 'never extractable' "... and was never extractable"
assert_eq "$(sqlite3 "$HDATA/signet.db" 'SELECT storage FROM tsa_key')" HSM "the store records storage HSM"
no_clear_key "$HDATA" "storage HSM"
stamp_both hsm "$W/tsa-hsm.pem"
stop_server
require "signetd restarts on the HSM data" start_hsm_server "$HDATA" \
	SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_TSA_STORAGE=HSM
curl -s -o "$W/tsa-hsm2.pem" "$BASE_URL/tsa/certificate"
assert_eq "$(openssl x509 -in "$W/tsa-hsm2.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)" "$HSM_FP" \
	"the HSM-backed TSA keeps its certificate across a restart"
assert_eq "$(openssl ts -verify -in "$W/hsm.tsd" -token_in -data "$W/hsm.sig" -CAfile "$W/tsa-hsm2.pem" 2>&1 | tail -n1)" \
	"Verification: OK" "a token from before the restart verifies with the certificate served after it"
assert_eq "$(hsm_objects | grep -c '^Private|tsa/1|')" 1 "the restart made no second TSA key in the token"
stop_server
start_fails "the TSA key in the HSM, no HSM configured" 'storage HSM.*not configured' "$HDATA"
start_fails "SIGNET_TSA_STORAGE=HSM without an HSM" 'tsa_storage = HSM needs the HSM' "$E2E_TMP/data-nohsm" \
	SIGNET_TSA_STORAGE=HSM
start_fails "SIGNET_TSA_STORAGE=USB" 'SIGNET_TSA_STORAGE' "$E2E_TMP/data-usb" SIGNET_TSA_STORAGE=USB

# ---------------------------------------------------------------- RSA-3072

RDATA=$E2E_TMP/data-rsa
require "signetd starts with SIGNET_TSA_KEY_TYPE=RSA-3072" start_server "$RDATA" \
	SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_TSA_KEY_TYPE=RSA-3072
curl -s -o "$W/tsa-rsa.pem" "$BASE_URL/tsa/certificate"
assert_contains "$(openssl x509 -in "$W/tsa-rsa.pem" -noout -text)" "Public-Key: (3072 bit)" \
	"the TSA certificate has an RSA-3072 key"
assert_eq "$(sqlite3 "$RDATA/signet.db" 'SELECT alg FROM tsa_key')" RSA-3072 "the store records RSA-3072"
no_clear_key "$RDATA" "RSA-3072"
stamp_both rsa "$W/tsa-rsa.pem"
stop_server

# ---------------------------------------------------------------- a data directory of an older version

ODATA=$E2E_TMP/data-old
mkdir -m 700 "$ODATA"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$ODATA/tsa.key" 2>/dev/null
chmod 600 "$ODATA/tsa.key"
openssl req -x509 -new -key "$ODATA/tsa.key" -out "$ODATA/tsa.crt" -subj "/CN=Signet TSA" -days 30 \
	-addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
	-addext "extendedKeyUsage=critical,timeStamping" 2>/dev/null
OLD_FP=$(openssl x509 -in "$ODATA/tsa.crt" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
require "signetd starts on an older data directory" start_server "$ODATA" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
curl -s -o "$W/tsa-old.pem" "$BASE_URL/tsa/certificate"
assert_eq "$(openssl x509 -in "$W/tsa-old.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)" "$OLD_FP" \
	"an older install keeps its TSA certificate (never changed silently)"
assert_match "$(cat "$SERVER_LOG")" 'WARN.*tsa\.key made by an older signetd.*delete tsa\.key and tsa\.crt' \
	"the log warns that the key is a clear file and says how to move to a keystore key"
assert_eq "$(sqlite3 "$ODATA/signet.db" 'SELECT count(*) FROM tsa_key')" 0 "no keystore key was made behind the operator's back"
stamp_both old "$W/tsa-old.pem"
stop_server
rm "$ODATA/tsa.key" "$ODATA/tsa.crt"
require "signetd starts after the operator deleted tsa.key and tsa.crt" start_server "$ODATA" \
	SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
curl -s -o "$W/tsa-new.pem" "$BASE_URL/tsa/certificate"
assert_ne "$(openssl x509 -in "$W/tsa-new.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)" "$OLD_FP" \
	"... it has a new TSA certificate"
assert_eq "$(sqlite3 "$ODATA/signet.db" 'SELECT storage FROM tsa_key')" DISK "... of a keystore key in storage DISK"
assert_not_contains "$(cat "$SERVER_LOG")" "older signetd" "... and no longer warns"
no_clear_key "$ODATA" "after the move"
stamp_both moved "$W/tsa-new.pem"
assert_fails "a token of the old key does not verify with the new certificate" \
	openssl ts -verify -in "$W/old.tsd" -token_in -data "$W/old.sig" -CAfile "$W/tsa-new.pem"
stop_server

# A certificate without a store row (another install's database?) is not silently replaced.
XDATA=$E2E_TMP/data-orphan
mkdir -m 700 "$XDATA"
cp "$W/tsa.pem" "$XDATA/tsa.crt"
start_fails "tsa.crt without a TSA key in the store" 'tsa\.crt exists but the store has no TSA key' "$XDATA"
assert_eq "$(openssl x509 -in "$XDATA/tsa.crt" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)" "$TSA_FP" \
	"... and tsa.crt is left as it was"

e2e_finish
