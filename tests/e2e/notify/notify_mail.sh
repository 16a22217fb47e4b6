#!/usr/bin/env bash
#
# notify_mail.sh - approval e-mail through a local SMTP sink (N7, N8).
#
# signetd gets SIGNET_SMTP_URL (smtp://127.0.0.1:<sink>), SIGNET_SMTP_FROM
# and SIGNET_PUBLIC_URL.  Principals with and without addresses, in and
# out of each policy's approver group, in this tenant and another.
# Checked: a request waiting under a policy whose approvers are the
# approver role mails exactly the approver-role principals with an email,
# not its submitter (who holds the role too), not an auditor with an email,
# not an approver without one, not another tenant's approver; a policy
# that lists principals mails exactly the listed ones with an email; a
# request signed at once mails nobody; each message comes from smtp_from,
# names the request id, its submitter and metadata, and links to
# <public_url>/portal/; one message per recipient and request.  Settings
# that cannot work (a non-SMTP URL, no sender, a bad sender) stop signetd.

. "$(dirname "${BASH_SOURCE[0]}")/notify_lib.sh" || exit 2

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "$E2E_NAME: python3-aiosmtpd is required (scripts/install-deps.sh)" >&2
	exit 2
fi
# Settings that cannot work stop signetd at start, with a message.
bad_start() {
	local out=$E2E_TMP/bad-start.log rc=0
	env "$@" timeout 20 "$SIGNETD" --listen 127.0.0.1:0 --data-dir "$E2E_TMP/bad-data" >/dev/null 2>"$out" || rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -qi "smtp" "$out"; then
		ok "signetd refuses to start with $*"
	else
		fail "signetd refuses to start with $*" "exit $rc" "$(cat "$out")"
	fi
}
bad_start SIGNET_SMTP_URL=http://127.0.0.1:25 SIGNET_SMTP_FROM=signet@example.org
bad_start SIGNET_SMTP_URL=smtp://127.0.0.1:25
bad_start SIGNET_SMTP_URL=smtp://127.0.0.1:25 "SIGNET_SMTP_FROM=x@y.z>"

MAIL=$E2E_TMP/smtp
require "the SMTP sink starts" start_smtp_sink "$MAIL"
DATA=$E2E_TMP/data
require "signetd starts with e-mail configured" wf_start "$DATA" SIGNET_SMTP_URL="$SMTP_URL" \
	SIGNET_SMTP_FROM=signet@example.org SIGNET_PUBLIC_URL=https://signet.example.org/ \
	SIGNET_WEBHOOK_RETRY_BASE_MS=200

new_key "$ADMIN_KEY" rel-ec EC-P256
# new_person NAME ROLES EMAIL|"" [TENANT]: sets P_ID, P_KEY
new_person() {
	local body
	body=$(jq -cn --arg n "$1" --argjson r "$2" --arg e "$3" --arg t "${4:-}" \
		'{name:$n,roles:$r} + (if $e != "" then {email:$e} else {} end) + (if $t != "" then {tenant:$t} else {} end)')
	api "$ADMIN_KEY" POST /v1/principals "$body"
	require "create principal $1: got $STATUS $RESP" [ "$STATUS" = 201 ]
	P_ID=$(jget .id)
	P_KEY=$(jget .api_key)
	remember_secret "$P_KEY"
}
new_person submitter '["signer","approver"]' submitter@example.org
SUBMITTER=$P_KEY
new_person appr-1 '["approver"]' appr-1@example.org
A1_ID=$P_ID
new_person appr-2 '["approver"]' ""
new_person appr-3 '["approver"]' appr-3@example.org
new_person auditor '["auditor"]' auditor@example.org
new_person list-a '["auditor"]' list-a@example.org
LA_ID=$P_ID
new_person list-b '["signer"]' ""
LB_ID=$P_ID
api "$ADMIN_KEY" POST /v1/tenants '{"name":"other"}'
require "create tenant other" [ "$STATUS" = 201 ]
new_person other-approver '["approver"]' other@example.org other

