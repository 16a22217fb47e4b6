#!/usr/bin/env bash
#
# e2e_hsm_lifecycle.sh - the life of HSM and DISK keys (issue 5):
# OFFLINE / ONLINE / DISABLED stop and restart signing for both storages;
# rotating an HSM key adds a token key pair that signs from then on while
# version-1 signatures keep verifying; destroying version 1 removes its
# objects from the token (pkcs11-tool counts them) but keeps its public key
# and signature records; when the token's directory disappears under a
# running signetd, HSM signing answers 503 UNAVAILABLE while DISK keys
# still sign, and it comes back when the token does.  The PIN is given in
# the environment here and must not reach any log.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2
. "$(dirname "${BASH_SOURCE[0]}")/hsm.sh" || exit 2

W=$E2E_TMP/work
mkdir -p "$W"
require "a fresh SoftHSM2 token" hsm_init custody-life
ADMIN_KEY="e2e-life-admin-$RANDOM-$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts with the token (PIN from SIGNET_PKCS11_PIN)" \
	start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_PKCS11_MODULE="$HSM_MODULE" \
	SIGNET_PKCS11_TOKEN="$HSM_LABEL" SIGNET_PKCS11_PIN="$HSM_PIN"
new_principal "$ADMIN_KEY" life-signer '["signer"]'
SIGNER_KEY=$P_KEY

head -c 3000 /dev/urandom >"$W/a.bin"
head -c 5000 /dev/urandom >"$W/b.bin"
digest_file SHA-256 "$W/a.bin" "$W/a.d"
digest_file SHA-256 "$W/b.bin" "$W/b.d"

# sign_verify WHAT KEY PEM FILE DIGEST [EXTRA]: sign, expect 200 and a
# signature that openssl verifies over FILE with PEM; SIG_FILE is kept.
sign_verify() {
	local what=$1 key=$2 pem=$3 file=$4 dig=$5
	sign_req "$SIGNER_KEY" "$key" SHA-256 "$dig" "${6:-{\}}"
	assert_status 200 "$what"
	SIG_FILE=$W/sig.$RANDOM.bin
	if [ "$STATUS" = 200 ]; then
		b64_decode_to "$SIG_B64" "$SIG_FILE"
		assert_ok "$what: openssl verifies the signature" \
			openssl dgst -sha256 -verify "$pem" -signature "$SIG_FILE" "$file"
	fi
}

new_hsm_key() {
	api "$ADMIN_KEY" POST /v1/keys "$(jq -cn --arg a "$1" --arg g "$2" --arg s "$3" \
		'{alias:$a,algorithm:$g,storage:$s}')"
	require "create $3 key $1 ($2): got $STATUS $RESP" [ "$STATUS" = 201 ]
	K_ID=$(jget .id)
}

# ---------------------------------------------------------------- status changes

declare -A KID PEM
for storage in HSM DISK; do
	new_hsm_key "life-${storage,,}" EC-P256 "$storage"
	KID[$storage]=$K_ID
	PEM[$storage]=$W/life-$storage.pem
	require "$storage: export the public key" fetch_pem "$K_ID" 1 "${PEM[$storage]}" "$SIGNER_KEY"
done
assert_eq "$(hsm_count Private "${KID[HSM]}/")" 1 "the HSM key has its private object in the token"
assert_eq "$(hsm_count Private "${KID[DISK]}/")" 0 "the DISK key has nothing in the token"

for storage in HSM DISK; do
	k=${KID[$storage]}
	pem=${PEM[$storage]}
	sign_verify "$storage: sign while ONLINE" "$k" "$pem" "$W/a.bin" "$W/a.d"

	api "$ADMIN_KEY" PATCH "/v1/keys/$k" '{"status":"OFFLINE"}'
	assert_status 200 "$storage: set OFFLINE"
	assert_json .status OFFLINE "$storage: the key says OFFLINE"
	sign_req "$SIGNER_KEY" "$k" SHA-256 "$W/a.d"
	assert_error 409 KEY_NOT_ACTIVE "$storage: sign while OFFLINE"
	assert_contains "$(jget .error.message)" OFFLINE "$storage: the refusal names the status OFFLINE"
	api "$SIGNER_KEY" GET "/v1/keys/$k/public-key?version=1"
	assert_status 200 "$storage: an OFFLINE key still exports its public key"

	api "$ADMIN_KEY" PATCH "/v1/keys/$k" '{"status":"ONLINE"}'
	assert_status 200 "$storage: set ONLINE again"
	assert_json .status ONLINE "$storage: the key says ONLINE"
	sign_verify "$storage: sign after coming back ONLINE" "$k" "$pem" "$W/b.bin" "$W/b.d"

	api "$ADMIN_KEY" PATCH "/v1/keys/$k" '{"status":"DISABLED"}'
	assert_status 200 "$storage: set DISABLED"
	sign_req "$SIGNER_KEY" "$k" SHA-256 "$W/a.d"
	assert_error 409 KEY_NOT_ACTIVE "$storage: sign while DISABLED"
	assert_contains "$(jget .error.message)" DISABLED "$storage: the refusal names the status DISABLED"
	api "$ADMIN_KEY" POST "/v1/keys/$k/rotate"
	assert_error 409 KEY_NOT_ACTIVE "$storage: rotate while DISABLED"
	api "$ADMIN_KEY" GET "/v1/keys/$k"
	assert_json .current_version 1 "$storage: the refused rotation added no version"

	api "$ADMIN_KEY" PATCH "/v1/keys/$k" '{"status":"ONLINE"}'
	assert_status 200 "$storage: re-enable"
	sign_verify "$storage: sign after re-enabling" "$k" "$pem" "$W/a.bin" "$W/a.d"
