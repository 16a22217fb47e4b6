#!/usr/bin/env bash
#
# e2e_algorithms.sh - one key of every classical algorithm, every hash,
# every signature scheme and format, digests of real files in every base64
# spelling; each signature is checked by the openssl command line with the
# public key the server exports, and by POST /v1/verify.  Tampered files
# and signatures must fail both.
#
# openssl, not Signet's own code, is the judge here: `openssl dgst -verify`
# hashes the file itself, so a pass also proves the server signed the digest
# of that file with the announced hash and padding.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || exit 2

ADMIN_KEY="e2e-admin-$RANDOM-$RANDOM-bootstrap"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
new_principal "$ADMIN_KEY" signer1 '["signer"]'
SIGNER_KEY=$P_KEY

# ---- artifacts of different sizes (empty, text, 100 KiB, 3 MiB)
W=$E2E_TMP/work
mkdir -p "$W"
: >"$W/empty.bin"
printf 'Signet end-to-end test artifact\n' >"$W/small.txt"
head -c 102400 /dev/urandom >"$W/medium.bin"
head -c 3145728 /dev/urandom >"$W/large.bin"
FILES=("$W/empty.bin" "$W/small.txt" "$W/medium.bin" "$W/large.bin")

ALGS=(RSA-2048 RSA-3072 RSA-4096 EC-P256 EC-P384 EC-P521 Ed25519)
HASHES=(SHA-256 SHA-384 SHA-512 SHA3-256 SHA3-384 SHA3-512)

# ---- one key per algorithm (RSA-4096 generation is the slow part of the suite)
declare -A KEY_ID DEFAULT_SCHEME
for alg in "${ALGS[@]}"; do
	alias="k-${alg,,}"
	api "$ADMIN_KEY" POST /v1/keys "$(jq -cn --arg a "$alias" --arg g "$alg" '{alias:$a,algorithm:$g}')"
	assert_status 201 "create $alg key"
	assert_json '.algorithm' "$alg" "$alg key reports its algorithm"
	assert_json '.current_version' 1 "$alg key starts at version 1"
	assert_json '.versions[0].state' ACTIVE "$alg version 1 is ACTIVE"
	KEY_ID[$alg]=$(jget .id)
	DEFAULT_SCHEME[$alg]=$(jget .default_signature_algorithm)
	require "$alg key was created" test "${KEY_ID[$alg]:-null}" != null
	jget '.versions[0].public_key_pem' >"$W/$alias.json.pem"
	# The PEM endpoint, read by the signer (any reading role may export public keys).
	require "export $alg public key as PEM" fetch_pem "${KEY_ID[$alg]}" 1 "$W/$alias.pem" "$SIGNER_KEY"
	assert_contains "$RESP_CT" "application/x-pem-file" "$alg public key served as application/x-pem-file"
	assert_eq "$(pem_fingerprint "$W/$alias.pem")" "$(pem_fingerprint "$W/$alias.json.pem")" \
		"$alg: PEM export equals the key object's public_key_pem"
	case $alg in
	RSA-*) want="Public-Key: (${alg#RSA-} bit)" ;;
	EC-P256) want="NIST CURVE: P-256" ;;
	EC-P384) want="NIST CURVE: P-384" ;;
	EC-P521) want="NIST CURVE: P-521" ;;
	Ed25519) want="ED25519 Public-Key" ;;
	esac
	assert_contains "$(openssl pkey -pubin -in "$W/$alias.pem" -noout -text 2>&1)" "$want" \
		"openssl reads the $alg public key as '$want'"
done

# ---- the signing matrix
N_SIGNED=0
N_OPENSSL=0
ENCODING_NAMES=("standard padded" "standard unpadded" "url-safe padded" "url-safe unpadded")

# Digests of every file with every hash, computed once: DIGEST[hash:file] is
# standard base64, the binary digest is in $W/<file>.<hash>.bin.
declare -A DIGEST
for f in "${FILES[@]}"; do
	for hash in "${HASHES[@]}"; do
		digest_file "$hash" "$f" "$f.$hash.bin"
		DIGEST[$hash:$f]=$(b64 "$f.$hash.bin")
	done
