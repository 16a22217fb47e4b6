#!/usr/bin/env bash
#
# wf_approvals.sh - quorum approvals end to end.
#
# Two policies need 2 approvals: one names its approvers by role, the other
# by a list of principal ids.  Checked: a request waits in
# PENDING_APPROVAL; the submitter may not vote even when it holds the
# approver role; principals outside the group get 403; an approver counts
# once (409 CONFLICT); 2 approvals queue the request and a worker signs it
# (openssl verifies); a rejection needs a comment, ends the request, and
# later votes are 409 FAILED_PRECONDITION; an approval window of 1 s
# rejects the request with an error naming the window; another tenant's
# approver sees neither the request nor its place in GET /v1/approvals.

. "$(dirname "${BASH_SOURCE[0]}")/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA"
new_key "$ADMIN_KEY" rel-ec EC-P256
require "export the rel-ec public key" fetch_pem rel-ec 1 "$E2E_TMP/rel-ec.pem"

new_principal "$ADMIN_KEY" submitter '["signer"]'
SUBMITTER=$P_KEY
new_principal "$ADMIN_KEY" signer-approver '["signer","approver"]'
SELF=$P_KEY
new_principal "$ADMIN_KEY" approver-1 '["approver"]'
APPR1=$P_KEY APPR1_ID=$P_ID
new_principal "$ADMIN_KEY" approver-2 '["approver"]'
APPR2=$P_KEY
new_principal "$ADMIN_KEY" auditor-1 '["auditor"]'
AUDITOR=$P_KEY
new_principal "$ADMIN_KEY" other-signer '["signer"]'
OTHER_SIGNER=$P_KEY
# The list policy's approvers hold no approver role at all: the list alone decides.
new_principal "$ADMIN_KEY" list-a '["auditor"]'
LIST_A=$P_KEY LIST_A_ID=$P_ID
new_principal "$ADMIN_KEY" list-b '["signer"]'
LIST_B=$P_KEY LIST_B_ID=$P_ID

api "$ADMIN_KEY" POST /v1/policies '{"project":"app","slug":"by-role","key":"rel-ec","approvals_required":2}'
assert_status 201 "create policy app/by-role (2 approvals, approvers by role)"
assert_json '.approvers.role' approver "app/by-role defaults its approvers to the approver role"
assert_json .allow_fast false "app/by-role: allow_fast is false with approvals"
api "$ADMIN_KEY" POST /v1/policies "$(jq -cn --arg a "$LIST_A_ID" --arg b "$LIST_B_ID" \
	'{project:"app",slug:"by-list",key:"rel-ec",approvals_required:2,approvers:{principals:[$a,$b]}}')"
assert_status 201 "create policy app/by-list (2 approvals, approvers listed by id)"
api "$ADMIN_KEY" POST /v1/policies '{"project":"app","slug":"expiring","key":"rel-ec","approvals_required":2,"approval_timeout_seconds":1}'
assert_status 201 "create policy app/expiring (approval window 1 s)"

