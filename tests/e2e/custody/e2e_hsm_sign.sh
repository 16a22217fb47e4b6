#!/usr/bin/env bash
#
# e2e_hsm_sign.sh - keys kept in a PKCS#11 token (SoftHSM2), signed through
# signetd and proved with independent tools (issue 5): RSA-2048/3072,
# EC-P256/384/521 and Ed25519 with storage HSM sign digests with every
# scheme and format that fits; openssl verifies every signature with the
# exported public key, which must be the public key object that
# pkcs11-tool reads from the token; the private objects are sensitive and
# never extractable; 200 signatures from 8 parallel curl clients all
# verify; a wrong PIN stops the start with a clear message; the PIN is in
# no log.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2
. "$(dirname "${BASH_SOURCE[0]}")/hsm.sh" || exit 2

W=$E2E_TMP/work
mkdir -p "$W"
require "a fresh SoftHSM2 token" hsm_init custody-sign
ADMIN_KEY="e2e-hsm-admin-$RANDOM-$RANDOM"
remember_secret "$ADMIN_KEY"

# ---------------------------------------------------------------- a wrong PIN

printf 'wrong%s\n' "$RANDOM$RANDOM" >"$W/wrong.pin"
chmod 600 "$W/wrong.pin"
WRONG_PIN=$(head -n1 "$W/wrong.pin")
if start_server "$E2E_TMP/data-wrong" SIGNET_PKCS11_MODULE="$HSM_MODULE" SIGNET_PKCS11_TOKEN="$HSM_LABEL" \
	SIGNET_PKCS11_PIN_FILE="$W/wrong.pin" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" 2>/dev/null; then
	fail "signetd with a wrong token PIN must not start"
	stop_server
else
	wait "$SERVER_PID" 2>/dev/null
	SERVER_EXIT=$?
	SERVER_PID=""
	assert_ne "$SERVER_EXIT" 0 "signetd with a wrong token PIN exits non-zero"
	assert_match "$(cat "$SERVER_LOG")" 'PIN|pin|UNAUTHENTICATED|login|log in' \
		"the log says the token refused the login"
	assert_not_contains "$(cat "$SERVER_LOG" "$SERVER_OUT")" "$WRONG_PIN" "the wrong PIN is not logged either"
fi
# the refused PIN did not lock the token: the right one still works below

# ---------------------------------------------------------------- the server

require "signetd starts with the token" start_hsm_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" \
	SIGNET_PKCS11_SESSIONS=3
api "" GET /readyz
assert_json .hsm configured "/readyz says the HSM is configured"
new_principal "$ADMIN_KEY" hsm-signer '["signer"]'
SIGNER_KEY=$P_KEY

ALGS=(RSA-2048 RSA-3072 EC-P256 EC-P384 EC-P521 Ed25519)
HASHES=(SHA-256 SHA-384 SHA-512 SHA3-256)
declare -A KEY_ID P1363_LEN=([EC-P256]=64 [EC-P384]=96 [EC-P521]=132)
declare -A POINT_LEN=([EC-P256]=65 [EC-P384]=97 [EC-P521]=133 [Ed25519]=32)
head -c 4096 /dev/urandom >"$W/other.bin"

# verify_sig ALG SCHEME FORMAT HASH PEM SIG FILE: openssl, exit status
verify_sig() {
	local alg=$1 scheme=$2 fmt=$3 h=$4 pem=$5 sig=$6 file=$7 oh
	oh=$(ossl_hash "$h")
	case $scheme in
	RSA-PKCS1)
		openssl dgst "-$oh" -verify "$pem" -signature "$sig" "$file" ;;
	RSA-PSS)
		openssl dgst "-$oh" -verify "$pem" -sigopt rsa_padding_mode:pss \
			-sigopt rsa_pss_saltlen:digest -signature "$sig" "$file" ;;
	ECDSA)
		if [ "$fmt" = P1363 ]; then
			p1363_to_der "$sig" "$sig.der" || return 1
			sig=$sig.der
		fi
		openssl dgst "-$oh" -verify "$pem" -signature "$sig" "$file" ;;
	Ed25519)
		openssl dgst "-$oh" -binary "$file" >"$sig.digest" &&
			openssl pkeyutl -verify -pubin -inkey "$pem" -rawin -in "$sig.digest" -sigfile "$sig" ;;
	esac
}