done

# spell STD-B64 INDEX: the digest in one of the four base64 spellings (no subprocess)
spell() {
	local s=$1
	case $(($2 % 4)) in
	0) ;;
	1) s=${s%%=*} ;;
	2) s=${s//+/-}; s=${s//\//_} ;;
	3) s=${s//+/-}; s=${s//\//_}; s=${s%%=*} ;;
	esac
	printf '%s' "$s"
}

# openssl_verify ALG SCHEME FORMAT HASH PEM SIG FILE DIGEST-BIN [SALT]
# Verify with the openssl CLI; returns its status.  P1363 is converted to DER first.
openssl_verify() {
	local alg=$1 scheme=$2 format=$3 hash=$4 pem=$5 sig=$6 file=$7 dbin=$8 salt=${9:-}
	local h=${OSSL_HASH[$hash]}
	case $scheme in
	RSA-PKCS1)
		openssl dgst "-$h" -verify "$pem" -signature "$sig" "$file"
		;;
	RSA-PSS)
		openssl dgst "-$h" -sigopt rsa_padding_mode:pss -sigopt "rsa_pss_saltlen:$salt" \
			-sigopt "rsa_mgf1_md:$h" -verify "$pem" -signature "$sig" "$file"
		;;
	ECDSA)
		if [ "$format" = P1363 ]; then
			p1363_to_der "$sig" "$sig.der" || return 1
			openssl dgst "-$h" -verify "$pem" -signature "$sig.der" "$file"
		else
			openssl dgst "-$h" -verify "$pem" -signature "$sig" "$file"
		fi
		;;
	Ed25519)
		openssl pkeyutl -verify -pubin -inkey "$pem" -rawin -in "$dbin" -sigfile "$sig"
		;;
	*)
		echo "no openssl check for $scheme" >&2
		return 1
		;;
	esac
}