# submit API-KEY POLICY: a request under POLICY; sets REQ and DIG; requires 202
submit() {
	DIG=$(rand_digest)
	api "$1" POST /v1/sign "$(sign_body "" "$DIG" SHA-256 "{\"policy\":\"$2\"}" | jq -c 'del(.key)')"
	require "submit under $2: got $STATUS $RESP" [ "$STATUS" = 202 ]
	REQ=$(jget .request_id)
}
# vote API-KEY approve|reject ID [COMMENT]
vote() {
	if [ $# -ge 4 ]; then
		api "$1" POST "/v1/approvals/$3/$2" "$(jq -cn --arg c "$4" '{comment:$c}')"
	else
		api "$1" POST "/v1/approvals/$3/$2"
	fi
}

# ---- the happy path, approvers by role
submit "$SUBMITTER" app/by-role
R1=$REQ D1=$DIG
assert_json .status PENDING_APPROVAL "a request under app/by-role answers 202 PENDING_APPROVAL"
assert_contains "$RESP_HEADERS" "/v1/requests/$R1" "the 202 has a Location naming the request"
api "$SUBMITTER" GET "/v1/requests/$R1"
assert_json '[.status, .approvals_required, .policy, (.signature_id // "none")] | join(" ")' \
	"PENDING_APPROVAL 2 app/by-role none" "GET /v1/requests/{id}: pending, 2 approvals required, no signature"
sleep 1.2
api "$SUBMITTER" GET "/v1/requests/$R1"
assert_json .status PENDING_APPROVAL "no worker touches a pending request (still PENDING_APPROVAL after 1 s)"
api "$APPR1" GET /v1/approvals
assert_json "[.approvals[].id] | index(\"$R1\") != null" true "GET /v1/approvals lists the pending request"
assert_json ".approvals[] | select(.id == \"$R1\") | \"\(.approvals)/\(.approvals_required) \(.votes | length)\"" \
	"0/2 0" "the approval view shows 0 of 2 approvals and no votes"

vote "$AUDITOR" approve "$R1"
assert_error 403 PERMISSION_DENIED "an auditor (not in the approver group) approves"
assert_contains "$(jget .error.message)" "approver group of policy app/by-role" "the 403 names the approver group"
vote "$OTHER_SIGNER" approve "$R1"
assert_error 403 PERMISSION_DENIED "a signer without the approver role approves"
vote "$OTHER_SIGNER" reject "$R1" "no"
assert_error 403 PERMISSION_DENIED "a signer without the approver role rejects"

vote "$APPR1" approve "$R1" "looks good"
assert_status 200 "approver-1 approves"
assert_json '[.status, .approvals] | join(" ")' "PENDING_APPROVAL 1" "after one approval: still PENDING_APPROVAL, approvals 1"
assert_json "[.votes[] | select(.approver == \"$APPR1_ID\") | .decision + \" \" + .comment] | join(\",\")" \
	"APPROVED looks good" "the vote is recorded with its approver and comment"
vote "$APPR1" approve "$R1"
assert_error 409 CONFLICT "approver-1 approves a second time"
vote "$APPR1" reject "$R1" "changed my mind"
assert_error 409 CONFLICT "approver-1 votes again with a rejection"
api "$APPR1" GET "/v1/approvals/$R1"
assert_json '[.status, .approvals, (.votes | length)] | join(" ")' "PENDING_APPROVAL 1 1" \
	"the double votes changed nothing: 1 approval, 1 vote"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM approvals WHERE request_id = '$R1'")" 1 "store: one vote row for the request"

vote "$APPR2" approve "$R1"
assert_status 200 "approver-2 approves"
assert_match "$(jget .status)" '^(QUEUED|PROCESSING|SIGNED)$' "2 approvals move the request on to the queue"
assert_request_reaches "$SUBMITTER" "$R1" SIGNED "the approved request"
assert_json .key_version 1 "signed with rel-ec version 1"
assert_ec_verifies "$E2E_TMP/rel-ec.pem" "$D1" "$(jget .signature)" "openssl verifies the approved request's signature"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures WHERE request_id = '$R1'")" 1 "store: one signature record"
api "$APPR1" GET /v1/approvals
assert_json "[.approvals[].id] | index(\"$R1\")" null "a signed request is no longer in GET /v1/approvals"
vote "$AUDITOR" approve "$R1"
assert_error 403 PERMISSION_DENIED "an outsider's vote on a signed request is still 403"
new_principal "$ADMIN_KEY" approver-3 '["approver"]'
APPR3=$P_KEY
vote "$APPR3" approve "$R1"
assert_error 409 FAILED_PRECONDITION "a new approver votes on a signed request"

# ---- self-approval: a submitter holding the approver role
submit "$SELF" app/by-role
R2=$REQ
vote "$SELF" approve "$R2"
assert_error 403 PERMISSION_DENIED "the submitter (signer + approver) approves its own request"
assert_contains "$(jget .error.message)" "submitter" "the 403 says the submitter cannot approve"
vote "$APPR1" approve "$R2"
vote "$SELF" approve "$R2"
assert_error 403 PERMISSION_DENIED "the submitter still cannot add the second approval"
api "$APPR1" GET "/v1/approvals/$R2"
assert_json '[.status, .approvals] | join(" ")' "PENDING_APPROVAL 1" "the self-vote did not count"

# ---- rejection
submit "$SUBMITTER" app/by-role
R3=$REQ
vote "$APPR1" reject "$R3"
assert_error 400 INVALID_ARGUMENT "a rejection without a body"
assert_contains "$(jget .error.message)" "comment" "the 400 asks for a comment"
vote "$APPR1" reject "$R3" ""
assert_error 400 INVALID_ARGUMENT "a rejection with an empty comment"
api "$APPR1" GET "/v1/approvals/$R3"
assert_json '[.status, (.votes | length)] | join(" ")' "PENDING_APPROVAL 0" "the refused rejections recorded nothing"
vote "$APPR2" approve "$R3"
vote "$APPR1" reject "$R3" "not from the release branch"
assert_status 200 "approver-1 rejects with a comment"
assert_json .status REJECTED "one rejection makes the request REJECTED (despite an earlier approval)"
vote "$APPR3" approve "$R3"
assert_error 409 FAILED_PRECONDITION "an approval after the rejection"
vote "$APPR3" reject "$R3" "me too"
assert_error 409 FAILED_PRECONDITION "a rejection after the rejection"
vote "$APPR2" approve "$R3"
assert_error 409 FAILED_PRECONDITION "approver-2, who already voted, votes again on the rejected request"
sleep 1
api "$SUBMITTER" GET "/v1/requests/$R3"
assert_json '[.status, (.signature_id // "none")] | join(" ")' "REJECTED none" "the rejected request is never signed"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures WHERE request_id = '$R3'")" 0 "store: no signature record for the rejected request"

# ---- approvers by principal list
submit "$SUBMITTER" app/by-list
R4=$REQ D4=$DIG
vote "$APPR1" approve "$R4"
assert_error 403 PERMISSION_DENIED "an approver-role principal not on app/by-list's list approves"
vote "$LIST_A" approve "$R4" "ok from list-a"
assert_status 200 "list-a (an auditor on the list) approves"
assert_json .status PENDING_APPROVAL "one listed approval: still pending"
vote "$LIST_A" approve "$R4"
assert_error 409 CONFLICT "list-a approves twice"
vote "$LIST_B" approve "$R4"
assert_status 200 "list-b (a signer on the list) approves"
assert_request_reaches "$SUBMITTER" "$R4" SIGNED "the request approved by the listed principals"
assert_ec_verifies "$E2E_TMP/rel-ec.pem" "$D4" "$(jget .signature)" "openssl verifies the list-approved signature"
# A listed principal that submits may still not approve its own request.
submit "$LIST_B" app/by-list
vote "$LIST_B" approve "$REQ"
assert_error 403 PERMISSION_DENIED "list-b approves its own request"

# ---- the approval window
submit "$SUBMITTER" app/expiring
R5=$REQ
api "$APPR1" GET "/v1/approvals/$R5"
assert_match "$(jget .approval_deadline)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "the approval view has an approval_deadline"
vote "$APPR1" approve "$R5"
assert_status 200 "approver-1 approves within the window"
wait_request "$SUBMITTER" "$R5" REJECTED 6
assert_json .status REJECTED "with 1 of 2 approvals, the request is REJECTED when its 1 s window ends (within 6 s)"
assert_contains "$(jget .error)" "window" "the request's error mentions the approval window"
vote "$APPR2" approve "$R5"
assert_error 409 FAILED_PRECONDITION "an approval after the window"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures WHERE request_id = '$R5'")" 0 "store: the expired request has no signature"

# A vote cast just after the deadline, before the server's once-a-second
# sweep has marked the request, must not count either: the window is over.
# Three tries, each voting a few ms after the deadline; every late vote
# must be refused and every such request end REJECTED.
late_votes="" late_status=""
for _ in 1 2 3; do
	submit "$SUBMITTER" app/expiring
	vote "$APPR1" approve "$REQ"
	DEADLINE=$(jget .approval_deadline)
	sleep_until_ms "$(iso_ms "$DEADLINE")"
	vote "$APPR2" approve "$REQ"
	late_votes+="$STATUS $(jget '.status // .error.code'),"
	wait_request "$SUBMITTER" "$REQ" REJECTED 6
	late_status+="$(jget .status),"
done
echo "# late votes: $late_votes requests then: $late_status"
assert_eq "$late_votes" "409 FAILED_PRECONDITION,409 FAILED_PRECONDITION,409 FAILED_PRECONDITION," \
	"a second approval cast just after the 1 s window is refused (3 tries)"
assert_eq "$late_status" "REJECTED,REJECTED,REJECTED," \
	"a request whose window ended before its quorum is REJECTED, not signed (3 tries)"

# ---- another tenant
api "$ADMIN_KEY" POST /v1/tenants '{"name":"other-co"}'
assert_status 201 "the operator creates tenant other-co"
new_principal "$ADMIN_KEY" foreign-approver '["admin","approver","auditor"]' other-co
FOREIGN=$P_KEY
submit "$SUBMITTER" app/by-role
R6=$REQ
api "$APPR1" GET /v1/approvals
assert_json "[.approvals[].id] | index(\"$R6\") != null" true "in the tenant, GET /v1/approvals lists the new pending request"
api "$FOREIGN" GET /v1/approvals
assert_status 200 "the foreign approver lists approvals"
assert_json '.approvals | length' 0 "the foreign tenant's GET /v1/approvals is empty"
api "$FOREIGN" GET "/v1/approvals/$R6"
assert_error 404 NOT_FOUND "the foreign approver reads the approval view"
api "$FOREIGN" GET "/v1/requests/$R6"
assert_error 404 NOT_FOUND "the foreign approver reads the request"
vote "$FOREIGN" approve "$R6"
assert_error 404 NOT_FOUND "the foreign approver approves"
vote "$FOREIGN" reject "$R6" "sabotage"
assert_error 404 NOT_FOUND "the foreign approver rejects"
api "$APPR1" GET "/v1/approvals/$R6"
assert_json '[.status, (.votes | length)] | join(" ")' "PENDING_APPROVAL 0" "the foreign votes left the request untouched"

e2e_finish
