#!/usr/bin/env bash
#
# e2e_rotation.sh - key versions: rotation adds a version that signs from
# then on, old signatures keep verifying (openssl with the old version's
# public key, and /v1/verify with key_version), destroying a version stops
# it signing but keeps its public key and records.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || exit 2

ADMIN_KEY="e2e-rotation-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
new_principal "$ADMIN_KEY" rot-signer '["signer"]'
SIGNER_KEY=$P_KEY

W=$E2E_TMP/work
mkdir -p "$W"
head -c 20000 /dev/urandom >"$W/a.bin"
head -c 30000 /dev/urandom >"$W/b.bin"

# sign_file KEY FILE OUT-SIG [KEY-VERSION]: sign the SHA-256 of FILE; sets
# SIG_ID, SIG_VERSION, SIG_B64 and writes the signature to OUT-SIG on 200.
sign_file() {
	local key=$1 file=$2 out=$3 ver=${4:-} extra='{}'
	[ -n "$ver" ] && extra="{\"key_version\":$ver}"
	digest_file SHA-256 "$file" "$W/d.bin"
	api "$SIGNER_KEY" POST /v1/sign "$(sign_body "$key" "$(b64 "$W/d.bin")" SHA-256 "$extra")"
	SIG_ID="" SIG_VERSION="" SIG_B64=""
	if [ "$STATUS" = 200 ]; then
		jfield signature_id SIG_ID
		jfield key_version SIG_VERSION
		jfield signature SIG_B64
		b64_decode_to "$SIG_B64" "$out"
	fi
}

# verify_api KEY VERSION FILE SIG-B64 [SCHEME]: /v1/verify; sets VALID
verify_api() {
	local body
	digest_file SHA-256 "$3" "$W/vd.bin"
	body=$(jq -cn --arg k "$1" --arg d "$(b64 "$W/vd.bin")" --arg s "$4" \
		'{key:$k,digest:$d,hash_algorithm:"SHA-256",signature:$s}')
	if [ -n "$2" ]; then
		body=$(jq -c --argjson v "$2" '. + {key_version:$v}' <<<"$body")
	fi
	api "$SIGNER_KEY" POST /v1/verify "$body"
	VALID=$(jget .valid)
	[ "$STATUS" = 200 ] || VALID="HTTP $STATUS: $RESP"
}