# sign_and_check ALG HASH SCHEME FORMAT FILE INDEX [SALT-OVERRIDE]
# Signs the digest of FILE (spelled per INDEX), checks the answer, verifies
# with openssl (for RSA-PKCS1 and ECDSA DER also over the bare digest with
# pkeyutl) and with /v1/verify.  Leaves the signature in $W/last.sig and
# LAST_SIG_B64, the binary digest in $W/digest.bin.
sign_and_check() {
	local alg=$1 hash=$2 scheme=$3 format=$4 file=$5 idx=$6 salt_override=${7:-}
	local pem="$W/k-${alg,,}.pem" what extra std salt out
	what="$alg $scheme${format:+/$format} $hash ${file##*/} (${ENCODING_NAMES[$((idx % 4))]} digest)"
	std=${DIGEST[$hash:$file]}
	cp "$file.$hash.bin" "$W/digest.bin"
	extra=",\"signature_algorithm\":\"$scheme\""
	[ -n "$format" ] && extra+=",\"signature_format\":\"$format\""
	[ -n "$salt_override" ] && extra+=",\"pss_salt_length\":$salt_override"
	api "$SIGNER_KEY" POST /v1/sign \
		"{\"key\":\"${KEY_ID[$alg]}\",\"digest\":\"$(spell "$std" "$idx")\",\"hash_algorithm\":\"$hash\"$extra,\"metadata\":{\"test\":\"algorithms\"}}"
	if [ "$STATUS" != 200 ]; then
		fail "sign: $what" "HTTP $STATUS: $RESP"
		return 1
	fi
	N_SIGNED=$((N_SIGNED + 1))
	local f1 f2 f3 f4 f5 f6 want
	jfield status f1; jfield key_id f2; jfield key_version f3
	jfield hash_algorithm f4; jfield signature_algorithm f5
	want="SIGNED ${KEY_ID[$alg]} 1 $hash $scheme"
	if [ "$scheme" = ECDSA ]; then
		jfield signature_format f6
		f5+=" $f6"
		want+=" ${format:-DER}"
	fi
	assert_eq "$f1 $f2 $f3 $f4 $f5" "$want" \
		"sign: $what answers SIGNED, key, version 1, hash, scheme${format:+, format}"
	jfield signature LAST_SIG_B64
	base64 -d >"$W/last.sig" <<<"$LAST_SIG_B64"

	salt=${salt_override:-${HASH_LEN[$hash]}}
	case "$scheme/$format" in
	ECDSA/P1363)
		local coord
		case $alg in EC-P256) coord=32 ;; EC-P384) coord=48 ;; EC-P521) coord=66 ;; esac
		assert_eq "$(b64_len "$LAST_SIG_B64")" $((2 * coord)) "$what: P1363 signature is r||s, 2x$coord bytes"
		;;
	Ed25519/*)
		assert_eq "$(b64_len "$LAST_SIG_B64")" 64 "$what: Ed25519 signature is 64 bytes"
		;;
	esac
	if out=$(openssl_verify "$alg" "$scheme" "$format" "$hash" "$pem" "$W/last.sig" "$file" "$W/digest.bin" "$salt" 2>&1); then
		ok "openssl verifies $what"
		N_OPENSSL=$((N_OPENSSL + 1))
	else
		fail "openssl verifies $what" "$out"
	fi
	# A second, independent openssl path over the bare digest (pkeyutl), for
	# a few hashes of each key: it does not hash the file itself.
	if { [ "$hash" = SHA-256 ] || [ "$hash" = SHA3-384 ]; } &&
		{ [ "$scheme" = RSA-PKCS1 ] || { [ "$scheme" = ECDSA ] && [ "$format" != P1363 ]; }; }; then
		if out=$(openssl pkeyutl -verify -pubin -inkey "$pem" -in "$W/digest.bin" -sigfile "$W/last.sig" \
			-pkeyopt "digest:${OSSL_HASH[$hash]}" 2>&1); then
			ok "openssl pkeyutl verifies $what over the bare digest"
			N_OPENSSL=$((N_OPENSSL + 1))
		else
			fail "openssl pkeyutl verifies $what over the bare digest" "$out"
		fi
	fi

	api "$SIGNER_KEY" POST /v1/verify \
		"{\"key\":\"${KEY_ID[$alg]}\",\"key_version\":1,\"digest\":\"$std\",\"hash_algorithm\":\"$hash\",\"signature\":\"$LAST_SIG_B64\"$extra}"
	# jansson's compact output; saves a jq run per signature
	if [ "$STATUS" = 200 ] && [[ "$RESP" == *'"valid":true'* ]]; then
		ok "/v1/verify says valid for $what"
	else
		fail "/v1/verify says valid for $what" "HTTP $STATUS: $RESP"
	fi
	return 0
}

i=0
for alg in "${ALGS[@]}"; do
	case $alg in
	RSA-*) combos=("RSA-PKCS1/" "RSA-PSS/") ;;
	EC-*) combos=("ECDSA/DER" "ECDSA/P1363" "ECDSA/") ;;
	Ed25519) combos=("Ed25519/") ;;
	esac
	for hash in "${HASHES[@]}"; do
		for combo in "${combos[@]}"; do
			# ECDSA without a format must mean DER: try it with one hash per curve.
			if [ "$combo" = "ECDSA/" ] && [ "$hash" != SHA-384 ]; then
				continue
			fi
			sign_and_check "$alg" "$hash" "${combo%%/*}" "${combo#*/}" "${FILES[$((i % 4))]}" "$i"
			i=$((i + 1))
		done
	done
done

# ---- the key's default scheme when the request names none
for alg in "${ALGS[@]}"; do
	digest_file SHA-256 "$W/small.txt" "$W/digest.bin"
	api "$SIGNER_KEY" POST /v1/sign "$(sign_body "${KEY_ID[$alg]}" "$(b64 "$W/digest.bin")" SHA-256)"
	assert_status 200 "sign with $alg and no signature_algorithm"
	assert_json .signature_algorithm "${DEFAULT_SCHEME[$alg]}" "$alg: the default scheme is the key's default_signature_algorithm"
	b64_decode_to "$(jget .signature)" "$W/default.sig"
	fmt=""
	[ "${DEFAULT_SCHEME[$alg]}" = ECDSA ] && fmt=DER
	assert_ok "openssl verifies $alg's default-scheme signature (${DEFAULT_SCHEME[$alg]})" \
		openssl_verify "$alg" "${DEFAULT_SCHEME[$alg]}" "$fmt" SHA-256 "$W/k-${alg,,}.pem" "$W/default.sig" \
		"$W/small.txt" "$W/digest.bin" 32
