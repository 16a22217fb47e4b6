#!/usr/bin/env bash
#
# e2e_portal.sh - the approvers' portal (SPEC §7, P1-P8) in a real browser.
#
# signetd runs from an empty working directory (the portal's files are in
# the binary).  This script makes the principals and three requests under a
# 2-of-M policy through the API, then portal_browser.mjs drives Debian's
# chromium with playwright-core (installed by `npm ci` from the committed
# package-lock.json; no browser download) through sign-in, the list, the
# detail view, approvals and a rejection.  Afterwards the API and the
# openssl CLI check what the clicks did: request 1 SIGNED with a signature
# openssl accepts, request 2 REJECTED with its comment and no vote from the
# empty-comment click, request 3 (the submitter's own) untouched.
#
# Needs: node, npm (registry access for the first `npm ci`), chromium.
# PORTAL_SHOTS=DIR keeps screenshots of each step.

. "$(dirname "${BASH_SOURCE[0]}")/../workflow/wf_lib.sh" || exit 2

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHROMIUM=${CHROMIUM:-}
for c in /usr/lib/chromium/chromium "$(command -v chromium 2>/dev/null)"; do
	if [ -z "$CHROMIUM" ] && [ -n "$c" ] && [ -x "$c" ]; then
		CHROMIUM=$c
	fi
done
require "chromium is installed (apt-get install chromium)" [ -n "$CHROMIUM" ]
require "node and npm are installed (apt-get install nodejs npm)" command -v node npm

# playwright-core, exactly as locked, in the build tree (or the temp dir).
NODE_DIR=${PORTAL_NODE_DIR:-$E2E_TMP/node}
mkdir -p "$NODE_DIR"
if ! cmp -s "$HERE/package-lock.json" "$NODE_DIR/package-lock.json" ||
	[ ! -f "$NODE_DIR/node_modules/playwright-core/package.json" ]; then
	cp "$HERE/package.json" "$HERE/package-lock.json" "$NODE_DIR/"
	require "npm ci installs playwright-core" \
		npm ci --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error
fi
cp "$HERE/portal_browser.mjs" "$NODE_DIR/"

# ---- the server, from an empty working directory
mkdir -p "$E2E_TMP/empty-cwd"
cd "$E2E_TMP/empty-cwd" || exit 2
require "signetd starts" wf_start "$E2E_TMP/data"
require "signetd's working directory is empty" [ -z "$(ls -A "$E2E_TMP/empty-cwd")" ]

api "" GET /portal/
assert_status 200 "GET /portal/ needs no credentials"
assert_contains "$RESP_CT" "text/html" "the portal is HTML"
assert_contains "$RESP_HEADERS" "Content-Security-Policy: default-src 'none'; script-src 'self';" \
	"GET /portal/ carries a strict Content-Security-Policy"
assert_not_contains "$RESP" "<script>" "the page has no inline script"
assert_not_contains "$RESP" "style=" "the page has no inline style"
api "" GET /portal
assert_status 301 "GET /portal redirects"
assert_contains "$RESP_HEADERS" "Location: /portal/" "... to /portal/"
api "" GET /portal/../v1/keys "" --path-as-is
assert_ne "$STATUS" 200 "no path escapes the portal's files"
api "" GET /portal/nothing.js
assert_error 404 NOT_FOUND "an unknown portal file is 404"

new_key "$ADMIN_KEY" release-ec EC-P256
require "export the key's public half" fetch_pem release-ec 1 "$E2E_TMP/release.pem"
api "$ADMIN_KEY" POST /v1/policies '{"project":"app","slug":"release","key":"release-ec","approvals_required":2}'
require "create policy app/release (2 approvals): $STATUS $RESP" [ "$STATUS" = 201 ]

new_principal "$ADMIN_KEY" ci-submitter '["signer"]'
SUBMITTER=$P_KEY SUBMITTER_ID=$P_ID
new_principal "$ADMIN_KEY" approver-1 '["approver"]'
APPR1=$P_KEY APPR1_ID=$P_ID
new_principal "$ADMIN_KEY" approver-2 '["approver"]'
APPR2=$P_KEY
new_principal "$ADMIN_KEY" self-approver '["signer","approver"]'
SELF=$P_KEY
api "$ADMIN_KEY" POST /v1/tenants '{"name":"tenant-b"}'
require "create tenant B" [ "$STATUS" = 201 ]
B_TENANT=$(jget .id)
new_principal "$ADMIN_KEY" b-admin '["admin"]' "$B_TENANT"
B_ADMIN=$P_KEY
new_principal "$B_ADMIN" b-approver '["approver"]'
B_APPR=$P_KEY