for alg in EC-P256 RSA-2048; do
	k="rot-${alg,,}"
	new_key "$ADMIN_KEY" "$k" "$alg"
	KID=$K_ID
	require "$alg: export version 1" fetch_pem "$KID" 1 "$W/$k.v1.pem" "$SIGNER_KEY"

	sign_file "$KID" "$W/a.bin" "$W/$k.v1.sig"
	assert_status 200 "$alg: sign before rotation"
	assert_eq "$SIG_VERSION" 1 "$alg: a signature before rotation carries key_version 1"
	V1_SIG_ID=$SIG_ID
	V1_SIG_B64=$SIG_B64
	assert_ok "$alg: openssl verifies the version-1 signature" \
		openssl dgst -sha256 -verify "$W/$k.v1.pem" -signature "$W/$k.v1.sig" "$W/a.bin"

	# rotation is an admin's business
	api "$SIGNER_KEY" POST "/v1/keys/$KID/rotate"
	assert_error 403 PERMISSION_DENIED "$alg: a signer cannot rotate"
	api "$ADMIN_KEY" GET "/v1/keys/$KID"
	assert_json .current_version 1 "$alg: the refused rotation changed nothing"

	api "$ADMIN_KEY" POST "/v1/keys/$KID/rotate"
	assert_status 200 "$alg: rotate"
	assert_json .current_version 2 "$alg: rotation makes version 2 current"
	assert_json '[.versions[].version] | sort | map(tostring) | join(",")' "1,2" "$alg: the key lists versions 1 and 2"
	assert_json '.versions[] | select(.version == 2) | .state' ACTIVE "$alg: version 2 is ACTIVE"
	assert_json '.versions[] | select(.version == 1) | .state != "DESTROYED"' true "$alg: version 1 is not destroyed by rotation"

	require "$alg: export version 2" fetch_pem "$KID" 2 "$W/$k.v2.pem" "$SIGNER_KEY"
	assert_ne "$(pem_fingerprint "$W/$k.v2.pem")" "$(pem_fingerprint "$W/$k.v1.pem")" \
		"$alg: version 2 is a new key pair"
	api "$SIGNER_KEY" GET "/v1/keys/$KID/public-key" "" -H 'Accept: application/x-pem-file'
	printf '%s' "$RESP" >"$W/$k.current.pem"
	assert_eq "$(pem_fingerprint "$W/$k.current.pem")" "$(pem_fingerprint "$W/$k.v2.pem")" \
		"$alg: public-key without ?version gives the current version"
	require "$alg: export version 1 after rotation" fetch_pem "$KID" 1 "$W/$k.v1.after.pem" "$SIGNER_KEY"
	assert_eq "$(pem_fingerprint "$W/$k.v1.after.pem")" "$(pem_fingerprint "$W/$k.v1.pem")" \
		"$alg: version 1's public key is unchanged by rotation"

	# old signatures still verify
	assert_ok "$alg: openssl still verifies the version-1 signature with version 1's key" \
		openssl dgst -sha256 -verify "$W/$k.v1.after.pem" -signature "$W/$k.v1.sig" "$W/a.bin"
	verify_api "$KID" 1 "$W/a.bin" "$V1_SIG_B64"
	assert_eq "$VALID" true "$alg: /v1/verify with key_version 1 accepts the version-1 signature"
	verify_api "$KID" 2 "$W/a.bin" "$V1_SIG_B64"
	assert_eq "$VALID" false "$alg: /v1/verify with key_version 2 rejects the version-1 signature"
	verify_api "$KID" "" "$W/a.bin" "$V1_SIG_B64"
	assert_eq "$VALID" false "$alg: /v1/verify without key_version checks the current version (2)"

	# new signatures are version 2
	sign_file "$KID" "$W/b.bin" "$W/$k.v2.sig"
	assert_status 200 "$alg: sign after rotation"
	assert_eq "$SIG_VERSION" 2 "$alg: a new signature carries key_version 2"
	V2_SIG_B64=$SIG_B64
	assert_ok "$alg: openssl verifies the version-2 signature with version 2's key" \
		openssl dgst -sha256 -verify "$W/$k.v2.pem" -signature "$W/$k.v2.sig" "$W/b.bin"
	assert_fails "$alg: openssl rejects the version-2 signature with version 1's key" \
		openssl dgst -sha256 -verify "$W/$k.v1.pem" -signature "$W/$k.v2.sig" "$W/b.bin"
	api "$SIGNER_KEY" GET "/v1/signatures/$SIG_ID"
	assert_json .key_version 2 "$alg: the version-2 record says key_version 2"

	# older versions only verify (SPEC §1: the newest active version signs)
	sign_file "$KID" "$W/b.bin" "$W/$k.x.sig" 1
	assert_error 409 KEY_NOT_ACTIVE "$alg: signing with key_version 1 after rotation"

	# destroy version 1
	api "$SIGNER_KEY" DELETE "/v1/keys/$KID/versions/1"
	assert_error 403 PERMISSION_DENIED "$alg: a signer cannot destroy a version"
	api "$ADMIN_KEY" DELETE "/v1/keys/$KID/versions/1"
	assert_status 200 "$alg: destroy version 1"
	assert_json .state DESTROYED "$alg: the destroyed version says DESTROYED"
	assert_json '.destroyed_at | type' string "$alg: the destroyed version has destroyed_at"
	api "$ADMIN_KEY" DELETE "/v1/keys/$KID/versions/1"
	assert_status 200 "$alg: destroying version 1 again is harmless"
	assert_json .state DESTROYED "$alg: version 1 stays DESTROYED"
	api "$ADMIN_KEY" DELETE "/v1/keys/$KID/versions/9"
	assert_error 404 NOT_FOUND "$alg: destroy a version that never existed"
	api "$ADMIN_KEY" DELETE "/v1/keys/$KID/versions/one"
	assert_error 400 INVALID_ARGUMENT "$alg: destroy version 'one'"

	api "$ADMIN_KEY" GET "/v1/keys/$KID"
	assert_json '.versions[] | select(.version == 1) | .state' DESTROYED "$alg: the key shows version 1 DESTROYED"
	assert_json '.versions[] | select(.version == 1) | .public_key_pem | startswith("-----BEGIN PUBLIC KEY-----")' true \
		"$alg: the destroyed version keeps its public key"
	assert_json .current_version 2 "$alg: destroying version 1 leaves version 2 current"

	sign_file "$KID" "$W/b.bin" "$W/$k.x.sig" 1
	assert_error 409 KEY_NOT_ACTIVE "$alg: signing with destroyed key_version 1"
	assert_contains "$(jget .error.message)" DESTROYED "$alg: the refusal says the version is DESTROYED"

	require "$alg: export destroyed version 1" fetch_pem "$KID" 1 "$W/$k.v1.destroyed.pem" "$SIGNER_KEY"
	assert_eq "$(pem_fingerprint "$W/$k.v1.destroyed.pem")" "$(pem_fingerprint "$W/$k.v1.pem")" \
		"$alg: the destroyed version's public key is still exported, unchanged"
	assert_ok "$alg: openssl verifies the version-1 signature after version 1 was destroyed" \
		openssl dgst -sha256 -verify "$W/$k.v1.destroyed.pem" -signature "$W/$k.v1.sig" "$W/a.bin"
	verify_api "$KID" 1 "$W/a.bin" "$V1_SIG_B64"
	assert_eq "$VALID" true "$alg: /v1/verify with key_version 1 accepts the signature of the destroyed version"
	verify_api "$KID" 1 "$W/b.bin" "$V1_SIG_B64"
	assert_eq "$VALID" false "$alg: /v1/verify with key_version 1 rejects it over another file"
	api "$SIGNER_KEY" GET "/v1/signatures/$V1_SIG_ID"
	assert_status 200 "$alg: the version-1 signature record survives destruction"
	assert_json .key_version 1 "$alg: the surviving record still says key_version 1"
	assert_json .signature "$V1_SIG_B64" "$alg: the surviving record still holds the signature"

	sign_file "$KID" "$W/a.bin" "$W/$k.v2b.sig"
	assert_status 200 "$alg: the current version still signs after version 1 was destroyed"
	assert_eq "$SIG_VERSION" 2 "$alg: ... with key_version 2"
	assert_ok "$alg: openssl verifies it with version 2's key" \
		openssl dgst -sha256 -verify "$W/$k.v2.pem" -signature "$W/$k.v2b.sig" "$W/a.bin"
	verify_api "$KID" 2 "$W/b.bin" "$V2_SIG_B64"
	assert_eq "$VALID" true "$alg: /v1/verify with key_version 2 still accepts the earlier version-2 signature"