done
assert_eq "${DEFAULT_SCHEME[RSA-2048]}/${DEFAULT_SCHEME[EC-P256]}/${DEFAULT_SCHEME[Ed25519]}" \
	"RSA-PKCS1/ECDSA/Ed25519" "default schemes: RSA-PKCS1 for RSA, ECDSA for EC, Ed25519 for Ed25519"

# ---- RSA-PSS salt length: default = hash length, pss_salt_length overrides
digest_file SHA-512 "$W/medium.bin" "$W/digest.bin"
api "$SIGNER_KEY" POST /v1/sign "$(sign_body "${KEY_ID[RSA-3072]}" "$(b64 "$W/digest.bin")" SHA-512 '{"signature_algorithm":"RSA-PSS"}')"
assert_status 200 "RSA-3072 PSS SHA-512 with the default salt"
b64_decode_to "$(jget .signature)" "$W/pss.sig"
assert_ok "openssl: the default PSS salt is 64 bytes for SHA-512" \
	openssl_verify RSA-3072 RSA-PSS "" SHA-512 "$W/k-rsa-3072.pem" "$W/pss.sig" "$W/medium.bin" "$W/digest.bin" 64
assert_fails "openssl: the default PSS salt is not 32 bytes for SHA-512" \
	openssl_verify RSA-3072 RSA-PSS "" SHA-512 "$W/k-rsa-3072.pem" "$W/pss.sig" "$W/medium.bin" "$W/digest.bin" 32

for salt in 0 20 100; do
	i=$((i + 1))
	sign_and_check RSA-2048 SHA-256 RSA-PSS "" "$W/small.txt" "$i" "$salt"
	assert_fails "openssl: a PSS signature with pss_salt_length $salt does not verify as salt 32" \
		openssl_verify RSA-2048 RSA-PSS "" SHA-256 "$W/k-rsa-2048.pem" "$W/last.sig" "$W/small.txt" "$W/digest.bin" 32
done

