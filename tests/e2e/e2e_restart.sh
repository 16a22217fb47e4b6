#!/usr/bin/env bash
#
# e2e_restart.sh - state survives a clean restart (SPEC §5): signetd stops
# on SIGTERM (and SIGINT) with status 0; started again on the same data
# directory it has the same keys, versions, principals, API keys (revoked
# ones stay revoked) and signature records; old keys still sign with the
# same private keys; old signatures still verify.  The generated bootstrap
# key is printed once on stdout, never again, never in the log, and the
# secret files are mode 0600.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || exit 2

DATA=$E2E_TMP/data
W=$E2E_TMP/work
mkdir -p "$W"
printf 'restart test artifact\n' >"$W/a.txt"
digest_file SHA-256 "$W/a.txt" "$W/d.bin"
D=$(b64 "$W/d.bin")

# ---- first start: no SIGNET_BOOTSTRAP_API_KEY, so one is generated
require "signetd starts on an empty data directory" start_server "$DATA" SIGNET_BOOTSTRAP_API_KEY=
FIRST_OUT=$SERVER_OUT
FIRST_LOG=$SERVER_LOG
require "bootstrap-admin.key is written" test -s "$DATA/bootstrap-admin.key"
BOOT=$(tr -d ' \n\r\t' <"$DATA/bootstrap-admin.key")
remember_secret "$BOOT"
ADMIN_KEY=$BOOT
# Printed only when stdout is a terminal (SPEC §8; edge/edge_secrets.sh checks the terminal case).
assert_eq "$(grep -cF -- "$BOOT" "$FIRST_OUT")" 0 "the generated bootstrap key is not printed to a stdout that is a file"
if grep -qF -- "$BOOT" "$FIRST_LOG"; then
	fail "the generated bootstrap key is not in the log (stderr)"
else
	ok "the generated bootstrap key is not in the log (stderr)"
fi
assert_eq "$(stat -c %a "$DATA/bootstrap-admin.key")" 600 "bootstrap-admin.key is mode 0600"
assert_eq "$(stat -c %a "$DATA/master.key")" 600 "master.key is mode 0600"
assert_eq "$(stat -c %a "$DATA")" 700 "the data directory is mode 0700"
api "$BOOT" GET /v1/principals
assert_status 200 "the generated bootstrap key works"
assert_json '.principals[0].roles | sort | join(",")' "admin,operator" "the bootstrap principal holds admin and operator"

new_principal "$BOOT" r-signer '["signer"]'
SIGNER_KEY=$P_KEY SIGNER_ID=$P_ID
new_principal "$BOOT" r-auditor '["auditor"]'
AUDITOR_KEY=$P_KEY
new_principal "$BOOT" r-revoked '["signer"]'
REVOKED_KEY=$P_KEY
api "$BOOT" DELETE "/v1/api-keys/$P_KEY_ID"
assert_status 204 "revoke r-revoked's API key"

declare -A KID SIG SIGB64
for alg in EC-P256 Ed25519 RSA-2048; do
	new_key "$BOOT" "r-${alg,,}" "$alg"
	KID[$alg]=$K_ID
done
api "$BOOT" POST "/v1/keys/${KID[RSA-2048]}/rotate"
assert_status 200 "rotate the RSA key to version 2"
require "export RSA version 1" fetch_pem "${KID[RSA-2048]}" 1 "$W/rsa.v1.pem"

# sign_with ALG TAG: sign a.txt, keep the record id and signature
sign_with() {
	api "$SIGNER_KEY" POST /v1/sign "$(sign_body "${KID[$1]}" "$D" SHA-256 '{"metadata":{"phase":"'"$2"'"}}')"
	assert_status 200 "sign with $1 ($2)"
	SIG[$1.$2]=$(jget .signature_id)
	SIGB64[$1.$2]=$(jget .signature)
	b64_decode_to "${SIGB64[$1.$2]}" "$W/$1.$2.sig"
}

# verify_openssl ALG TAG PEM
verify_openssl() {
	if [ "$1" = Ed25519 ]; then
		openssl pkeyutl -verify -pubin -inkey "$3" -rawin -in "$W/d.bin" -sigfile "$W/$1.$2.sig"
	else
		openssl dgst -sha256 -verify "$3" -signature "$W/$1.$2.sig" "$W/a.txt"
	fi
}

for alg in EC-P256 Ed25519 RSA-2048; do
	require "export $alg" fetch_pem "${KID[$alg]}" "$([ "$alg" = RSA-2048 ] && echo 2 || echo 1)" "$W/$alg.before.pem"
	sign_with "$alg" before
	assert_ok "openssl verifies the $alg signature made before the restart" verify_openssl "$alg" before "$W/$alg.before.pem"
done

