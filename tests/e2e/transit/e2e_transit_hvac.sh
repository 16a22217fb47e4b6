#!/usr/bin/env bash
#
# e2e_transit_hvac.sh - the hvac client (Debian python3-hvac) against the
# Transit dialect of a real signetd: list_keys (the LIST method), read_key,
# sign_data and verify_signed_data with url= the signetd base and token=
# an API key, as a Vault user writes it.  Each signature hvac gets back is
# verified by the openssl CLI; hvac's exceptions for a bad token (Forbidden)
# and an unknown key (InvalidPath) show that Vault's statuses come through.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2

# Debian's python3 (python3-hvac lives in its dist-packages)
PY=/usr/bin/python3
require "python3-hvac is installed (scripts/install-deps.sh)" "$PY" -c 'import hvac'

W=$E2E_TMP/work
mkdir -p "$W"
cd "$W" || exit 2

ADMIN_KEY="e2e-hvac-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
new_principal "$ADMIN_KEY" hvac-signer '["signer"]'
SIGNER=$P_KEY
new_key "$ADMIN_KEY" release-rsa RSA-3072
new_key "$ADMIN_KEY" release-ec EC-P384

printf 'artifact built by CI\n' >artifact.txt

# The hvac program: prints one line per result, files for openssl.
cat >client.py <<'PY'
import base64, sys
import hvac

url, token = sys.argv[1], sys.argv[2]
client = hvac.Client(url=url, token=token)
keys = client.secrets.transit.list_keys()["data"]["keys"]
print("list", ",".join(sorted(keys)))
for name in ("release-rsa", "release-ec"):
    key = client.secrets.transit.read_key(name=name)["data"]
    print("type", name, key["type"], key["latest_version"])
    with open(name + ".pem", "w") as f:
        f.write(key["keys"][str(key["latest_version"])]["public_key"])
data = open("artifact.txt", "rb").read()
b64 = base64.b64encode(data).decode()
for name, opts in (("release-rsa", {"hash_algorithm": "sha2-384", "signature_algorithm": "pkcs1v15"}),
                   ("release-rsa", {"hash_algorithm": "sha2-512"}),
                   ("release-ec", {"hash_algorithm": "sha2-384"})):
    sig = client.secrets.transit.sign_data(name=name, hash_input=b64, **opts)["data"]["signature"]
    tag = name + "-" + opts.get("signature_algorithm", "default") + "-" + opts["hash_algorithm"]
    with open(tag + ".sig", "wb") as f:
        f.write(base64.b64decode(sig.split(":", 2)[2]))
    ok = client.secrets.transit.verify_signed_data(name=name, hash_input=b64, signature=sig, **opts)
    print("verify", tag, ok["data"]["valid"])
    bad = client.secrets.transit.verify_signed_data(name=name, hash_input=base64.b64encode(b"other").decode(),
                                                     signature=sig, **opts)
    print("verify-other", tag, bad["data"]["valid"])
try:
    hvac.Client(url=url, token="wrong-token").secrets.transit.sign_data(name="release-ec", hash_input=b64)
    print("badtoken accepted")
except hvac.exceptions.Forbidden:
    print("badtoken Forbidden")
try:
    client.secrets.transit.read_key(name="no-such-key")
    print("unknown found")
except hvac.exceptions.InvalidPath:
    print("unknown InvalidPath")
PY

OUT=$("$PY" client.py "$BASE_URL" "$SIGNER" 2>&1)
printf '%s\n' "$OUT" >hvac.out
assert_contains "$OUT" "list release-ec,release-rsa" "hvac list_keys (LIST) names both keys"
assert_contains "$OUT" "type release-rsa rsa-3072 1" "hvac read_key: rsa-3072, latest_version 1"
assert_contains "$OUT" "type release-ec ecdsa-p384 1" "hvac read_key: ecdsa-p384"
for tag in release-rsa-pkcs1v15-sha2-384 release-rsa-default-sha2-512 release-ec-default-sha2-384; do
	assert_contains "$OUT" "verify $tag True" "hvac verify_signed_data accepts $tag"
	assert_contains "$OUT" "verify-other $tag False" "hvac verify_signed_data refuses $tag over other data"
done
assert_ok "openssl verifies hvac's RSA PKCS#1 v1.5 SHA-384 signature" openssl dgst -sha384 -verify release-rsa.pem \
	-signature release-rsa-pkcs1v15-sha2-384.sig artifact.txt
assert_ok "openssl verifies hvac's RSA-PSS SHA-512 signature (largest salt: 384-64-2)" openssl dgst -sha512 \
	-verify release-rsa.pem -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:318 \
	-signature release-rsa-default-sha2-512.sig artifact.txt
assert_ok "openssl verifies hvac's ECDSA P-384 signature" openssl dgst -sha384 -verify release-ec.pem \
	-signature release-ec-default-sha2-384.sig artifact.txt
assert_contains "$OUT" "badtoken Forbidden" "a bad token is hvac's Forbidden (403)"
assert_contains "$OUT" "unknown InvalidPath" "an unknown key is hvac's InvalidPath (404)"

api "$ADMIN_KEY" GET "/v1/requests?limit=1000"
assert_json '.requests | length' 3 "each hvac signature is a native request"
api "$ADMIN_KEY" GET /v1/audit/verify
assert_json .valid true "one intact audit chain"

stop_server
e2e_finish
