#!/usr/bin/env bash
#
# e2e_cli.sh - the `signet` CLI against a real signetd (docs/cli.md):
# keys create/list/show/rotate/public-key, sign-file (signature and bundle),
# verify-file offline (public key, bundle) and online, the exit-status
# contract (0 valid, 1 invalid, 2 error, one line on stderr).  Signatures the
# CLI writes are checked with the openssl CLI, and a signature openssl makes
# is checked with the CLI, so neither side is only judged by itself.
#
# Fails (exit 2) when SIGNET_CLI is not built: nothing is skipped.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || exit 2

if [ -z "${SIGNET_CLI:-}" ] || [ ! -x "$SIGNET_CLI" ]; then
	echo "$E2E_NAME: the signet CLI is not built (SIGNET_CLI='${SIGNET_CLI:-}')" >&2
	exit 2
fi

ADMIN_KEY="e2e-cli-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
new_principal "$ADMIN_KEY" cli-signer '["signer"]'
SIGNER_KEY=$P_KEY

W=$E2E_TMP/work
mkdir -p "$W"
cd "$W" || exit 2

# cli API-KEY ARGS...: run signet with SIGNET_URL / SIGNET_API_KEY; sets
# CLI_RC, CLI_OUT, CLI_ERR.
cli() {
	local key=$1
	shift
	CLI_RC=0
	env -u SIGNET_URL -u SIGNET_API_KEY SIGNET_URL="$BASE_URL" ${key:+SIGNET_API_KEY="$key"} \
		"$SIGNET_CLI" "$@" >"$W/cli.out" 2>"$W/cli.err" || CLI_RC=$?
	CLI_OUT=$(cat "$W/cli.out")
	CLI_ERR=$(cat "$W/cli.err")
}

# assert_cli RC DESCRIPTION: exit status, and exactly one stderr line when non-zero
assert_cli() {
	if [ "$CLI_RC" != "$1" ]; then
		fail "$2" "expected exit $1, got $CLI_RC" "stdout: ${CLI_OUT:0:500}" "stderr: $CLI_ERR"
		return
	fi
	if [ "$1" != 0 ] && [ "$(grep -c . "$W/cli.err")" != 1 ]; then
		fail "$2" "exit $1 as expected, but stderr is not exactly one line:" "$CLI_ERR"
		return
	fi
	ok "$2 -> exit $1"
}

# ---- keys (as the admin)
cli "$ADMIN_KEY" keys create --alias cli-ec --algorithm EC-P256
assert_cli 0 "keys create EC-P256"
assert_eq "$(jq -r .algorithm <<<"$CLI_OUT")" EC-P256 "keys create prints the new key as JSON"
EC_ID=$(jq -r .id <<<"$CLI_OUT")
cli "$ADMIN_KEY" keys create --alias cli-ed --algorithm ed25519
assert_cli 0 "keys create Ed25519 (lower-case spelling)"
cli "$ADMIN_KEY" keys create --alias cli-rsa --algorithm RSA-2048
assert_cli 0 "keys create RSA-2048"
cli "$ADMIN_KEY" keys create --alias cli-ec --algorithm EC-P256
assert_cli 2 "keys create with an alias that exists"
assert_contains "$CLI_ERR" CONFLICT "... the error line names CONFLICT"

cli "$SIGNER_KEY" keys list --json
assert_cli 0 "keys list --json (as the signer)"
assert_eq "$(jq -r '[.keys[].alias] | sort | join(",")' <<<"$CLI_OUT")" "cli-ec,cli-ed,cli-rsa" "keys list --json lists the three keys"
cli "$SIGNER_KEY" keys list
assert_cli 0 "keys list"
for a in cli-ec cli-ed cli-rsa; do
	assert_contains "$CLI_OUT" "$a" "keys list shows $a"
done
cli "$SIGNER_KEY" keys show cli-ec
assert_cli 0 "keys show by alias"
assert_eq "$(jq -r .id <<<"$CLI_OUT")" "$EC_ID" "keys show gives the key's id"
cli "$SIGNER_KEY" keys show no-such-key
assert_cli 2 "keys show an unknown key"
assert_contains "$CLI_ERR" NOT_FOUND "... the error line names NOT_FOUND"