done
assert_eq "$(hsm_count Private "${KID[HSM]}/")" 1 "status changes left the HSM key's private object in place"

# ---------------------------------------------------------------- rotation and destruction

new_hsm_key rot-hsm RSA-2048 HSM
RK=$K_ID
require "rot-hsm: export version 1" fetch_pem "$RK" 1 "$W/rot.v1.pem" "$SIGNER_KEY"
assert_eq "$(hsm_pub_fingerprint "$RK/1")" "$(pem_fingerprint "$W/rot.v1.pem")" \
	"rot-hsm: version 1's public key is the token's object $RK/1"
sign_verify "rot-hsm: version 1 signs" "$RK" "$W/rot.v1.pem" "$W/a.bin" "$W/a.d"
V1_SIG=$SIG_FILE
V1_SIG_ID=$SIG_ID
V1_SIG_B64=$SIG_B64
assert_eq "$SIG_VERSION" 1 "rot-hsm: the signature is by version 1"

ALL_BEFORE=$(hsm_count)
PRIV_BEFORE=$(hsm_count Private)
api "$ADMIN_KEY" POST "/v1/keys/$RK/rotate"
assert_status 200 "rot-hsm: rotate"
assert_json .current_version 2 "rot-hsm: version 2 is current"
assert_json .storage HSM "rot-hsm: still an HSM key"
assert_eq "$(hsm_count Private "$RK/2")" 1 "rot-hsm: rotation made a private key object $RK/2 in the token"
assert_eq "$(hsm_count Public "$RK/2")" 1 "rot-hsm: ... and its public key object"
assert_eq "$(hsm_count)" "$((ALL_BEFORE + 2))" "rot-hsm: the token holds two more objects after rotation"
require "rot-hsm: export version 2" fetch_pem "$RK" 2 "$W/rot.v2.pem" "$SIGNER_KEY"
assert_eq "$(hsm_pub_fingerprint "$RK/2")" "$(pem_fingerprint "$W/rot.v2.pem")" \
	"rot-hsm: version 2's public key is the token's object $RK/2"
assert_ne "$(pem_fingerprint "$W/rot.v2.pem")" "$(pem_fingerprint "$W/rot.v1.pem")" "rot-hsm: version 2 is a new key pair"

sign_verify "rot-hsm: version 2 signs" "$RK" "$W/rot.v2.pem" "$W/b.bin" "$W/b.d"
assert_eq "$SIG_VERSION" 2 "rot-hsm: the new signature is by version 2"
assert_fails "rot-hsm: the version-2 signature does not verify with version 1's key" \
	openssl dgst -sha256 -verify "$W/rot.v1.pem" -signature "$SIG_FILE" "$W/b.bin"
require "rot-hsm: export version 1 after rotation" fetch_pem "$RK" 1 "$W/rot.v1b.pem" "$SIGNER_KEY"
assert_ok "rot-hsm: the version-1 signature still verifies with ?version=1's key" \
	openssl dgst -sha256 -verify "$W/rot.v1b.pem" -signature "$V1_SIG" "$W/a.bin"
sign_req "$SIGNER_KEY" "$RK" SHA-256 "$W/a.d" '{"key_version":1}'
assert_error 409 KEY_NOT_ACTIVE "rot-hsm: key_version 1 no longer signs"

