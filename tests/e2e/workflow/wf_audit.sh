#!/usr/bin/env bash
#
# wf_audit.sh - the audit log: the events of a real run are there, the
# chain verifies, and tampering with the SQLite file is caught.
#
# A run creates principals and keys, signs, approves, and fails to log in
# with a revoked key and with a wrong secret.  GET /v1/audit must show
# principal.created, key.created, policy.created, request.signed,
# approval.approved and auth.failed entries linked by prev_hash;
# GET /v1/audit/verify says valid.  Then signetd is stopped and, on fresh
# copies of its data directory, an attacker with file access drops the
# append-only triggers and (1) edits an entry's details, (2) deletes a
# middle entry, (3) swaps the contents of two entries, (4) deletes the last
# entry, (5) deletes the last entry and the chain head; each time the
# restarted signetd must answer valid:false with the first bad seq, and
# `signet audit verify` (when the CLI has it) must exit 1.  An untouched
# copy must still verify.

. "$(dirname "${BASH_SOURCE[0]}")/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA"

# Does the CLI have `signet audit verify`?  (Added separately; skipped until it exists.)
HAVE_CLI_AUDIT=0
if [ -n "${SIGNET_CLI:-}" ] && [ -x "$SIGNET_CLI" ] && "$SIGNET_CLI" audit --help >/dev/null 2>&1; then
	HAVE_CLI_AUDIT=1
fi

# cli_audit_verify: run `signet audit verify` against the current server as
# the admin; sets CLI_RC and CLI_ERR (stderr).
cli_audit_verify() {
	CLI_ERR=$(SIGNET_URL=$BASE_URL SIGNET_API_KEY=$ADMIN_KEY "$SIGNET_CLI" audit verify 2>&1 >/dev/null)
	CLI_RC=$?
}

# ---- a run with events
new_principal "$ADMIN_KEY" au-signer '["signer"]'
SIGNER=$P_KEY SIGNER_ID=$P_ID TENANT=$(jget .tenant)
SIGNER_PREFIX=$(printf '%s' "$SIGNER" | cut -d_ -f2)
new_principal "$ADMIN_KEY" au-approver-1 '["approver"]'
APPR1=$P_KEY APPR1_ID=$P_ID
new_principal "$ADMIN_KEY" au-approver-2 '["approver"]'
APPR2=$P_KEY
new_principal "$ADMIN_KEY" au-auditor '["auditor"]'
AUDITOR=$P_KEY
new_principal "$ADMIN_KEY" au-leaver '["signer"]'
LEAVER=$P_KEY LEAVER_KEY_ID=$P_KEY_ID
new_principal "$ADMIN_KEY" au-admin '["admin"]'
ADMIN_ONLY=$P_KEY
new_key "$ADMIN_KEY" au-ec EC-P256
KEY_ID=$K_ID
api "$ADMIN_KEY" POST /v1/policies '{"project":"au","slug":"release","key":"au-ec","approvals_required":2}'
require "create policy au/release: $STATUS" [ "$STATUS" = 201 ]

api "$SIGNER" POST /v1/sign "$(sign_body au-ec "$(rand_digest)" SHA-256)"
require "a fast signature" [ "$STATUS" = 200 ]
FAST_REQ=$(jget .request_id)
api "$SIGNER" POST /v1/sign "$(jq -cn --arg d "$(rand_digest)" '{policy:"au/release",digest:$d,hash_algorithm:"SHA-256"}')"
APPROVED_REQ=$(jget .request_id)
api "$APPR1" POST "/v1/approvals/$APPROVED_REQ/approve" '{"comment":"ok"}'
assert_status 200 "approver-1 approves"
api "$APPR2" POST "/v1/approvals/$APPROVED_REQ/approve"
assert_request_reaches "$SIGNER" "$APPROVED_REQ" SIGNED "the approved request"

# Failed logins: a revoked key, and a wrong secret behind a real key's prefix.
api "$ADMIN_KEY" DELETE "/v1/api-keys/$LEAVER_KEY_ID"
assert_status 204 "revoke au-leaver's API key"
api "$LEAVER" GET /v1/keys
assert_error 401 UNAUTHENTICATED "the revoked key is refused"
api "sg_${SIGNER_PREFIX}_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" GET /v1/keys
assert_error 401 UNAUTHENTICATED "a wrong secret with au-signer's prefix is refused"
api "sg_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" GET /v1/keys
assert_error 401 UNAUTHENTICATED "a key nobody owns is refused"