for a in cli-ec cli-ed cli-rsa; do
	cli "$SIGNER_KEY" keys public-key "$a" --out "$W/$a.pem"
	assert_cli 0 "keys public-key $a --out"
	require "export $a over HTTP" fetch_pem "$a" 1 "$W/$a.http.pem" "$SIGNER_KEY"
	assert_eq "$(pem_fingerprint "$W/$a.pem")" "$(pem_fingerprint "$W/$a.http.pem")" \
		"keys public-key $a writes the key the service exports"
done
cli "$SIGNER_KEY" keys public-key cli-ec
assert_cli 0 "keys public-key to stdout"
assert_contains "$CLI_OUT" "BEGIN PUBLIC KEY" "... prints a PEM public key"
cli "$SIGNER_KEY" keys create --alias signer-made --algorithm EC-P256
assert_cli 2 "keys create as a signer"
assert_contains "$CLI_ERR" PERMISSION_DENIED "... the error line names PERMISSION_DENIED"

# ---- sign-file
printf 'the CLI signs this\n' >"$W/app.txt"
head -c 20971520 /dev/urandom >"$W/big.bin"
cli "$SIGNER_KEY" sign-file app.txt --key cli-ec
assert_cli 0 "sign-file with the defaults"
require "sign-file wrote app.txt.sig" test -s "$W/app.txt.sig"
require "sign-file wrote app.txt.sig.bundle.json" test -s "$W/app.txt.sig.bundle.json"
assert_ok "openssl verifies the signature sign-file wrote" \
	openssl dgst -sha256 -verify "$W/cli-ec.pem" -signature "$W/app.txt.sig" "$W/app.txt"
B="$W/app.txt.sig.bundle.json"
assert_eq "$(jq -r .format "$B")" signet-bundle-v1 "bundle: format"
assert_eq "$(jq -r .key_id "$B")" "$EC_ID" "bundle: key_id"
assert_eq "$(jq -r '"\(.key_alias) \(.key_version) \(.key_algorithm) \(.signature_algorithm) \(.hash_algorithm)"' "$B")" \
	"cli-ec 1 EC-P256 ECDSA SHA-256" "bundle: alias, version, algorithms"
assert_eq "$(jq -r .digest "$B")" "$(openssl dgst -sha256 -binary "$W/app.txt" | b64)" "bundle: digest is the file's SHA-256"
assert_eq "$(jq -r .signature "$B")" "$(b64 "$W/app.txt.sig")" "bundle: signature equals the .sig file"
jq -r .public_key_pem "$B" >"$W/bundle.pem"
assert_eq "$(pem_fingerprint "$W/bundle.pem")" "$(pem_fingerprint "$W/cli-ec.pem")" "bundle: public_key_pem is the key's"
api "$SIGNER_KEY" GET "/v1/signatures/$(jq -r .signature_id "$B")"
assert_status 200 "the bundle's signature_id names a record"
assert_json .client_type signet-cli/0.1 "the record's client_type is the CLI's User-Agent"
assert_json .metadata.file app.txt "the record's metadata names the file"

cli "$SIGNER_KEY" sign-file big.bin --key cli-ec --hash-algorithm SHA3-384 --out "$W/big.sig" --bundle "$W/big.bundle"
assert_cli 0 "sign-file a 20 MiB file with SHA3-384, --out and --bundle"
assert_ok "openssl verifies the 20 MiB file's SHA3-384 signature" \
	openssl dgst -sha3-384 -verify "$W/cli-ec.pem" -signature "$W/big.sig" "$W/big.bin"
assert_eq "$(jq -r .hash_algorithm "$W/big.bundle")" SHA3-384 "bundle: hash_algorithm SHA3-384"

cli "$SIGNER_KEY" sign-file app.txt --key cli-ec --signature-format P1363 --out "$W/p1363.sig"
assert_cli 0 "sign-file with --signature-format P1363"
assert_eq "$(stat -c %s "$W/p1363.sig")" 64 "the P1363 signature is 64 bytes"
p1363_to_der "$W/p1363.sig" "$W/p1363.der"
assert_ok "openssl verifies the P1363 signature (converted to DER)" \
	openssl dgst -sha256 -verify "$W/cli-ec.pem" -signature "$W/p1363.der" "$W/app.txt"