total_signed=0
total_verified=0
ROT=0
for alg in "${ALGS[@]}"; do
	api "$ADMIN_KEY" POST /v1/keys "$(jq -cn --arg a "hsm-${alg,,}" --arg g "$alg" \
		'{alias:$a,algorithm:$g,storage:"HSM"}')"
	if [ "$alg" = Ed25519 ] && [ "$STATUS" != 201 ]; then
		# a token without CKM_EDDSA: the refusal must be a clear client error
		assert_match "$STATUS $(jget .error.code)" '^4[0-9][0-9] (UNSUPPORTED_ALGORITHM|INVALID_ARGUMENT)$' \
			"Ed25519 HSM key refused clearly by this token"
		skip "Ed25519 signing in the token (the token has no EdDSA)"
		continue
	fi
	assert_status 201 "$alg: create an HSM key"
	assert_json .storage HSM "$alg: the key says storage HSM"
	KID=$(jget .id)
	KEY_ID[$alg]=$KID
	require "$alg: export the public key" fetch_pem "$KID" 1 "$W/$alg.pem" "$SIGNER_KEY"

	# the exported key is the token's public key object "<key id>/1"
	case $alg in
	RSA-*)
		assert_eq "$(hsm_pub_fingerprint "$KID/1")" "$(pem_fingerprint "$W/$alg.pem")" \
			"$alg: the exported public key is the token's public key object $KID/1" ;;
	*)
		assert_eq "$(hsm_ec_point "$KID/1")" "$(spki_ec_point "$W/$alg.pem" "${POINT_LEN[$alg]}")" \
			"$alg: the exported public key is the token's public key object $KID/1 (CKA_EC_POINT)" ;;
	esac

	case $alg in
	RSA-*) combos=("RSA-PKCS1 -" "RSA-PSS -") ;;
	EC-*) combos=("ECDSA DER" "ECDSA P1363") ;;
	Ed25519) combos=("Ed25519 -") ;;
	esac
	head -c $((1000 + RANDOM % 5000)) /dev/urandom >"$W/$alg.bin"
	for h in "${HASHES[@]}"; do digest_file "$h" "$W/$alg.bin" "$W/d.$h.bin"; done
	n_ok=0 n_sig=0 bad=() used=()
	for combo in "${combos[@]}"; do
		read -r scheme fmt <<<"$combo"
		# SHA-256, and in turn SHA-384, SHA-512 or SHA3-256: every hash
		# meets every key family, at half the cost of all of them everywhere
		hs=(SHA-256 "${HASHES[1 + ROT % 3]}")
		ROT=$((ROT + 1))
		for h in "${hs[@]}"; do
			what="$alg $scheme"
			[ "$fmt" != - ] && what+="/$fmt"
			what+=" $h"
			used+=("${what#"$alg "}")
			extra="{\"signature_algorithm\":\"$scheme\""
			[ "$fmt" != - ] && extra+=",\"signature_format\":\"$fmt\""
			extra+="}"
			sign_req "$SIGNER_KEY" "$KID" "$h" "$W/d.$h.bin" "$extra"
			if [ "$STATUS" != 200 ]; then
				bad+=("$what: sign answered $STATUS $RESP")
				continue
			fi
			n_sig=$((n_sig + 1))
			b64_write "$SIG_B64" "$W/s.bin"
			if [ "$fmt" = P1363 ] && [ "$(stat -c %s "$W/s.bin")" != "${P1363_LEN[$alg]}" ]; then
				bad+=("$what: P1363 signature is $(stat -c %s "$W/s.bin") bytes, not ${P1363_LEN[$alg]}")
				continue
			fi
			if verify_sig "$alg" "$scheme" "$fmt" "$h" "$W/$alg.pem" "$W/s.bin" "$W/$alg.bin" >"$W/v.out" 2>&1; then
				n_ok=$((n_ok + 1))
				cp "$W/s.bin" "$W/$alg.$scheme.$fmt.$h.sig"
			else
				bad+=("$what: openssl does not verify: $(tr '\n' ' ' <"$W/v.out")")
			fi
		done
	done
	total_signed=$((total_signed + n_sig))
	total_verified=$((total_verified + n_ok))
	if [ "${#bad[@]}" -eq 0 ] && [ "$n_ok" -gt 0 ]; then
		ok "$alg: all $n_sig HSM signatures verify with openssl ($(printf '%s, ' "${used[@]}" | sed 's/, $//'))"
	else
		fail "$alg: every HSM signature verifies with openssl ($n_ok of $n_sig)" "${bad[@]}"
	fi

	# the openssl checks above can fail: another file, or another key, does not verify
	first=$(ls "$W/$alg".*.SHA-256.sig 2>/dev/null | head -n1)
	if [ -n "$first" ]; then
		f=${first#"$W/$alg."}
		scheme=${f%%.*}
		f=${f#*.}
		fmt=${f%%.*}
		assert_fails "$alg: openssl rejects the signature over another file" \
			verify_sig "$alg" "$scheme" "$fmt" SHA-256 "$W/$alg.pem" "$first" "$W/other.bin"
	fi

	# PSS over SHA-3: SoftHSM2 2.6 has no CKG_MGF1_SHA3_*, and docs/hsm.md
	# promises a clean 400 there (a token that can must give a good signature)
	if [ "$alg" = RSA-2048 ]; then
		sign_req "$SIGNER_KEY" "$KID" SHA3-256 "$W/d.SHA3-256.bin" '{"signature_algorithm":"RSA-PSS"}'
		if [ "$STATUS" = 200 ]; then
			b64_write "$SIG_B64" "$W/s3.bin"
			assert_ok "$alg RSA-PSS SHA3-256: the token signs it and openssl verifies" \
				verify_sig "$alg" RSA-PSS - SHA3-256 "$W/$alg.pem" "$W/s3.bin" "$W/$alg.bin"
		else
			assert_error 400 UNSUPPORTED_HASH_ALGORITHM "$alg RSA-PSS SHA3-256: refused cleanly by a token without it"
		fi
	fi

	# PSS with an explicit salt length
	if [ "${alg:0:3}" = RSA ]; then
		digest_file SHA-256 "$W/$alg.bin" "$W/d.bin"
		sign_req "$SIGNER_KEY" "$KID" SHA-256 "$W/d.bin" '{"signature_algorithm":"RSA-PSS","pss_salt_length":0}'
		assert_status 200 "$alg: RSA-PSS with pss_salt_length 0"
		b64_decode_to "$SIG_B64" "$W/s0.bin"
		assert_ok "$alg: openssl verifies it with salt length 0" \
			openssl dgst -sha256 -verify "$W/$alg.pem" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:0 \
			-signature "$W/s0.bin" "$W/$alg.bin"
		assert_fails "$alg: ... and not with the digest-length salt (the salt length was honoured)" \
			openssl dgst -sha256 -verify "$W/$alg.pem" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest \
			-signature "$W/s0.bin" "$W/$alg.bin"
	fi
done
assert_eq "$((total_signed > 0 && total_signed == total_verified))" 1 \
	"all $total_signed HSM signatures of this run verified with openssl"

# ---------------------------------------------------------------- the token's objects

OBJS=$(hsm_objects)
require "pkcs11-tool lists the token's objects" [ -n "$OBJS" ]
n_keys=${#KEY_ID[@]}
assert_eq "$(grep -c '^Private|' <<<"$OBJS")" "$n_keys" "the token holds one private key object per HSM key ($n_keys)"
assert_eq "$(grep -c '^Public|' <<<"$OBJS")" "$n_keys" "... and one public key object per HSM key"
for alg in "${!KEY_ID[@]}"; do
	line=$(grep -F "Private|${KEY_ID[$alg]}/1|" <<<"$OBJS")
	if [ -z "$line" ]; then
		fail "$alg: the token has a private key object labelled ${KEY_ID[$alg]}/1" "$OBJS"
		continue
	fi
	access=${line##*|}
	assert_contains "$access" "never extractable" "$alg: the private key object is never extractable ($access)"
	assert_match "$access" '(^|, )sensitive' "$alg: the private key object is sensitive"
	assert_contains "$access" "always sensitive" "$alg: the private key object was always sensitive"
done
pkcs11-tool --module "$HSM_MODULE" --token-label "$HSM_LABEL" --login --pin "$HSM_PIN" \
	--read-object --type privkey --label "${KEY_ID[EC-P256]}/1" -o "$W/priv.out" >/dev/null 2>&1
assert_eq "$([ -s "$W/priv.out" ] && echo read || echo refused)" refused \
	"pkcs11-tool cannot read a private key out of the token"

# ---------------------------------------------------------------- concurrency

# 8 curl clients x 25 signatures, each over its own message, on two HSM
# keys, through a pool of 3 sessions (SIGNET_PKCS11_SESSIONS=3 above), so
# requests wait for sessions.
C=$W/conc
mkdir -p "$C"
# 200 random SHA-256-sized digests, base64 by one awk (few processes: the
# machine running this may be busy)
head -c 6400 /dev/urandom >"$C/all"
mapfile -t DIG_HEX < <(od -An -v -tx1 -w32 "$C/all" | tr -d ' ')
mapfile -t DIG_B64 < <(printf '%s\n' "${DIG_HEX[@]}" | hex_to_b64)
require "200 digests prepared" [ "${#DIG_B64[@]}" = 200 ] && [ "${#DIG_B64[199]}" = 44 ]
# client C KEY-ALG: signs its 25 digests one after the other and checks
# each answer with openssl while the other clients wait on the server, so
# the checking overlaps the signing.  Writes, per signature i, the status
# (s$i), the answer (r$i.json) and the verdict (v$i: "ok" or why not).
client() {
	local c=$1 alg=$2 key=${KEY_ID[$2]} i j k st resp sig hx esc
	for ((j = 0; j < 25; j++)); do
		i=$((c * 25 + j))
		curl -s -o "$C/r$i.json" -w '%{http_code}' --max-time 60 -X POST \
			-H "Authorization: Bearer $SIGNER_KEY" -H 'Content-Type: application/json' \
			--data-raw "{\"key\":\"$key\",\"digest\":\"${DIG_B64[$i]}\",\"hash_algorithm\":\"SHA-256\"}" \
			"$BASE_URL/v1/sign" >"$C/s$i"
		st=""
		read -r st <"$C/s$i"
		IFS= read -r -d '' resp <"$C/r$i.json"
		if [ "$st" != 200 ]; then
			printf 'HTTP %s %s\n' "$st" "${resp:0:300}" >"$C/v$i"
			continue
		fi
		sig=""
		[[ "$resp" =~ \"signature\":\"([^\"]*)\" ]] && sig=${BASH_REMATCH[1]}
		printf '%s\n' "$sig" >"$C/b$i"
		# the digest bytes from the hex, by printf %b with \x escapes (no process)
		hx=${DIG_HEX[$i]} esc=""
		for ((k = 0; k < 64; k += 2)); do esc+="\\x${hx:k:2}"; done
		printf '%b' "$esc" >"$C/dig$i"
		b64_write "$sig" "$C/sig$i"
		if openssl pkeyutl -verify -pubin -inkey "$W/$alg.pem" -pkeyopt digest:sha256 \
			-in "$C/dig$i" -sigfile "$C/sig$i" >/dev/null 2>&1; then
			echo ok >"$C/v$i"
		else
			echo "the signature does not verify over its own digest" >"$C/v$i"
		fi
	done
}
t0=$(date +%s%N)
pids=()
for ((c = 0; c < 8; c++)); do
	if ((c % 2)); then client "$c" RSA-2048 & else client "$c" EC-P256 & fi
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
t1=$(date +%s%N)
n200=0 nver=0 bad=()
declare -A seen_sig
for ((i = 0; i < 200; i++)); do
	st="" v="" sig=""
	read -r st <"$C/s$i" 2>/dev/null
	read -r v <"$C/v$i" 2>/dev/null
	[ "$st" = 200 ] && n200=$((n200 + 1))
	if [ "$v" = ok ]; then
		nver=$((nver + 1))
		read -r sig <"$C/b$i"
		seen_sig[$sig]=1
	else
		bad+=("sign $i: ${v:-no verdict}")
	fi
done
assert_eq "$n200" 200 "200 concurrent signs from 8 curl clients all answered 200 ($(((t1 - t0) / 1000000)) ms)"
if [ "$nver" = 200 ]; then
	ok "all 200 concurrent HSM signatures verify with openssl, each over its own digest"
else
	fail "all 200 concurrent HSM signatures verify with openssl ($nver did)" "${bad[@]:0:10}"
fi
assert_eq "${#seen_sig[@]}" 200 "the 200 concurrent signatures are 200 different values"

# the server is still healthy and signs after the burst
digest_file SHA-256 "$W/EC-P256.bin" "$W/d.bin"
sign_req "$SIGNER_KEY" "${KEY_ID[EC-P256]}" SHA-256 "$W/d.bin"
assert_status 200 "EC-P256: a sign after the burst"

check_pin_not_logged
e2e_finish