done

# ---- destroying the current version stops the key signing until it is rotated
api "$ADMIN_KEY" GET /v1/keys/rot-ec-p256
assert_status 200 "find the EC-P256 key by alias"
KID=$(jget .id)
api "$ADMIN_KEY" DELETE "/v1/keys/$KID/versions/2"
assert_status 200 "EC-P256: destroy the current version 2"
sign_file "$KID" "$W/a.bin" "$W/none.sig"
assert_error 409 KEY_NOT_ACTIVE "EC-P256: signing when the current version is destroyed"
api "$ADMIN_KEY" POST "/v1/keys/$KID/rotate"
assert_status 200 "EC-P256: rotate after destroying the current version"
assert_json .current_version 3 "EC-P256: the new version is 3"
sign_file "$KID" "$W/a.bin" "$W/v3.sig"
assert_status 200 "EC-P256: version 3 signs"
assert_eq "$SIG_VERSION" 3 "EC-P256: ... as key_version 3"
require "EC-P256: export version 3" fetch_pem "$KID" 3 "$W/v3.pem" "$SIGNER_KEY"
assert_ok "EC-P256: openssl verifies the version-3 signature" \
	openssl dgst -sha256 -verify "$W/v3.pem" -signature "$W/v3.sig" "$W/a.bin"

# ---- a DISABLED key does not rotate
api "$ADMIN_KEY" PATCH "/v1/keys/$KID" '{"status":"DISABLED"}'
assert_status 200 "EC-P256: disable"
api "$ADMIN_KEY" POST "/v1/keys/$KID/rotate"
assert_error 409 KEY_NOT_ACTIVE "EC-P256: rotating a DISABLED key"
api "$ADMIN_KEY" GET "/v1/keys/$KID"
assert_json .current_version 3 "EC-P256: the refused rotation added no version"
api "$ADMIN_KEY" POST "/v1/keys/no-such-key/rotate"
assert_error 404 NOT_FOUND "rotate a key that does not exist"

e2e_finish