cli "$SIGNER_KEY" sign-file app.txt --key cli-ed --out "$W/ed.sig"
assert_cli 0 "sign-file with the Ed25519 key"
openssl dgst -sha256 -binary "$W/app.txt" >"$W/app.sha256"
assert_ok "openssl verifies the Ed25519 signature over the file's digest" \
	openssl pkeyutl -verify -pubin -inkey "$W/cli-ed.pem" -rawin -in "$W/app.sha256" -sigfile "$W/ed.sig"

cli "$SIGNER_KEY" sign-file app.txt --key cli-rsa --signature-algorithm RSA-PSS --hash-algorithm SHA-512 --out "$W/pss.sig"
assert_cli 0 "sign-file RSA-PSS SHA-512"
assert_ok "openssl verifies the RSA-PSS signature (salt = 64)" \
	openssl dgst -sha512 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:64 -verify "$W/cli-rsa.pem" \
	-signature "$W/pss.sig" "$W/app.txt"

# ---- verify-file: valid
cli "" verify-file app.txt --signature app.txt.sig --public-key "$W/cli-ec.pem"
assert_cli 0 "verify-file --public-key, offline and without credentials"
assert_contains "$CLI_OUT" "signature valid" "... prints 'signature valid'"
cli "" verify-file app.txt --bundle "$B"
assert_cli 0 "verify-file --bundle"
cli "$SIGNER_KEY" verify-file app.txt --signature app.txt.sig --bundle "$B" --online
assert_cli 0 "verify-file --online"
cli "" verify-file big.bin --signature "$W/big.sig" --public-key "$W/cli-ec.pem" --hash-algorithm SHA3-384
assert_cli 0 "verify-file the 20 MiB file with SHA3-384"
cli "" verify-file app.txt --signature "$W/p1363.sig" --public-key "$W/cli-ec.pem" --signature-format P1363
assert_cli 0 "verify-file a P1363 signature"
cli "" verify-file app.txt --signature "$W/ed.sig" --public-key "$W/cli-ed.pem"
assert_cli 0 "verify-file an Ed25519 signature"
cli "" verify-file app.txt --signature "$W/pss.sig" --public-key "$W/cli-rsa.pem" --signature-algorithm RSA-PSS --hash-algorithm SHA-512
assert_cli 0 "verify-file an RSA-PSS signature"

# a signature made by openssl alone, checked by the CLI alone
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$W/local.key" 2>/dev/null
openssl pkey -in "$W/local.key" -pubout -out "$W/local.pem"
openssl dgst -sha384 -sign "$W/local.key" -out "$W/local.sig" "$W/app.txt"
cli "" verify-file app.txt --signature "$W/local.sig" --public-key "$W/local.pem" --hash-algorithm SHA-384
assert_cli 0 "verify-file accepts an ECDSA P-384 signature made by openssl"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/local-rsa.key" 2>/dev/null
openssl pkey -in "$W/local-rsa.key" -pubout -out "$W/local-rsa.pem"
openssl dgst -sha256 -sign "$W/local-rsa.key" -out "$W/local-rsa.sig" "$W/app.txt"
cli "" verify-file app.txt --signature "$W/local-rsa.sig" --public-key "$W/local-rsa.pem"
assert_cli 0 "verify-file accepts an RSA-PKCS1 signature made by openssl"

# ---- verify-file: invalid (exit 1)
cp "$W/app.txt" "$W/tampered.txt"
printf 'x' >>"$W/tampered.txt"
cli "" verify-file tampered.txt --signature app.txt.sig --public-key "$W/cli-ec.pem"
assert_cli 1 "verify-file a tampered file with --public-key"
assert_contains "$CLI_ERR" "signature INVALID" "... says 'signature INVALID'"
cli "" verify-file tampered.txt --bundle "$B"
assert_cli 1 "verify-file a tampered file with --bundle"
cli "$SIGNER_KEY" verify-file tampered.txt --signature app.txt.sig --bundle "$B" --online
assert_cli 1 "verify-file a tampered file --online"
cli "" verify-file app.txt --signature app.txt.sig --public-key "$W/local.pem"
assert_cli 1 "verify-file with another key's public key"
cli "" verify-file app.txt --signature "$W/local-rsa.sig" --public-key "$W/cli-rsa.pem"
assert_cli 1 "verify-file an openssl signature against the wrong RSA key"

