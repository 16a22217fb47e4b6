#!/usr/bin/env bash
#
# e2e_pq.sh - the post-quantum keys end to end (issue 3, "Integration"):
# ML-DSA-44, ML-DSA-65 (created as its alias Dilithium3), ML-DSA-87 and the
# composite MLDSA65-ECDSA-P256.  Files are signed through `signet sign-file`
# and raw POST /v1/sign, then verified offline by `signet verify-file`
# (--bundle, and --public-key with explicit algorithm flags), online by
# `verify-file --online` and by POST /v1/verify.  Tampered files, wrong
# contexts, wrong key versions, mismatched schemes, a composite with a hash
# other than SHA-512 and oversized contexts must all fail; keys and old
# signatures must survive a restart of signetd.
#
# OpenSSL 3.0 knows no ML-DSA, so openssl can only judge the encodings (the
# SPKI: OID, no parameters, key length) and the composite's ECDSA half: that
# half is checked with `openssl dgst -verify` over M' built here with
# printf from the draft's definition, which proves the composite
# construction independently of Signet's code.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2

if [ -z "${SIGNET_CLI:-}" ] || [ ! -x "$SIGNET_CLI" ]; then
	echo "$E2E_NAME: set SIGNET_CLI to the signet CLI binary (got '${SIGNET_CLI:-}')" >&2
	exit 2
fi

ADMIN_KEY="e2e-admin-$RANDOM-$RANDOM-bootstrap"
remember_secret "$ADMIN_KEY"
DATA=$E2E_TMP/data
require "signetd starts" start_server "$DATA" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
new_principal "$ADMIN_KEY" pq-signer '["signer"]'
SIGNER_KEY=$P_KEY

W=$E2E_TMP/work
mkdir -p "$W"

# ---------------------------------------------------------------- tables

ALGS=(ML-DSA-44 ML-DSA-65 ML-DSA-87 MLDSA65-ECDSA-P256)
declare -A CREATE_AS=([ML-DSA-44]=ML-DSA-44 [ML-DSA-65]=Dilithium3 [ML-DSA-87]=ML-DSA-87
	[MLDSA65-ECDSA-P256]=MLDSA65-ECDSA-P256)
declare -A OID=([ML-DSA-44]=2.16.840.1.101.3.4.3.17 [ML-DSA-65]=2.16.840.1.101.3.4.3.18
	[ML-DSA-87]=2.16.840.1.101.3.4.3.19 [MLDSA65-ECDSA-P256]=1.3.6.1.5.5.7.6.45)
declare -A PK_LEN=([ML-DSA-44]=1312 [ML-DSA-65]=1952 [ML-DSA-87]=2592
	[MLDSA65-ECDSA-P256]=$((1952 + 65)))
declare -A SIG_LEN=([ML-DSA-44]=2420 [ML-DSA-65]=3309 [ML-DSA-87]=4627)
declare -A DEFAULT_SCHEME=([ML-DSA-44]=HashML-DSA-44 [ML-DSA-65]=HashML-DSA-65
	[ML-DSA-87]=HashML-DSA-87 [MLDSA65-ECDSA-P256]=MLDSA65-ECDSA-P256)
MLDSA65_SIG=3309
P256_SPKI_PREFIX=3059301306072a8648ce3d020106082a8648ce3d030107034200
declare -A KEY_ID

# ---------------------------------------------------------------- helpers

# cli ARGS... : run the CLI as the signer; CLI_OUT (stdout+stderr), CLI_RC
cli() {
	CLI_OUT=$(SIGNET_API_KEY=$SIGNER_KEY "$SIGNET_CLI" --url "$BASE_URL" "$@" 2>&1)
	CLI_RC=$?
}

# assert_cli RC DESCRIPTION ARGS... : the CLI exits RC; verify-file also
# prints its verdict ("signature valid" / "signature INVALID")
assert_cli() {
	local want=$1 desc=$2
	shift 2
	cli "$@"
	if [ "$CLI_RC" != "$want" ]; then
		fail "$desc" "expected exit $want, got $CLI_RC: signet $*" "$CLI_OUT"
		return 1
	fi
	if [ "$1" = verify-file ]; then
		if [ "$want" = 0 ] && [[ "$CLI_OUT" != *"signature valid"* ]]; then
			fail "$desc" "exit 0 without 'signature valid'" "$CLI_OUT"
			return 1
		fi
		if [ "$want" = 1 ] && [[ "$CLI_OUT" != *"signature INVALID"* ]]; then
			fail "$desc" "exit 1 without 'signature INVALID'" "$CLI_OUT"
			return 1
		fi
	fi
	ok "$desc"
}

hex_to_bin() { printf '%b' "$(sed 's/../\\x&/g' <<<"$1")" >"$2"; }
fsize() { stat -c %s "$1"; }
pem_to_der() { sed '/-----/d' "$1" | base64 -d >"$2"; }

