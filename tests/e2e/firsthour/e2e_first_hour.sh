#!/usr/bin/env bash
#
# e2e_first_hour.sh - what a new user meets first (issue 15, "the first
# hour"): the README's walkthrough, run as written, and the CLI's help.
#
# The walkthrough's first shell block is taken from README.md itself (so the
# README cannot drift from what works) and run with bash -e in a fake
# checkout: build/bin points at the binaries under test, signet-data is the
# data directory of a real signetd started there with no bootstrap key in the
# environment (so it writes bootstrap-admin.key, as `make run` does).  Only
# the port in SIGNET_URL is replaced.  Checked: every step succeeds
# (openssl prints Verified OK), `principals create` hands over a working key
# as an export line, the checkout gets no new files, and the curl example's
# base64 -w0 keeps a SHA-512 digest on one line.  Then the help texts: keys
# lists ML-DSA-44/87 and DISABLED, `keys create --help` is about create only.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2

README="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/README.md"
require "SIGNET_CLI is built ($SIGNET_CLI)" [ -x "${SIGNET_CLI:-}" ]
BIN=$(dirname "$SIGNET_CLI")
require "signetd sits beside signet in $BIN" [ -x "$BIN/signetd" ]

# ---- a fake checkout with the server running in it, as after `make run`
ROOT=$E2E_TMP/checkout
mkdir -p "$ROOT/build"
ln -s "$BIN" "$ROOT/build/bin"
cd "$ROOT" || exit 2
require "signetd starts in the checkout" start_server "$ROOT/signet-data"
require "signetd wrote signet-data/bootstrap-admin.key" [ -s "$ROOT/signet-data/bootstrap-admin.key" ]
remember_secret "$(cat "$ROOT/signet-data/bootstrap-admin.key")"

# ---- the walkthrough block, as the README has it
awk '/^## Five-minute walkthrough/ { on = 1 } on && /^```sh$/ { grab = 1; next }
	grab && /^```$/ { exit } grab { print }' "$README" >"$E2E_TMP/walkthrough.sh"
require "the README has a walkthrough block" grep -q 'sign-file' "$E2E_TMP/walkthrough.sh"
assert_contains "$(cat "$E2E_TMP/walkthrough.sh")" 'eval "$(signet principals create' \
	"the walkthrough takes the new key from 'signet principals create', not from JSON by hand"
sed -i "s|http://127.0.0.1:8080|$BASE_URL|" "$E2E_TMP/walkthrough.sh"
# Afterwards: where the files went, and who the shell is.
printf '\npwd >"%s/where"\nprintf %%s "$SIGNET_API_KEY" >"%s/key"\n' "$E2E_TMP" "$E2E_TMP" \
	>>"$E2E_TMP/walkthrough.sh"
before=$(ls -A "$ROOT" | tr '\n' ' ')
OUT=$(bash -e "$E2E_TMP/walkthrough.sh" 2>&1)
RC=$?
assert_eq "$RC" 0 "the README walkthrough runs to the end with bash -e"
assert_contains "$OUT" "Verified OK" "openssl verifies the walkthrough's signature"
assert_contains "$OUT" "signature valid" "signet verify-file accepts it with the bundle"
assert_eq "$(ls -A "$ROOT" | tr '\n' ' ')" "$before" "the walkthrough leaves no file in the checkout"
SCRATCH=$(cat "$E2E_TMP/where" 2>/dev/null)
assert_ne "$SCRATCH" "$ROOT" "the walkthrough works in a scratch directory"
for f in app.tar.gz app.tar.gz.sig app.tar.gz.sig.bundle.json release.pem; do
	assert_ok "the scratch directory holds $f" test -s "$SCRATCH/$f"
done
CI_KEY=$(cat "$E2E_TMP/key" 2>/dev/null)
remember_secret "$CI_KEY"
api "$CI_KEY" POST /v1/sign "$(sign_body release "$(head -c 32 /dev/urandom | base64 -w0)" SHA-256)"
assert_status 200 "the key the walkthrough exported belongs to a signer"

# ---- the curl example: base64 -w0 and a SHA-512 digest
CURL_EX=$(awk '/^The same sign call over plain HTTP/ { on = 1 } on && /^```sh$/ { grab = 1; next }
	grab && /^```$/ { exit } grab { print }' "$README")
assert_contains "$CURL_EX" "base64 -w0" "the README's curl example uses base64 -w0"
head -c 64 /dev/urandom >"$E2E_TMP/d512"
api "$CI_KEY" POST /v1/sign "{\"key\":\"release\",\"hash_algorithm\":\"SHA-512\",\"digest\":\"$(base64 -w0 <"$E2E_TMP/d512")\"}"
assert_status 200 "a SHA-512 digest made with base64 -w0 is accepted"
rm -rf "$SCRATCH"

# ---- principals create prints a ready export line
export SIGNET_URL=$BASE_URL
SIGNET_API_KEY=$(cat "$ROOT/signet-data/bootstrap-admin.key")
export SIGNET_API_KEY
OUT=$("$SIGNET_CLI" principals create --name approver-1 --role approver,auditor)
assert_eq "$?" 0 "signet principals create exits 0"
LINE=$(printf '%s\n' "$OUT" | grep '^export SIGNET_API_KEY=')
assert_match "$LINE" "^export SIGNET_API_KEY='[A-Za-z0-9_-]+'$" "it prints export SIGNET_API_KEY='...'"
assert_match "$OUT" "^# principal approver-1 \(id [0-9a-f-]{36}, roles [a-z,]+, tenant" \
	"and a comment naming the principal"
NEW_KEY=$(eval "$LINE" && printf %s "$SIGNET_API_KEY")
remember_secret "$NEW_KEY"
api "$NEW_KEY" GET /v1/approvals
assert_status 200 "the printed key authenticates as the new approver"
api "$NEW_KEY" POST /v1/sign "$(sign_body release "$(head -c 32 /dev/urandom | base64 -w0)" SHA-256)"
assert_error 403 PERMISSION_DENIED "with the roles asked for, and no others"
assert_fails "principals create without --role is a usage error" \
	"$SIGNET_CLI" principals create --name nobody

# ---- help texts
HELP=$("$SIGNET_CLI" keys --help)
for w in ML-DSA-44 ML-DSA-65 ML-DSA-87 DISABLED; do
	assert_contains "$HELP" "$w" "signet keys --help mentions $w"
done
HELP=$("$SIGNET_CLI" keys create --help)
assert_match "$HELP" "^usage: signet keys create --alias" "signet keys create --help starts with create's usage"
assert_not_contains "$HELP" "destroy-version" "... and does not list the other keys commands"
assert_contains "$HELP" "ML-DSA-87" "... but keeps the algorithm list create needs"
e2e_finish