# ---- errors (exit 2, one line)
cli "$SIGNER_KEY" sign-file no-such-file.txt --key cli-ec
assert_cli 2 "sign-file a missing file"
cli "$SIGNER_KEY" sign-file app.txt --key no-such-key --out "$W/none.sig"
assert_cli 2 "sign-file with an unknown key"
assert_contains "$CLI_ERR" NOT_FOUND "... the error line names NOT_FOUND"
assert_fails "... and writes no signature" test -e "$W/none.sig"
cli "$SIGNER_KEY" sign-file app.txt --key cli-ec --hash-algorithm MD4
assert_cli 2 "sign-file with an unknown hash"
cli "$SIGNER_KEY" sign-file app.txt --key cli-ec --signature-algorithm RSA-PSS --out "$W/none.sig"
assert_cli 2 "sign-file RSA-PSS with an EC key"
cli "wrong-key" sign-file app.txt --key cli-ec --out "$W/none.sig"
assert_cli 2 "sign-file with a wrong API key"
assert_contains "$CLI_ERR" UNAUTHENTICATED "... the error line names UNAUTHENTICATED"
cli "$ADMIN_KEY" sign-file app.txt --key cli-ec --out "$W/none.sig"
assert_cli 2 "sign-file as an admin (not a signer)"
assert_contains "$CLI_ERR" PERMISSION_DENIED "... the error line names PERMISSION_DENIED"
CLI_RC=0
env -u SIGNET_URL SIGNET_API_KEY="$SIGNER_KEY" "$SIGNET_CLI" sign-file app.txt --key cli-ec --out "$W/none.sig" \
	>"$W/cli.out" 2>"$W/cli.err" || CLI_RC=$?
CLI_OUT=$(cat "$W/cli.out") CLI_ERR=$(cat "$W/cli.err")
assert_cli 2 "sign-file without SIGNET_URL"
cli "" verify-file app.txt --signature app.txt.sig
assert_cli 2 "verify-file with neither --public-key, --bundle nor --online"
cli "" verify-file app.txt --signature app.txt.sig --public-key "$W/app.txt"
assert_cli 2 "verify-file with a --public-key that is not a key"
cli "$SIGNER_KEY" sign-file app.txt --key cli-ec --no-such-option
assert_cli 2 "an unknown option"
cli "" --url "$BASE_URL" --api-key "$SIGNER_KEY" sign-file app.txt --key cli-ec --out "$W/flags.sig"
assert_cli 0 "--url and --api-key flags instead of the environment"

# ---- rotation through the CLI
cli "$ADMIN_KEY" keys rotate cli-ec
assert_cli 0 "keys rotate"
assert_eq "$(jq -r .current_version <<<"$CLI_OUT")" 2 "keys rotate prints version 2 current"
cli "$SIGNER_KEY" sign-file app.txt --key cli-ec --out "$W/v2.sig" --bundle "$W/v2.bundle"
assert_cli 0 "sign-file after rotation"
assert_eq "$(jq -r .key_version "$W/v2.bundle")" 2 "the new bundle says key_version 2"
cli "$SIGNER_KEY" keys public-key cli-ec --version 2 --out "$W/cli-ec.v2.pem"
assert_cli 0 "keys public-key --version 2"
assert_ok "openssl verifies the version-2 signature with version 2's key" \
	openssl dgst -sha256 -verify "$W/cli-ec.v2.pem" -signature "$W/v2.sig" "$W/app.txt"
cli "" verify-file app.txt --signature "$W/v2.sig" --public-key "$W/cli-ec.pem"
assert_cli 1 "the version-2 signature is INVALID under version 1's key"
cli "$SIGNER_KEY" verify-file app.txt --signature app.txt.sig --online --key cli-ec --key-version 1
assert_cli 0 "the version-1 signature still verifies --online with --key-version 1"
cli "" verify-file app.txt --bundle "$B"
assert_cli 0 "the version-1 bundle still verifies offline after rotation"

e2e_finish