api "$ADMIN_KEY" POST /v1/policies '{"project":"app","slug":"by-role","key":"rel-ec","approvals_required":1}'
require "create policy app/by-role" [ "$STATUS" = 201 ]
api "$ADMIN_KEY" POST /v1/policies "$(jq -cn --arg a "$LA_ID" --arg b "$LB_ID" --arg c "$A1_ID" \
	'{project:"app",slug:"by-list",key:"rel-ec",approvals_required:2,approvers:{principals:[$a,$b,$c]}}')"
require "create policy app/by-list" [ "$STATUS" = 201 ]

api "$SUBMITTER" POST /v1/sign "$(sign_body "" "$(rand_digest)" SHA-256 '{"policy":"app/by-role","metadata":{"build":"build-4711","branch":"main"}}' | jq -c 'del(.key)')"
require "submit under app/by-role: got $STATUS $RESP" [ "$STATUS" = 202 ]
R1=$(jget .request_id)
api "$SUBMITTER" POST /v1/sign "$(sign_body "" "$(rand_digest)" SHA-256 '{"policy":"app/by-list","metadata":{"build":"build-4712"}}' | jq -c 'del(.key)')"
require "submit under app/by-list: got $STATUS $RESP" [ "$STATUS" = 202 ]
R2=$(jget .request_id)
api "$SUBMITTER" POST /v1/sign "$(sign_body rel-ec "$(rand_digest)" SHA-256)"
require "a sync signature: got $STATUS $RESP" [ "$STATUS" = 200 ]

deadline=$(($(date +%s) + 60))
while [ "$(mail_q "$MAIL" length)" -lt 4 ] && [ "$(date +%s)" -lt "$deadline" ]; do
	sleep 0.2
done
sleep 2  # a fifth message would show by now
assert_eq "$(mail_q "$MAIL" length)" 4 "exactly 4 messages were sent"
rcpts() {
	mail_q "$MAIL" "[.[] | select(.data | contains(\"$1\")) | .rcpt_tos[]] | sort | join(\",\")"
}
assert_eq "$(rcpts "$R1")" "appr-1@example.org,appr-3@example.org" \
	"N8: the by-role request mails exactly the approver-role principals with an email (not the submitter, not appr-2, not the auditor, not the other tenant)"
assert_eq "$(rcpts "$R2")" "appr-1@example.org,list-a@example.org" \
	"N8: the by-list request mails exactly the listed principals with an email"
assert_eq "$(mail_q "$MAIL" '[.[] | .rcpt_tos | length == 1] | all')" true "one recipient per message"
assert_eq "$(mail_q "$MAIL" '[.[].mail_from] | unique | join(",")')" signet@example.org "N7: the envelope sender is smtp_from"
M1=$(mail_q "$MAIL" "[.[] | select(.rcpt_tos[0] == \"appr-3@example.org\")][0].data")
assert_contains "$M1" "From: Signet <signet@example.org>" "the From header is smtp_from"
assert_contains "$M1" "To: <appr-3@example.org>" "the To header is the approver"
assert_contains "$M1" "Subject: Signet: signing request $R1 waits for your approval" "the subject names the request"
assert_contains "$M1" "Submitted by: submitter (" "the message names the submitter"
assert_contains "$M1" '"build": "build-4711"' "the message shows the metadata"
assert_contains "$M1" '"branch": "main"' "the message shows every metadata field"
assert_contains "$M1" "Policy:      app/by-role" "the message names the policy"
assert_contains "$M1" "https://signet.example.org/portal/" "the message links to the portal at public_url"
ALL_MAIL=$(mail_q "$MAIL" '[.[].data] | join("\n")')
assert_not_contains "$ALL_MAIL" "$SUBMITTER" "the submitter's API key is in no message"
assert_not_contains "$ALL_MAIL" "$ADMIN_KEY" "the admin's API key is in no message"

e2e_finish