# ---- tampered files and signatures fail openssl and /v1/verify
# tamper_check ALG HASH SCHEME FORMAT
tamper_check() {
	local alg=$1 hash=$2 scheme=$3 format=$4 what="$1 $3${4:+/$4} $2"
	local hl
	hl=$(hash_len "$hash")
	sign_and_check "$alg" "$hash" "$scheme" "$format" "$W/medium.bin" 0 || return
	cp "$W/medium.bin" "$W/tampered.bin"
	# flip one bit in the middle of the file
	local byte
	byte=$(od -An -tu1 -j 50000 -N1 "$W/medium.bin" | tr -d ' ')
	printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$W/tampered.bin" bs=1 seek=50000 conv=notrunc status=none
	assert_ne "$(openssl dgst -sha256 -r "$W/tampered.bin")" "$(openssl dgst -sha256 -r "$W/medium.bin")" \
		"$what: the tampered copy differs"
	digest_file "$hash" "$W/tampered.bin" "$W/tampered.digest"
	assert_fails "openssl rejects the $what signature over a tampered file" \
		openssl_verify "$alg" "$scheme" "$format" "$hash" "$W/k-${alg,,}.pem" "$W/last.sig" "$W/tampered.bin" \
		"$W/tampered.digest" "$hl"
	local vbody
	vbody=$(jq -cn --arg k "${KEY_ID[$alg]}" --arg d "$(b64 "$W/tampered.digest")" --arg h "$hash" \
		--arg s "$scheme" --arg f "${format:-DER}" --arg sig "$LAST_SIG_B64" \
		'{key:$k,digest:$d,hash_algorithm:$h,signature_algorithm:$s,signature:$sig} + (if $s == "ECDSA" then {signature_format:$f} else {} end)')
	api "$SIGNER_KEY" POST /v1/verify "$vbody"
	assert_status 200 "/v1/verify of $what over a tampered digest answers"
	assert_json .valid false "/v1/verify says valid:false for $what over a tampered digest"
	# a flipped bit in the signature itself, over the right digest
	cp "$W/last.sig" "$W/bad.sig"
	local n last
	n=$(stat -c %s "$W/bad.sig")
	last=$(od -An -tu1 -j $((n - 1)) -N1 "$W/last.sig" | tr -d ' ')
	printf "$(printf '\\%03o' $((last ^ 1)))" | dd of="$W/bad.sig" bs=1 seek=$((n - 1)) conv=notrunc status=none
	assert_fails "openssl rejects a $what signature with one flipped bit" \
		openssl_verify "$alg" "$scheme" "$format" "$hash" "$W/k-${alg,,}.pem" "$W/bad.sig" "$W/medium.bin" \
		"$W/digest.bin" "$hl"
	vbody=$(jq -c --arg sig "$(b64 "$W/bad.sig")" --arg d "$(b64 "$W/digest.bin")" '.signature = $sig | .digest = $d' <<<"$vbody")
	api "$SIGNER_KEY" POST /v1/verify "$vbody"
	assert_json .valid false "/v1/verify says valid:false for a $what signature with one flipped bit"
}
tamper_check RSA-2048 SHA-256 RSA-PKCS1 ""
tamper_check RSA-4096 SHA3-512 RSA-PSS ""
tamper_check EC-P256 SHA-256 ECDSA DER
tamper_check EC-P521 SHA-512 ECDSA P1363
tamper_check Ed25519 SHA3-256 Ed25519 ""

# ---- the four base64 spellings of one digest whose standard form has '+' and '/'
n=0
while :; do
	printf 'artifact %d\n' "$n" >"$W/b64.txt"
	digest_file SHA-256 "$W/b64.txt" "$W/b64.digest"
	std=$(b64 "$W/b64.digest")
	[[ "$std" == *+* && "$std" == */* ]] && break
	n=$((n + 1))
	require "find a digest with '+' and '/' in 200 tries" test "$n" -lt 200
done
for idx in 0 1 2 3; do
	spelled=$(spell "$std" "$idx")
	api "$SIGNER_KEY" POST /v1/sign "$(sign_body "${KEY_ID[EC-P256]}" "$spelled" SHA-256)"
	assert_status 200 "sign a digest spelled $spelled (${ENCODING_NAMES[$idx]})"
	b64_decode_to "$(jget .signature)" "$W/b64.sig"
	assert_ok "openssl verifies the signature of the ${ENCODING_NAMES[$idx]} digest" \
		openssl dgst -sha256 -verify "$W/k-ec-p256.pem" -signature "$W/b64.sig" "$W/b64.txt"
	sid=$(jget .signature_id)
	api "$SIGNER_KEY" GET "/v1/signatures/$sid"
	assert_json .digest "$std" "the record of the ${ENCODING_NAMES[$idx]} digest holds the same digest bytes"
done

# ---- /v1/verify with a version that is not the signing one says invalid, not valid
digest_file SHA-256 "$W/small.txt" "$W/digest.bin"
api "$SIGNER_KEY" POST /v1/sign "$(sign_body "${KEY_ID[EC-P384]}" "$(b64 "$W/digest.bin")" SHA-256)"
sig=$(jget .signature)
api "$SIGNER_KEY" POST /v1/verify "$(jq -cn --arg k "${KEY_ID[EC-P256]}" --arg d "$(b64 "$W/digest.bin")" --arg s "$sig" \
	'{key:$k,digest:$d,hash_algorithm:"SHA-256",signature:$s}')"
assert_json .valid false "/v1/verify: an EC-P384 signature checked against the EC-P256 key is invalid"

echo "$E2E_NAME: $N_SIGNED signatures made, $N_OPENSSL openssl verifications passed"
e2e_finish