# what must survive
snapshot() {
	local id
	api "$BOOT" GET /v1/keys
	printf 'keys %s\n' "$RESP"
	api "$BOOT" GET /v1/principals
	printf 'principals %s\n' "$RESP"
	api "$BOOT" GET "/v1/principals/$SIGNER_ID/api-keys"
	printf 'api-keys %s\n' "$RESP"
	for id in "${SIG[@]}"; do
		api "$AUDITOR_KEY" GET "/v1/signatures/$id"
		printf 'signature:%s %s\n' "$id" "$RESP"
	done
	api "$AUDITOR_KEY" GET "/v1/requests?limit=1000"
	printf 'requests %s\n' "$(jq -c '.requests | sort_by(.id)' <<<"$RESP")"
}
snapshot >"$W/before.txt"
require "the snapshot holds 3 keys" test "$(grep '^keys ' "$W/before.txt" | cut -d' ' -f2- | jq '.keys | length')" = 3
MASTER_SUM=$(openssl dgst -sha256 -r "$DATA/master.key")
BOOT_SUM=$(openssl dgst -sha256 -r "$DATA/bootstrap-admin.key")

# ---- SIGTERM: a clean stop
stop_server
assert_eq "$SERVER_EXIT" 0 "signetd exits 0 on SIGTERM"
assert_contains "$(cat "$FIRST_LOG")" "stopped" "signetd logs that it stopped"

# ---- second start on the same directory
require "signetd starts again on the same data directory" start_server "$DATA" SIGNET_BOOTSTRAP_API_KEY=
if grep -qF -- "$BOOT" "$SERVER_OUT" || grep -qi 'bootstrap admin api key' "$SERVER_OUT"; then
	fail "the bootstrap key is not printed again on restart" "stdout: $(cat "$SERVER_OUT")"
else
	ok "the bootstrap key is not printed again on restart"
fi
assert_eq "$(openssl dgst -sha256 -r "$DATA/bootstrap-admin.key")" "$BOOT_SUM" "bootstrap-admin.key is unchanged"
assert_eq "$(openssl dgst -sha256 -r "$DATA/master.key")" "$MASTER_SUM" "master.key is unchanged"
assert_eq "$(stat -c %a "$DATA/bootstrap-admin.key") $(stat -c %a "$DATA/master.key")" "600 600" \
	"the secret files are still mode 0600"

snapshot >"$W/after.txt"
while IFS= read -r line; do
	what=${line%% *}
	if grep -qxF -- "$line" "$W/after.txt"; then
		ok "after restart: the same $what"
	else
		fail "after restart: the same $what" "before: ${line:0:600}" \
			"after:  $(grep "^$what " "$W/after.txt" | head -c 600)"
	fi
done <"$W/before.txt"
assert_eq "$(wc -l <"$W/after.txt")" "$(wc -l <"$W/before.txt")" "after restart: nothing extra appeared"

api "$REVOKED_KEY" GET /v1/keys
assert_error 401 UNAUTHENTICATED "a key revoked before the restart stays revoked"
api "$SIGNER_KEY" GET "/v1/signatures/${SIG[EC-P256.before]}"
assert_status 200 "the signer's API key still works"

for alg in EC-P256 Ed25519 RSA-2048; do
	ver=1
	[ "$alg" = RSA-2048 ] && ver=2
	require "export $alg after restart" fetch_pem "${KID[$alg]}" "$ver" "$W/$alg.after.pem"
	assert_eq "$(pem_fingerprint "$W/$alg.after.pem")" "$(pem_fingerprint "$W/$alg.before.pem")" \
		"$alg: the same public key after restart"
	assert_ok "openssl verifies the $alg signature from before the restart" \
		verify_openssl "$alg" before "$W/$alg.after.pem"
	api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg k "${KID[$alg]}" --arg d "$D" --arg s "${SIGB64[$alg.before]}" \
		'{key:$k,digest:$d,hash_algorithm:"SHA-256",signature:$s}')"
	assert_json .valid true "$alg: /v1/verify accepts the signature from before the restart"
	sign_with "$alg" after
	assert_json .key_version "$ver" "$alg: signs after restart with version $ver"
	assert_ok "openssl verifies the $alg signature made after the restart with the key exported before it" \
		verify_openssl "$alg" after "$W/$alg.before.pem"
done
require "export RSA version 1 after restart" fetch_pem "${KID[RSA-2048]}" 1 "$W/rsa.v1.after.pem"
assert_eq "$(pem_fingerprint "$W/rsa.v1.after.pem")" "$(pem_fingerprint "$W/rsa.v1.pem")" \
	"RSA: version 1's public key is the same after restart"
api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg k "${KID[RSA-2048]}" --arg d "$D" --arg s "${SIGB64[RSA-2048.before]}" \
	'{key:$k,key_version:1,digest:$d,hash_algorithm:"SHA-256",signature:$s}')"
assert_json .valid false "RSA: the version-2 signature does not pass as version 1 after restart"

# ---- SIGINT is a clean stop too, and a third start still has everything
stop_server INT
assert_eq "$SERVER_EXIT" 0 "signetd exits 0 on SIGINT"
require "signetd starts a third time" start_server "$DATA" SIGNET_BOOTSTRAP_API_KEY=
assert_eq "$(grep -cF -- "$BOOT" "$SERVER_OUT")" 0 "the bootstrap key is not printed on the third start either"
api "$AUDITOR_KEY" GET "/v1/signatures/${SIG[Ed25519.after]}"
assert_status 200 "a record written after the first restart survives the second"
assert_json .signature "${SIGB64[Ed25519.after]}" "... with its signature"
stop_server
assert_eq "$SERVER_EXIT" 0 "signetd exits 0 on SIGTERM again"

e2e_finish