# submit API-KEY METADATA: a request under app/release; sets REQ and DIG
submit() {
	DIG=$(rand_digest)
	api "$1" POST /v1/sign "$(jq -cn --arg d "$DIG" --argjson m "$2" \
		'{policy:"app/release",digest:$d,hash_algorithm:"SHA-256",metadata:$m}')"
	require "submit under app/release: got $STATUS $RESP" [ "$STATUS" = 202 ]
	REQ=$(jget .request_id)
}
submit "$SUBMITTER" '{"pipeline":"release-42","commit":"9f3c2e1"}'
R1=$REQ R1_DIG=$DIG
submit "$SUBMITTER" '{"pipeline":"nightly-7"}'
R2=$REQ
submit "$SELF" '{"pipeline":"hotfix-3"}'
R3=$REQ

jq -n --arg base "$BASE_URL" --arg chromium "$CHROMIUM" --arg appr1 "$APPR1" --arg appr1_id "$APPR1_ID" \
	--arg appr2 "$APPR2" --arg self "$SELF" --arg b_appr "$B_APPR" --arg signer "$SUBMITTER" \
	--arg submitter_id "$SUBMITTER_ID" --arg r1 "$R1" --arg r1_digest "$R1_DIG" --arg r2 "$R2" --arg r3 "$R3" \
	'{base_url:$base, chromium:$chromium, appr1:$appr1, appr1_id:$appr1_id, appr2:$appr2, self:$self,
	  b_appr:$b_appr, signer:$signer, submitter_id:$submitter_id, key_alias:"release-ec",
	  r1:$r1, r1_digest:$r1_digest, r2:$r2, r3:$r3}' >"$E2E_TMP/portal.json"
chmod 600 "$E2E_TMP/portal.json"

if [ -n "${PORTAL_SHOTS:-}" ]; then
	mkdir -p "$PORTAL_SHOTS"
fi
BROWSER_OUT=$E2E_TMP/browser.out
PORTAL_CONFIG=$E2E_TMP/portal.json timeout 180 node "$NODE_DIR/portal_browser.mjs" >"$BROWSER_OUT" 2>&1
BROWSER_RC=$?
cat "$BROWSER_OUT"
E2E_PASSED=$((E2E_PASSED + $(grep -c '^ok ' "$BROWSER_OUT")))
E2E_FAILED=$((E2E_FAILED + $(grep -c '^FAIL ' "$BROWSER_OUT")))
if [ "$BROWSER_RC" -ne 0 ] && ! grep -q '^FAIL ' "$BROWSER_OUT"; then
	fail "the browser script ran (exit status $BROWSER_RC)"
fi

# ---- what the clicks did, seen through the API and checked with openssl
assert_request_reaches "$APPR1" "$R1" SIGNED "request 1, approved twice in the portal, is signed"
api "$SUBMITTER" GET "/v1/requests/$R1"
assert_ec_verifies "$E2E_TMP/release.pem" "$R1_DIG" "$(jget .signature)" \
	"openssl verifies request 1's signature with the key's public half"
api "$APPR1" GET "/v1/approvals/$R1"
assert_json '[.votes[].decision] | join(",")' "APPROVED,APPROVED" \
	"request 1 has exactly two votes, both approvals (the empty-comment Reject sent nothing)"
assert_json "[.votes[] | select(.approver == \"$APPR1_ID\") | .comment] | join(\"\")" "checked build 42" \
	"approver-1's vote carries the comment typed in the portal"
api "$APPR1" GET "/v1/approvals/$R2"
assert_json '.status' REJECTED "request 2, rejected in the portal, is REJECTED"
assert_json '[.votes[] | .decision + ": " + .comment] | join(",")' \
	"REJECTED: wrong artifact: not from the release branch" "the rejection carries its comment"
api "$APPR1" GET "/v1/approvals/$R3"
assert_json '"\(.status) \(.votes | length)"' "PENDING_APPROVAL 0" \
	"request 3, which its submitter tried to approve, still waits with no vote"
e2e_finish