api "$ADMIN_KEY" DELETE "/v1/keys/$RK/versions/1"
assert_status 200 "rot-hsm: destroy version 1"
assert_json .state DESTROYED "rot-hsm: version 1 is DESTROYED"
assert_eq "$(hsm_count "" "$RK/1")" 0 "rot-hsm: version 1's objects are gone from the token"
assert_eq "$(hsm_count Private)" "$((PRIV_BEFORE))" \
	"rot-hsm: the token's private object count dropped back by one (rotation +1, destroy -1)"
assert_eq "$(hsm_count)" "$ALL_BEFORE" "rot-hsm: the token's object count dropped by two (private and public)"
assert_eq "$(hsm_count Private "$RK/2")" 1 "rot-hsm: version 2's private object is still there"

require "rot-hsm: export destroyed version 1" fetch_pem "$RK" 1 "$W/rot.v1c.pem" "$SIGNER_KEY"
assert_eq "$(pem_fingerprint "$W/rot.v1c.pem")" "$(pem_fingerprint "$W/rot.v1.pem")" \
	"rot-hsm: the destroyed version's public key is still exported, unchanged"
api "$SIGNER_KEY" GET "/v1/signatures/$V1_SIG_ID"
assert_status 200 "rot-hsm: the version-1 signature record survives destruction"
assert_json .key_version 1 "rot-hsm: the record still says version 1"
assert_json .signature "$V1_SIG_B64" "rot-hsm: the record still holds the signature"
b64_decode_to "$(jget .signature)" "$W/rec.sig"
assert_ok "rot-hsm: openssl verifies the recorded version-1 signature with the destroyed version's key" \
	openssl dgst -sha256 -verify "$W/rot.v1c.pem" -signature "$W/rec.sig" "$W/a.bin"
sign_req "$SIGNER_KEY" "$RK" SHA-256 "$W/a.d" '{"key_version":1}'
assert_error 409 KEY_NOT_ACTIVE "rot-hsm: the destroyed version 1 does not sign"
sign_verify "rot-hsm: version 2 still signs after version 1 was destroyed" "$RK" "$W/rot.v2.pem" "$W/a.bin" "$W/a.d"

# ---------------------------------------------------------------- the token goes away

TOKENS=$HSM_DIR/tokens
mv "$TOKENS" "$TOKENS.away"
sign_req "$SIGNER_KEY" "${KID[HSM]}" SHA-256 "$W/a.d"
assert_error 503 UNAVAILABLE "token gone: sign with the HSM EC key"
sign_req "$SIGNER_KEY" "$RK" SHA-256 "$W/a.d"
assert_error 503 UNAVAILABLE "token gone: sign with the HSM RSA key"
sign_verify "token gone: the DISK key still signs" "${KID[DISK]}" "${PEM[DISK]}" "$W/a.bin" "$W/a.d"
api "$ADMIN_KEY" POST /v1/keys '{"alias":"while-gone","algorithm":"EC-P256","storage":"HSM"}'
assert_error 503 UNAVAILABLE "token gone: creating an HSM key"
api "$ADMIN_KEY" GET /v1/keys/while-gone
assert_error 404 NOT_FOUND "token gone: the refused key was not created"
api "" GET /healthz
assert_status 200 "token gone: signetd is alive"

mv "$TOKENS.away" "$TOKENS"
# the keystore tries to rebuild at most once a second
back=""
for ((i = 0; i < 20; i++)); do
	sign_req "$SIGNER_KEY" "${KID[HSM]}" SHA-256 "$W/b.d"
	if [ "$STATUS" = 200 ]; then
		back=$i
		break
	fi
	[ "$STATUS" = 503 ] || break
	sleep 0.3
done
if [ -n "$back" ]; then
	ok "token back: the HSM EC key signs again (after $back refused tries)"
	b64_decode_to "$SIG_B64" "$W/back.sig"
	assert_ok "token back: openssl verifies the signature" \
		openssl dgst -sha256 -verify "${PEM[HSM]}" -signature "$W/back.sig" "$W/b.bin"
else
	fail "token back: the HSM EC key signs again within 6 s" "last answer: $STATUS $RESP"
fi
sign_verify "token back: the rotated HSM RSA key signs with version 2" "$RK" "$W/rot.v2.pem" "$W/b.bin" "$W/b.d"
new_hsm_key after-back EC-P384 HSM
assert_eq "$(hsm_count Private "$K_ID/1")" 1 "token back: a new HSM key is created in the token"
assert_match "$(cat "$SERVER_LOG")" 'unavailable' "the log reports the token going away"
assert_match "$(cat "$SERVER_LOG")" 'is back' "the log reports the token coming back"

check_pin_not_logged
e2e_finish