# ---- the entries
api "$SIGNER" GET /v1/audit
assert_error 403 PERMISSION_DENIED "a signer reads the audit log"
api "$AUDITOR" GET "/v1/audit?limit=10000"
assert_status 200 "the auditor reads the audit log"
ENTRIES=$RESP
N=$(jget '.entries | length')
echo "# $N entries in the tenant chain"
# has ACTION OBJECT [ACTOR]: an entry with that action and object (and actor)
has() {
	jq -e --arg a "$1" --arg o "$2" --arg who "${3:-*}" \
		'[.entries[] | select(.action == $a and .object == $o and ($who == "*" or .actor == $who))] | length > 0' \
		<<<"$ENTRIES" >/dev/null
}
assert_ok "principal.created for au-signer, by the bootstrap admin" has principal.created "$SIGNER_ID"
assert_ok "key.created for au-ec" has key.created "$KEY_ID"
assert_eq "$(jq -r '[.entries[] | select(.action == "policy.created")] | length' <<<"$ENTRIES")" 1 "one policy.created entry"
assert_ok "request.signed for the fast request, by au-signer" has request.signed "$FAST_REQ" "$SIGNER_ID"
assert_ok "request.submitted for the request needing approval" has request.submitted "$APPROVED_REQ" "$SIGNER_ID"
assert_ok "approval.approved for it by approver-1" has approval.approved "$APPROVED_REQ" "$APPR1_ID"
assert_ok "request.signed for it, by the worker (actor \"\")" has request.signed "$APPROVED_REQ" ""
assert_ok "api_key.revoked for au-leaver's key" has api_key.revoked "$LEAVER_KEY_ID"
AUTH_FAILED=$(jq -c '[.entries[] | select(.action == "auth.failed")]' <<<"$ENTRIES")
assert_eq "$(jq length <<<"$AUTH_FAILED")" 2 "two auth.failed entries in the tenant (the revoked key, the wrong secret)"
assert_eq "$(jq -r '[.[] | .actor] | unique | join(",")' <<<"$AUTH_FAILED")" "" "auth.failed entries have actor \"\""
assert_eq "$(jq -r '[.[] | .details.path] | unique | join(",")' <<<"$AUTH_FAILED")" "/v1/keys" "auth.failed entries record the path"
assert_not_contains "$ENTRIES" "${LEAVER##*_}" "the audit log does not contain the revoked key's secret"
assert_eq "$(jq -r '[.entries[] | .seq] == [range(1; (.entries | length) + 1)]' <<<"$ENTRIES")" true \
	"seq runs 1..$N without gaps"
assert_eq "$(jq -r '.entries as $e | [range(1; $e | length) | select($e[.].prev_hash != $e[. - 1].hash)] | length' <<<"$ENTRIES")/$(jq -r '.entries[0].prev_hash' <<<"$ENTRIES")" \
	"0/0000000000000000000000000000000000000000000000000000000000000000" \
	"every entry's prev_hash is the previous entry's hash; the first is all zeros"
# Paging gives the same entries.
paged="" after=0
for ((i = 0; i < 100; i++)); do
	api "$AUDITOR" GET "/v1/audit?after=$after&limit=7"
	[ "$(jget '.entries | length')" = 0 ] && break
	paged+=$(jget '.entries[] | .hash')$'\n'
	after=$(jget .next_after)
done
assert_eq "$paged" "$(jq -r '.entries[] | .hash' <<<"$ENTRIES")"$'\n' "paging with after/limit=7 returns the same $N entries"

api "$ADMIN_KEY" GET "/v1/audit?scope=service&limit=10000"
assert_status 200 "the operator reads the service chain"
assert_json '[.entries[] | select(.action == "auth.failed" and .details.path == "/v1/keys")] | length' 1 \
	"the failed login with a key nobody owns is in the service chain"
api "$ADMIN_ONLY" GET "/v1/audit?scope=service"
assert_error 403 PERMISSION_DENIED "an admin without operator reads the service chain"

api "$AUDITOR" GET /v1/audit/verify
assert_json '"\(.valid) \(.checked)"' "true $N" "GET /v1/audit/verify: valid, all $N entries checked"
api "$ADMIN_KEY" GET "/v1/audit/verify?scope=service"
assert_json .valid true "the service chain verifies"
if [ "$HAVE_CLI_AUDIT" = 1 ]; then
	cli_audit_verify
	assert_eq "$CLI_RC" 0 "signet audit verify exits 0 on the untouched log"
	EXPORTED=$(SIGNET_URL=$BASE_URL SIGNET_API_KEY=$AUDITOR "$SIGNET_CLI" audit export 2>/dev/null | jq -r .hash)
	assert_eq "$EXPORTED" "$(jq -r '.entries[] | .hash' <<<"$ENTRIES")" "signet audit export writes the $N entries"
else
	skip "signet audit verify: the CLI has no 'audit' command (signet audit --help fails); API checked only"
fi