# flip_byte IN OUT OFFSET : copy with one bit flipped at OFFSET
flip_byte() {
	local b
	cp "$1" "$2"
	b=$(od -An -tu1 -j "$3" -N1 "$1")
	b=${b// /}
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$2" bs=1 seek="$3" conv=notrunc status=none
}

# digest_b64 HASH FILE : DIGEST_B64 = standard base64 of FILE's digest (cached)
declare -A DIGEST_CACHE
digest_b64() {
	if [ -z "${DIGEST_CACHE[$1:$2]:-}" ]; then
		DIGEST_CACHE[$1:$2]=$(openssl dgst "-${OSSL_HASH[$1]}" -binary "$2" | base64 -w0)
	fi
	DIGEST_B64=${DIGEST_CACHE[$1:$2]}
}

# verify_api KEY VERSION DIGEST-B64 HASH SCHEME SIG-B64 [CONTEXT-B64]
# POST /v1/verify (VERSION "" = omitted, CONTEXT "" = omitted); VALID = the
# answer's valid, or the HTTP status and body.  The values are ids and base64,
# so the body is written without jq (process starts are this suite's cost).
verify_api() {
	local body re='"valid":(true|false)[,}]'
	printf -v body '{"key":"%s","digest":"%s","hash_algorithm":"%s","signature_algorithm":"%s","signature":"%s"' \
		"$1" "$3" "$4" "$5" "$6"
	[ -n "$2" ] && body+=",\"key_version\":$2"
	[ -n "${7:-}" ] && body+=",\"context\":\"$7\""
	api "$SIGNER_KEY" POST /v1/verify "$body}"
	VALID="HTTP $STATUS: ${RESP:0:300}"
	if [ "$STATUS" = 200 ] && [[ "$RESP" =~ $re ]]; then
		VALID=${BASH_REMATCH[1]}
	fi
}

# assert_verify_api EXPECTED(true|false) DESCRIPTION ARGS-OF-verify_api...
assert_verify_api() {
	local want=$1 desc=$2
	shift 2
	verify_api "$@"
	assert_eq "$VALID" "$want" "$desc"
}

# Files: an empty one, a short text, 100 KiB of random bytes; each with a
# tampered copy (one flipped bit, or one added byte for the empty file).
: >"$W/empty.bin"
printf 'Signet post-quantum end-to-end artifact\n' >"$W/small.txt"
head -c 102400 /dev/urandom >"$W/medium.bin"
printf 'x' >"$W/empty.bin.tampered"
flip_byte "$W/small.txt" "$W/small.txt.tampered" 7
flip_byte "$W/medium.bin" "$W/medium.bin.tampered" 51200

# Contexts: 5 bytes, another 5 bytes, the maximum 255 and one too many; the
# raw bytes of each in $W/ctx.<name>.
printf 'ctx-A' >"$W/ctx.A"
printf 'ctx-B' >"$W/ctx.B"
head -c 255 /dev/urandom >"$W/ctx.255"
head -c 256 /dev/urandom >"$W/ctx.256"
CTX_A=$(b64 "$W/ctx.A")
CTX_B=$(b64 "$W/ctx.B")
CTX_255=$(b64 "$W/ctx.255")
CTX_256=$(b64 "$W/ctx.256")
declare -A CTX_FILE=([$CTX_A]=$W/ctx.A [$CTX_B]=$W/ctx.B [$CTX_255]=$W/ctx.255)

# composite_ec_key PEM DESC : EC_PEM = a P-256 SPKI PEM made by openssl from
# the last 65 bytes (the uncompressed point) of the composite public key PEM;
# built once per key version.
declare -A EC_PEM_OF
composite_ec_key() {
	local pem=$1 desc=$2 der=$1.der point=$1.point out
	EC_PEM=${EC_PEM_OF[$pem]:-}
	[ -n "$EC_PEM" ] && return 0
	EC_PEM=$pem.ec.pem
	pem_to_der "$pem" "$der"
	tail -c 65 "$der" >"$point"
	assert_eq "$(od -An -tx1 -N1 "$point")" " 04" "$desc: the last 65 bytes of the composite key are an uncompressed point"
	hex_to_bin "$P256_SPKI_PREFIX$(to_hex "$point")" "$pem.ec.der"
	if out=$(openssl pkey -pubin -inform DER -in "$pem.ec.der" -out "$EC_PEM" 2>&1); then
		ok "$desc: openssl accepts the composite's EC point as a P-256 key"
	else
		fail "$desc: openssl accepts the composite's EC point as a P-256 key" "$out"
	fi
	EC_PEM_OF[$pem]=$EC_PEM
}

# composite_openssl_check SIG FILE CONTEXT-B64 PEM DESC : the ECDSA half of a
# composite signature verifies with openssl over M' built here, with the
# P-256 point taken from the composite public key.
composite_openssl_check() {
	local sig=$1 file=$2 ctx=$3 pem=$4 desc=$5 d=$W/comp n eclen shape ctxlen=0 out
	mkdir -p "$d"
	n=$(stat -c %s "$sig")
	eclen=$((n - MLDSA65_SIG))
	if [ "$eclen" -ge 8 ] && [ "$eclen" -le 72 ]; then
		ok "$desc: composite signature is 3309 + $eclen bytes (DER ECDSA 8..72)"
	else
		fail "$desc: composite signature is 3309 + a DER ECDSA signature" "got $n bytes"
	fi
	tail -c "$eclen" "$sig" >"$d/ecdsa.der"
	# SEQUENCE { INTEGER r, INTEGER s } whose header + length is exactly the rest
	shape=$(openssl asn1parse -inform DER -in "$d/ecdsa.der" 2>&1 |
		awk '{ sub(/^ *[0-9]+:/, ""); if (NR == 1) { h = $2; l = $3; sub(/.*=/, "", h); if (l == "l=") l = $4; sub(/.*=/, "", l); printf "%d ", h + l }
			if (/prim:|cons:/) { sub(/.*(prim|cons): */, ""); sub(/ *:.*/, ""); sub(/ +$/, ""); printf "%s,", $0 } }')
	assert_eq "$shape" "$eclen SEQUENCE,INTEGER,INTEGER," \
		"$desc: the tail of the composite signature is exactly a DER SEQUENCE { r, s }"
	composite_ec_key "$pem" "$desc"

	# M' = Prefix || Label || len(ctx) || ctx || SHA-512(file)
	printf '%s%s' CompositeAlgorithmSignatures2025 COMPSIG-MLDSA65-ECDSA-P256-SHA512 >"$d/mprime.bin"
	cp "$d/mprime.bin" "$d/mprime.bad"
	if [ -n "$ctx" ]; then
		ctxlen=$(stat -c %s "${CTX_FILE[$ctx]}")
	fi
	printf "\\x$(printf %02x "$ctxlen")" >>"$d/mprime.bin"
	printf "\\x$(printf %02x $(((ctxlen + 1) % 256)))" >>"$d/mprime.bad"
	if [ -n "$ctx" ]; then
		cat "${CTX_FILE[$ctx]}" >>"$d/mprime.bin"
		cat "${CTX_FILE[$ctx]}" >>"$d/mprime.bad"
	fi
	openssl dgst -sha512 -binary "$file" >"$d/ph.bin"
	cat "$d/ph.bin" >>"$d/mprime.bin"
	cat "$d/ph.bin" >>"$d/mprime.bad"
	if out=$(openssl dgst -sha256 -verify "$EC_PEM" -signature "$d/ecdsa.der" "$d/mprime.bin" 2>&1); then
		ok "$desc: openssl verifies the composite's ECDSA half over M' (independent of Signet)"
	else
		fail "$desc: openssl verifies the composite's ECDSA half over M' (independent of Signet)" "$out"
	fi
	# the same M' with another len(ctx) byte must not verify
	assert_fails "$desc: openssl rejects the ECDSA half over M' with a wrong len(ctx)" \
		openssl dgst -sha256 -verify "$EC_PEM" -signature "$d/ecdsa.der" "$d/mprime.bad"
}


# ---------------------------------------------------------------- keys and public keys

for alg in "${ALGS[@]}"; do
	alias="pq-${alg,,}"
	api "$ADMIN_KEY" POST /v1/keys "$(jq -cn --arg a "$alias" --arg g "${CREATE_AS[$alg]}" '{alias:$a,algorithm:$g}')"
	assert_status 201 "create key as ${CREATE_AS[$alg]}"
	require "key ${CREATE_AS[$alg]} was created" test "$STATUS" = 201
	KEY_ID[$alg]=$(jget .id)
	assert_json .algorithm "$alg" "key created as ${CREATE_AS[$alg]} reports algorithm $alg"
	assert_json .default_signature_algorithm "${DEFAULT_SCHEME[$alg]}" "$alg key's default scheme is ${DEFAULT_SCHEME[$alg]}"
	assert_json '[.current_version, .versions[0].version, .versions[0].state] | join(" ")' "1 1 ACTIVE" \
		"$alg key starts at version 1, ACTIVE"
	jget '.versions[0].public_key_pem' >"$W/$alg.v1.json.pem"
	api "$SIGNER_KEY" GET "/v1/keys/$alias"
	assert_json .algorithm "$alg" "GET /v1/keys/$alias (by alias) reports $alg"

	require "export the $alg public key as PEM" fetch_pem "${KEY_ID[$alg]}" 1 "$W/$alg.v1.pem" "$SIGNER_KEY"
	assert_contains "$RESP_CT" application/x-pem-file "$alg public key is served as application/x-pem-file"
	assert_eq "$(cat "$W/$alg.v1.pem")" "$(cat "$W/$alg.v1.json.pem")" "$alg: the PEM export equals the key object's public_key_pem"
	pem_to_der "$W/$alg.v1.pem" "$W/$alg.v1.der"
	# SEQUENCE { SEQUENCE { OID } (no parameters), BIT STRING { 0 unused bits, pk } }, nothing else
	shape=$(openssl asn1parse -inform DER -in "$W/$alg.v1.der" 2>&1 |
		sed 's/^ *[0-9]*:d=\([0-9]\) *hl= *[0-9]* *l= *\([0-9]*\) *\(cons\|prim\): *\([A-Z ]*[A-Z]\) *:\{0,1\}\([0-9.]*\).*/\1 \4 \5/' |
		tr '\n' ',')
	assert_eq "$shape" "0 SEQUENCE ,1 SEQUENCE ,2 OBJECT ${OID[$alg]},1 BIT STRING ," \
		"$alg public key is an SPKI with OID ${OID[$alg]} and no parameters"
	bitlen=$(openssl asn1parse -inform DER -in "$W/$alg.v1.der" 2>/dev/null | sed -n 's/.*l= *\([0-9]*\) prim: BIT STRING.*/\1/p')
	assert_eq "$bitlen" $((PK_LEN[$alg] + 1)) "$alg SPKI holds a ${PK_LEN[$alg]}-byte public key (BIT STRING of $((PK_LEN[$alg] + 1)))"
	derlen=$(fsize "$W/$alg.v1.der")
	assert_eq "$(od -An -tx1 -j $((derlen - PK_LEN[$alg] - 1)) -N1 "$W/$alg.v1.der" | tr -d ' ')" 00 \
		"$alg SPKI BIT STRING has 0 unused bits"
	# `signet keys public-key` writes the same PEM
	assert_cli 0 "signet keys public-key exports the $alg key" keys public-key "$alias" --out "$W/$alg.cli.pem"
	assert_eq "$(cat "$W/$alg.cli.pem" 2>/dev/null)" "$(cat "$W/$alg.v1.pem")" "$alg: signet keys public-key writes the same PEM"
done

# ---------------------------------------------------------------- sign-file and verify

N_SIGNED=0
# sign_file_check ALG FILE HASH SCHEME CONTEXT TAG
# SCHEME "" = the key's default (no flag); CONTEXT "" = none.  Signs FILE
# with `signet sign-file`, checks the bundle and the signature size, then
# verifies with verify-file --bundle, --public-key with explicit flags,
# --online and POST /v1/verify; a tampered file and a wrong, missing or
# unexpected context must fail.  With LIGHT=1 only the bundle, verify-file
# --bundle and /v1/verify.  KEY_VERSION (default 1) is the version that must
# sign.  Leaves the signature in $W/TAG.sig (SIG_B64) and its bundle in
# $W/TAG.sig.bundle.json.
sign_file_check() {
	local alg=$1 file=$2 hash=$3 scheme=$4 ctx=$5 tag=$6 args want_scheme what sig bundle got
	local ver=${KEY_VERSION:-1} pem
	pem=$W/$alg.v$ver.pem
	want_scheme=${scheme:-${DEFAULT_SCHEME[$alg]}}
	what="$alg v$ver ${scheme:-default scheme} $hash ${file##*/}${ctx:+ with context}"
	sig=$W/$tag.sig
	bundle=$sig.bundle.json
	args=(sign-file "$file" --key "pq-${alg,,}" --hash-algorithm "$hash" --out "$sig")
	[ -n "$scheme" ] && args+=(--signature-algorithm "$scheme")
	[ -n "$ctx" ] && args+=(--context "$ctx")
	assert_cli 0 "sign-file: $what" "${args[@]}" || return 1
	N_SIGNED=$((N_SIGNED + 1))

	SIG_B64=$(b64 "$sig")
	digest_b64 "$hash" "$file"
	got=$(jq -r --rawfile pem "$pem" --arg sig "$SIG_B64" '[.format, .key_id, .key_alias, .key_version,
		.key_algorithm, .signature_algorithm, .hash_algorithm, .digest, (.context // "none"),
		(has("signature_format")), (.signature == $sig), (.public_key_pem == $pem)] | map(tostring) | join(" ")' \
		"$bundle" 2>&1)
	assert_eq "$got" "signet-bundle-v1 ${KEY_ID[$alg]} pq-${alg,,} $ver $alg $want_scheme $hash $DIGEST_B64 ${ctx:-none} false true true" \
		"$what: the bundle names key, version, algorithms, digest, context; holds the .sig bytes and the version's public key"
	if [ -n "${SIG_LEN[$alg]:-}" ]; then
		assert_eq "$(b64_len "$SIG_B64")" "${SIG_LEN[$alg]}" "$what: the signature is ${SIG_LEN[$alg]} bytes"
	else
		composite_openssl_check "$sig" "$file" "$ctx" "$pem" "$what"
	fi

	assert_cli 0 "verify-file --bundle: $what" verify-file "$file" --bundle "$bundle"
	assert_verify_api true "/v1/verify valid: $what" "${KEY_ID[$alg]}" "$ver" "$DIGEST_B64" "$hash" \
		"$want_scheme" "$SIG_B64" "$ctx"
	if [ "${LIGHT:-0}" = 1 ]; then
		return 0
	fi

	local ctxflag=() wrong=$CTX_B
	[ -n "$ctx" ] && ctxflag=(--context "$ctx")
	[ "$ctx" = "$CTX_B" ] && wrong=$CTX_A
	assert_cli 0 "verify-file --public-key with explicit algorithms: $what" verify-file "$file" --signature "$sig" \
		--public-key "$pem" --hash-algorithm "$hash" --signature-algorithm "$want_scheme" "${ctxflag[@]}"
	assert_cli 0 "verify-file --bundle --online: $what" verify-file "$file" --bundle "$bundle" --online

	# a tampered file: the bundle's digest check, the signature itself, the service
	assert_cli 1 "verify-file --public-key rejects a tampered file: $what" verify-file "$file.tampered" \
		--signature "$sig" --public-key "$pem" --hash-algorithm "$hash" \
		--signature-algorithm "$want_scheme" "${ctxflag[@]}"
	if [ "$file" = "$W/medium.bin" ]; then
		assert_cli 1 "verify-file --bundle rejects a tampered file: $what" verify-file "$file.tampered" --bundle "$bundle"
	fi
	digest_b64 "$hash" "$file.tampered"
	assert_verify_api false "/v1/verify invalid for a tampered file: $what" "${KEY_ID[$alg]}" "$ver" \
		"$DIGEST_B64" "$hash" "$want_scheme" "$SIG_B64" "$ctx"
	digest_b64 "$hash" "$file"

	# the context is bound: a wrong one, none, or one where none was used
	if [ -n "$ctx" ]; then
		assert_cli 1 "verify-file rejects a wrong context: $what" verify-file "$file" --signature "$sig" \
			--public-key "$pem" --hash-algorithm "$hash" --signature-algorithm "$want_scheme" --context "$wrong"
		assert_verify_api false "/v1/verify invalid with a wrong context: $what" "${KEY_ID[$alg]}" "$ver" \
			"$DIGEST_B64" "$hash" "$want_scheme" "$SIG_B64" "$wrong"
		assert_verify_api false "/v1/verify invalid without the context: $what" "${KEY_ID[$alg]}" "$ver" \
			"$DIGEST_B64" "$hash" "$want_scheme" "$SIG_B64"
	else
		assert_verify_api false "/v1/verify invalid with a context the signer did not use: $what" "${KEY_ID[$alg]}" \
			"$ver" "$DIGEST_B64" "$hash" "$want_scheme" "$SIG_B64" "$CTX_A"
	fi
}

for n in 44 65 87; do
	alg=ML-DSA-$n
	sign_file_check "$alg" "$W/small.txt" SHA-256 "" "" "$alg-hash-sha256"
	sign_file_check "$alg" "$W/medium.bin" SHA-512 "" "$CTX_A" "$alg-hash-sha512-ctx"
	sign_file_check "$alg" "$W/empty.bin" SHA3-256 "HashML-DSA-$n" "" "$alg-hash-sha3"
	sign_file_check "$alg" "$W/small.txt" SHA-256 "ML-DSA-$n" "" "$alg-pure-sha256"
	sign_file_check "$alg" "$W/medium.bin" SHA3-256 "ML-DSA-$n" "$CTX_A" "$alg-pure-sha3-ctx"
done
sign_file_check ML-DSA-65 "$W/small.txt" SHA-384 HashML-DSA-65 "$CTX_255" ML-DSA-65-ctx255
comp=MLDSA65-ECDSA-P256
sign_file_check "$comp" "$W/small.txt" SHA-512 "" "" comp-sha512
sign_file_check "$comp" "$W/medium.bin" SHA-512 "$comp" "$CTX_A" comp-sha512-ctx
sign_file_check "$comp" "$W/empty.bin" SHA-512 "" "$CTX_255" comp-ctx255

# HashML-DSA and pure ML-DSA are different signatures: neither verifies as the other.
digest_b64 SHA-256 "$W/small.txt"
D256=$DIGEST_B64
SIG65_HASH=$(b64 "$W/ML-DSA-65-hash-sha256.sig")
SIG65_PURE=$(b64 "$W/ML-DSA-65-pure-sha256.sig")
assert_verify_api false "/v1/verify: a HashML-DSA-65 signature does not verify as pure ML-DSA-65" \
	"${KEY_ID[ML-DSA-65]}" 1 "$D256" SHA-256 ML-DSA-65 "$SIG65_HASH"
assert_cli 1 "verify-file: a HashML-DSA-65 signature does not verify as pure ML-DSA-65" verify-file "$W/small.txt" \
	--signature "$W/ML-DSA-65-hash-sha256.sig" --public-key "$W/ML-DSA-65.v1.pem" --hash-algorithm SHA-256 \
	--signature-algorithm ML-DSA-65
assert_verify_api false "/v1/verify: a pure ML-DSA-65 signature does not verify as HashML-DSA-65" \
	"${KEY_ID[ML-DSA-65]}" 1 "$D256" SHA-256 HashML-DSA-65 "$SIG65_PURE"
# HashML-DSA binds the hash OID: the same 32 bytes announced as SHA3-256 do not verify.
assert_verify_api false "/v1/verify: HashML-DSA-65 binds the hash OID (SHA-256 digest announced as SHA3-256)" \
	"${KEY_ID[ML-DSA-65]}" 1 "$D256" SHA3-256 HashML-DSA-65 "$SIG65_HASH"
# A signature of one parameter set checked with another key.
assert_verify_api false "/v1/verify: an ML-DSA-65 signature checked against the ML-DSA-87 key is invalid" \
	"${KEY_ID[ML-DSA-87]}" 1 "$D256" SHA-256 HashML-DSA-87 "$SIG65_HASH"
assert_cli 1 "verify-file: an ML-DSA-65 signature checked with the ML-DSA-44 public key is invalid" verify-file \
	"$W/small.txt" --signature "$W/ML-DSA-65-hash-sha256.sig" --public-key "$W/ML-DSA-44.v1.pem"
# A truncated and a bit-flipped signature.
head -c 3308 "$W/ML-DSA-65-hash-sha256.sig" >"$W/short.sig"
assert_verify_api false "/v1/verify: a truncated ML-DSA-65 signature (3308 bytes) is invalid, not an error" \
	"${KEY_ID[ML-DSA-65]}" 1 "$D256" SHA-256 HashML-DSA-65 "$(b64 "$W/short.sig")"
assert_cli 1 "verify-file: a truncated ML-DSA-65 signature is invalid" verify-file "$W/small.txt" \
	--signature "$W/short.sig" --public-key "$W/ML-DSA-65.v1.pem" --hash-algorithm SHA-256
flip_byte "$W/ML-DSA-65-hash-sha256.sig" "$W/flip.sig" 100
assert_cli 1 "verify-file: an ML-DSA-65 signature with one flipped bit is invalid" verify-file "$W/small.txt" \
	--signature "$W/flip.sig" --public-key "$W/ML-DSA-65.v1.pem" --hash-algorithm SHA-256

# The composite is valid only if both halves verify.
digest_b64 SHA-512 "$W/small.txt"
D512=$DIGEST_B64
for off in 100 $((MLDSA65_SIG + 10)); do
	half=ML-DSA
	[ "$off" -gt "$MLDSA65_SIG" ] && half=ECDSA
	flip_byte "$W/comp-sha512.sig" "$W/comp-flip.sig" "$off"
	assert_verify_api false "/v1/verify: a composite signature with a flipped bit in its $half half is invalid" \
		"${KEY_ID[$comp]}" 1 "$D512" SHA-512 "$comp" "$(b64 "$W/comp-flip.sig")"
	assert_cli 1 "verify-file: a composite signature with a flipped bit in its $half half is invalid" verify-file \
		"$W/small.txt" --signature "$W/comp-flip.sig" --public-key "$W/$comp.v1.pem" --hash-algorithm SHA-512
done

# ---------------------------------------------------------------- raw POST /v1/sign

for alg in "${ALGS[@]}"; do
	hash=SHA-384
	[ "$alg" = "$comp" ] && hash=SHA-512
	digest_b64 "$hash" "$W/medium.bin"
	api "$SIGNER_KEY" POST /v1/sign "$(sign_body "${KEY_ID[$alg]}" "$DIGEST_B64" "$hash" '{"metadata":{"test":"pq"}}')"
	assert_status 200 "POST /v1/sign $alg $hash with the key's default scheme"
	assert_json '[.status, .key_id, .key_version, .signature_algorithm, .hash_algorithm, has("signature_format")] | map(tostring) | join(" ")' \
		"SIGNED ${KEY_ID[$alg]} 1 ${DEFAULT_SCHEME[$alg]} $hash false" "POST /v1/sign $alg: answer names key, version 1, scheme, hash"
	jfield signature sig
	jfield signature_id sid
	b64_decode_to "$sig" "$W/raw.sig"
	if [ -n "${SIG_LEN[$alg]:-}" ]; then
		assert_eq "$(b64_len "$sig")" "${SIG_LEN[$alg]}" "POST /v1/sign $alg: signature is ${SIG_LEN[$alg]} bytes"
	else
		composite_openssl_check "$W/raw.sig" "$W/medium.bin" "" "$W/$alg.v1.pem" "POST /v1/sign $alg"
	fi
	assert_verify_api true "/v1/verify valid for the raw $alg signature" "${KEY_ID[$alg]}" 1 "$DIGEST_B64" \
		"$hash" "${DEFAULT_SCHEME[$alg]}" "$sig"
	# signature_algorithm and key_version omitted: the key's default, the current version
	api "$SIGNER_KEY" POST /v1/verify "{\"key\":\"${KEY_ID[$alg]}\",\"digest\":\"$DIGEST_B64\",\"hash_algorithm\":\"$hash\",\"signature\":\"$sig\"}"
	assert_contains "$STATUS $RESP" '200 {"valid":true' "/v1/verify valid for the raw $alg signature with defaults for scheme and version"
	assert_cli 0 "verify-file --public-key verifies the raw $alg signature" verify-file "$W/medium.bin" \
		--signature "$W/raw.sig" --public-key "$W/$alg.v1.pem" --hash-algorithm "$hash"
	api "$SIGNER_KEY" GET "/v1/signatures/$sid"
	assert_json '[.signature, .signature_algorithm, .key_version] | map(tostring) | join(" ")' \
		"$sig ${DEFAULT_SCHEME[$alg]} 1" "the $alg signature record holds the signature, scheme and version"
done

# The scheme alias Dilithium3 is pure ML-DSA-65.
api "$SIGNER_KEY" POST /v1/sign "$(sign_body pq-ml-dsa-65 "$D256" SHA-256 '{"signature_algorithm":"Dilithium3"}')"
assert_status 200 "POST /v1/sign with signature_algorithm Dilithium3"
jfield signature_algorithm got
assert_eq "$got" ML-DSA-65 "signature_algorithm Dilithium3 is answered as ML-DSA-65"
jfield signature sig
assert_verify_api true "/v1/verify: the Dilithium3 signature verifies as pure ML-DSA-65" \
	"${KEY_ID[ML-DSA-65]}" 1 "$D256" SHA-256 ML-DSA-65 "$sig"
assert_verify_api false "/v1/verify: the Dilithium3 signature does not verify as HashML-DSA-65" \
	"${KEY_ID[ML-DSA-65]}" 1 "$D256" SHA-256 HashML-DSA-65 "$sig"

# ---------------------------------------------------------------- refusals

digest_b64 SHA3-512 "$W/small.txt"
D3_512=$DIGEST_B64

# refuse KEY DIGEST HASH EXTRA-JSON STATUS CODE DESC
refuse() {
	api "$SIGNER_KEY" POST /v1/sign "$(sign_body "$1" "$2" "$3" "$4")"
	assert_error "$5" "$6" "POST /v1/sign: $7"
}
refuse pq-ml-dsa-65 "$D256" SHA-256 '{"signature_algorithm":"HashML-DSA-44"}' 400 ALGORITHM_MISMATCH \
	"HashML-DSA-44 on an ML-DSA-65 key"
refuse pq-ml-dsa-44 "$D256" SHA-256 '{"signature_algorithm":"ML-DSA-87"}' 400 ALGORITHM_MISMATCH \
	"pure ML-DSA-87 on an ML-DSA-44 key"
refuse pq-ml-dsa-65 "$D512" SHA-512 '{"signature_algorithm":"MLDSA65-ECDSA-P256"}' 400 ALGORITHM_MISMATCH \
	"the composite scheme on an ML-DSA-65 key"
refuse pq-mldsa65-ecdsa-p256 "$D512" SHA-512 '{"signature_algorithm":"HashML-DSA-65"}' 400 ALGORITHM_MISMATCH \
	"HashML-DSA-65 on the composite key"
refuse pq-ml-dsa-87 "$D256" SHA-256 '{"signature_algorithm":"ECDSA"}' 400 ALGORITHM_MISMATCH \
	"ECDSA on an ML-DSA-87 key"
refuse pq-ml-dsa-65 "$D256" SHA-256 '{"signature_format":"DER"}' 400 ALGORITHM_MISMATCH \
	"signature_format on an ML-DSA-65 key"
refuse pq-mldsa65-ecdsa-p256 "$D256" SHA-256 '{}' 400 UNSUPPORTED_HASH_ALGORITHM \
	"composite with SHA-256"
refuse pq-mldsa65-ecdsa-p256 "$D3_512" SHA3-512 '{}' 400 UNSUPPORTED_HASH_ALGORITHM \
	"composite with SHA3-512 (64 bytes, but not SHA-512)"
refuse pq-ml-dsa-65 "$D256" SHA-256 "{\"context\":\"$CTX_256\"}" 400 INVALID_ARGUMENT \
	"ML-DSA-65 with a 256-byte context"
refuse pq-ml-dsa-44 "$D256" SHA-256 "{\"context\":\"$CTX_256\",\"signature_algorithm\":\"ML-DSA-44\"}" 400 INVALID_ARGUMENT \
	"pure ML-DSA-44 with a 256-byte context"
refuse pq-mldsa65-ecdsa-p256 "$D512" SHA-512 "{\"context\":\"$CTX_256\"}" 400 INVALID_ARGUMENT \
	"composite with a 256-byte context"
refuse pq-ml-dsa-65 "$D256" SHA-256 '{"context":"not base64!"}' 400 INVALID_ARGUMENT \
	"ML-DSA-65 with a context that is not base64"
verify_api "${KEY_ID[ML-DSA-65]}" 1 "$D256" SHA-256 HashML-DSA-65 "$SIG65_HASH" "$CTX_256"
assert_error 400 INVALID_ARGUMENT "/v1/verify with a 256-byte context"
verify_api "${KEY_ID[ML-DSA-65]}" 1 "$D256" SHA-256 HashML-DSA-44 "$SIG65_HASH"
assert_error 400 ALGORITHM_MISMATCH "/v1/verify with HashML-DSA-44 on an ML-DSA-65 key"
verify_api "${KEY_ID[$comp]}" 1 "$D256" SHA-256 "$comp" "$(b64 "$W/comp-sha512.sig")"
assert_error 400 UNSUPPORTED_HASH_ALGORITHM "/v1/verify of the composite with SHA-256"

# ... and through the CLI: exit 2 with the server's code, nothing written
assert_cli 2 "sign-file --signature-algorithm HashML-DSA-44 with the ML-DSA-65 key exits 2" \
	sign-file "$W/small.txt" --key pq-ml-dsa-65 --signature-algorithm HashML-DSA-44 --out "$W/refused.sig"
assert_contains "$CLI_OUT" ALGORITHM_MISMATCH "sign-file reports ALGORITHM_MISMATCH"
assert_cli 2 "sign-file with the composite key and the default SHA-256 exits 2" \
	sign-file "$W/small.txt" --key pq-mldsa65-ecdsa-p256 --out "$W/refused.sig"
assert_contains "$CLI_OUT" UNSUPPORTED_HASH_ALGORITHM "sign-file reports UNSUPPORTED_HASH_ALGORITHM for the composite with SHA-256"
assert_cli 2 "sign-file with a 256-byte context exits 2" \
	sign-file "$W/small.txt" --key pq-ml-dsa-87 --context "$CTX_256" --out "$W/refused.sig"
refused=("$W"/refused.sig*)
assert_eq "${refused[*]}" "$W/refused.sig*" "refused sign-file calls write no signature or bundle"

# ---------------------------------------------------------------- rotation: key versions

for alg in "${ALGS[@]}"; do
	hash=SHA-256
	[ "$alg" = "$comp" ] && hash=SHA-512
	scheme=${DEFAULT_SCHEME[$alg]}
	tag=$alg-rot-v1
	LIGHT=1 sign_file_check "$alg" "$W/small.txt" "$hash" "" "$CTX_A" "$tag"
	sig=$SIG_B64
	digest=$DIGEST_B64
	api "$ADMIN_KEY" POST "/v1/keys/${KEY_ID[$alg]}/rotate"
	assert_status 200 "rotate the $alg key"
	assert_json '[.current_version, (.versions | length), .versions[1].version, .versions[1].state, .versions[0].state, .algorithm] | map(tostring) | join(" ")' \
		"2 2 2 ACTIVE ACTIVE $alg" "$alg rotated: current_version 2, both versions ACTIVE, same algorithm"
	require "export the $alg version 2 public key" fetch_pem "${KEY_ID[$alg]}" 2 "$W/$alg.v2.pem" "$SIGNER_KEY"
	assert_ne "$(<"$W/$alg.v2.pem")" "$(<"$W/$alg.v1.pem")" "$alg version 2 has a new public key"
	pem_to_der "$W/$alg.v2.pem" "$W/$alg.v2.der"
	assert_eq "$(fsize "$W/$alg.v2.der")" "$(fsize "$W/$alg.v1.der")" "$alg version 2 SPKI has the same size as version 1"
	if [ "$alg" = "$comp" ]; then
		assert_ne "$(tail -c 65 "$W/$alg.v2.der" | to_hex)" "$(tail -c 65 "$W/$alg.v1.der" | to_hex)" \
			"composite version 2 has a new EC point"
		assert_ne "$(head -c 1000 "$W/$alg.v2.der" | to_hex)" "$(head -c 1000 "$W/$alg.v1.der" | to_hex)" \
			"composite version 2 has a new ML-DSA key"
	fi

	assert_verify_api true "/v1/verify: the $alg version 1 signature is valid against version 1 after rotation" \
		"${KEY_ID[$alg]}" 1 "$digest" "$hash" "$scheme" "$sig" "$CTX_A"
	assert_verify_api false "/v1/verify: the $alg version 1 signature is invalid against version 2" \
		"${KEY_ID[$alg]}" 2 "$digest" "$hash" "$scheme" "$sig" "$CTX_A"
	assert_verify_api false "/v1/verify: the $alg version 1 signature is invalid against the current version (2)" \
		"${KEY_ID[$alg]}" "" "$digest" "$hash" "$scheme" "$sig" "$CTX_A"
	assert_cli 0 "verify-file: the $alg version 1 signature is valid with the version 1 public key" verify-file \
		"$W/small.txt" --signature "$W/$tag.sig" --public-key "$W/$alg.v1.pem" --hash-algorithm "$hash" --context "$CTX_A"
	assert_cli 1 "verify-file: the $alg version 1 signature is invalid with the version 2 public key" verify-file \
		"$W/small.txt" --signature "$W/$tag.sig" --public-key "$W/$alg.v2.pem" --hash-algorithm "$hash" --context "$CTX_A"
	assert_cli 0 "verify-file --bundle --online: the $alg version 1 bundle is still valid" verify-file \
		"$W/small.txt" --bundle "$W/$tag.sig.bundle.json" --online
	assert_cli 1 "verify-file --online --key-version 2: the $alg version 1 signature is invalid" verify-file \
		"$W/small.txt" --signature "$W/$tag.sig" --online --key "pq-${alg,,}" --key-version 2 \
		--hash-algorithm "$hash" --context "$CTX_A"
	if [ "$alg" = ML-DSA-65 ]; then
		assert_cli 2 "verify-file: --key-version 2 contradicting the $alg version 1 bundle is a usage error" verify-file \
			"$W/small.txt" --bundle "$W/$tag.sig.bundle.json" --online --key-version 2
	fi

	api "$SIGNER_KEY" POST /v1/sign "$(sign_body "${KEY_ID[$alg]}" "$digest" "$hash" '{"key_version":1}')"
	assert_error 409 KEY_NOT_ACTIVE "$alg: signing with version 1 after rotation"
	KEY_VERSION=2 LIGHT=1 sign_file_check "$alg" "$W/medium.bin" "$hash" "" "" "$alg-rot-v2"
	assert_verify_api false "/v1/verify: the $alg version 2 signature is invalid against version 1" "${KEY_ID[$alg]}" 1 \
		"$DIGEST_B64" "$hash" "$scheme" "$SIG_B64"
done

# ---------------------------------------------------------------- restart on the same data directory

stop_server
assert_eq "$SERVER_EXIT" 0 "signetd exits 0 on SIGTERM"
require "signetd restarts on the same data directory" start_server "$DATA" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
for alg in "${ALGS[@]}"; do
	hash=SHA-256
	[ "$alg" = "$comp" ] && hash=SHA-512
	for v in 1 2; do
		require "export $alg version $v after the restart" fetch_pem "${KEY_ID[$alg]}" "$v" "$W/$alg.v$v.after.pem" "$SIGNER_KEY"
		assert_eq "$(<"$W/$alg.v$v.after.pem")" "$(<"$W/$alg.v$v.pem")" "$alg version $v public key unchanged by the restart"
	done
	digest_b64 "$hash" "$W/small.txt"
	assert_verify_api true "after the restart, the $alg version 1 signature still verifies" "${KEY_ID[$alg]}" 1 \
		"$DIGEST_B64" "$hash" "${DEFAULT_SCHEME[$alg]}" "$(b64 "$W/$alg-rot-v1.sig")" "$CTX_A"
	assert_cli 0 "after the restart, the $alg version 2 bundle verifies online" verify-file \
		"$W/medium.bin" --bundle "$W/$alg-rot-v2.sig.bundle.json" --online
	KEY_VERSION=2 LIGHT=1 sign_file_check "$alg" "$W/small.txt" "$hash" "" "$CTX_B" "$alg-restart"
done
# the first signature of the run, made before rotation and restart
assert_cli 0 "after the restart, the first ML-DSA-44 bundle still verifies online" verify-file \
	"$W/small.txt" --bundle "$W/ML-DSA-44-hash-sha256.sig.bundle.json" --online

echo "$E2E_NAME: $N_SIGNED files signed through the CLI, $E2E_API_CALLS API calls"
e2e_finish