# ---- tampering
stop_server
require "signetd stops cleanly" [ "$SERVER_EXIT" = 0 ]
TRIGGERS=$(sql "$DATA" "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log' ORDER BY name" | tr '\n' ' ')
assert_eq "$TRIGGERS" "audit_log_no_delete audit_log_no_update " "the store has the two append-only triggers on audit_log"
HEAD=$(sql "$DATA" "SELECT max(seq) FROM audit_log WHERE tenant_id = '$TENANT'")
assert_eq "$HEAD" "$N" "store: the tenant chain ends at seq $N"
EDIT_SEQ=$(sql "$DATA" "SELECT seq FROM audit_log WHERE tenant_id = '$TENANT' AND action = 'principal.created'
	AND details LIKE '%au-auditor%'")
MID=$((N / 2))
SWAP_A=$((MID + 1)) SWAP_B=$((MID + 3))
require "the chain is long enough to tamper with ($N entries)" [ "$N" -ge 12 ] && [ -n "$EDIT_SEQ" ]

# On a copy: without dropping the triggers, the store refuses.
cp -a "$DATA" "$E2E_TMP/locked"
out=$(sql "$E2E_TMP/locked" "UPDATE audit_log SET details = '{}' WHERE tenant_id = '$TENANT' AND seq = 1" 2>&1)
assert_contains "$out" "append-only" "with the triggers, an UPDATE of audit_log is refused"
out=$(sql "$E2E_TMP/locked" "DELETE FROM audit_log WHERE tenant_id = '$TENANT' AND seq = $N" 2>&1)
assert_contains "$out" "append-only" "with the triggers, a DELETE from audit_log is refused"

DROP="DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
W="tenant_id = '$TENANT'"
COLS=(ts actor action object details prev_hash hash)
swap_sql() {
	local a=$1 b=$2 set_a="" set_b="" c
	for c in "${COLS[@]}"; do
		set_a+="$c = (SELECT $c FROM t WHERE seq = $b), "
		set_b+="$c = (SELECT $c FROM t WHERE seq = $a), "
	done
	echo "CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE $W AND seq IN ($a, $b);
		UPDATE audit_log SET ${set_a%, } WHERE $W AND seq = $a;
		UPDATE audit_log SET ${set_b%, } WHERE $W AND seq = $b;"
}

# tamper NAME EXPECTED-FIRST-BAD-SEQ SQL: on a fresh copy, apply SQL, restart, check
tamper() {
	local name=$1 want=$2 q=$3 dir="$E2E_TMP/tamper-$1" out
	rm -rf "$dir"
	cp -a "$DATA" "$dir"
	if ! out=$(sql "$dir" "$DROP $q" 2>&1); then
		fail "$name: the tampering SQL runs" "$out"
		return
	fi
	if ! wf_start "$dir"; then
		fail "$name: signetd starts on the tampered copy"
		return
	fi
	api "$AUDITOR" GET /v1/audit/verify
	assert_json '"\(.valid) \(.first_bad_seq)"' "false $want" "$name: GET /v1/audit/verify says valid:false, first_bad_seq $want"
	echo "#   reason: $(jget .reason)"
	if [ "$HAVE_CLI_AUDIT" = 1 ]; then
		cli_audit_verify
		assert_eq "$CLI_RC" 1 "$name: signet audit verify exits 1"
		assert_match "$CLI_ERR" "(^|[^0-9])$want([^0-9]|$)" "$name: signet audit verify names entry $want"
	fi
	stop_server
}
tamper "edit details of entry $EDIT_SEQ" "$EDIT_SEQ" \
	"UPDATE audit_log SET details = replace(details, 'au-auditor', 'mallory') WHERE $W AND seq = $EDIT_SEQ;"
tamper "delete middle entry $MID" "$MID" "DELETE FROM audit_log WHERE $W AND seq = $MID;"
tamper "swap entries $SWAP_A and $SWAP_B" "$SWAP_A" "$(swap_sql "$SWAP_A" "$SWAP_B")"
tamper "delete the last entry $N" "$N" "DELETE FROM audit_log WHERE $W AND seq = $N;"
tamper "delete the last entry and the chain head" 1 \
	"DELETE FROM audit_log WHERE $W AND seq = $N; DELETE FROM chain_heads WHERE $W;"

# Sanity of the copies: each tampering changed what it meant to, and only that.
assert_eq "$(sql "$E2E_TMP/tamper-delete middle entry $MID" "SELECT count(*) FROM audit_log WHERE $W")" $((N - 1)) \
	"the middle-delete copy has $((N - 1)) entries"
assert_eq "$(sql "$E2E_TMP/tamper-swap entries $SWAP_A and $SWAP_B" "SELECT action || object FROM audit_log WHERE $W AND seq = $SWAP_A")" \
	"$(sql "$DATA" "SELECT action || object FROM audit_log WHERE $W AND seq = $SWAP_B")" "the swap copy really swapped the entries"

# An untouched copy still verifies after a restart.
cp -a "$DATA" "$E2E_TMP/untouched"
require "signetd starts on the untouched copy" wf_start "$E2E_TMP/untouched"
api "$AUDITOR" GET /v1/audit/verify
assert_json '"\(.valid) \(.checked)"' "true $N" "untouched copy: GET /v1/audit/verify still valid over $N entries"
if [ "$HAVE_CLI_AUDIT" = 1 ]; then
	cli_audit_verify
	assert_eq "$CLI_RC" 0 "untouched copy: signet audit verify exits 0"
fi

e2e_finish
