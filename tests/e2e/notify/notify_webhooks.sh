#!/usr/bin/env bash
#
# notify_webhooks.sh - webhook events, signatures, tenancy and the deliveries log.
#
# Three local receivers: A subscribes to every event, B to request.signed
# only, C to everything but is deleted before anything happens.  The test
# then causes each of the six events once or more (a sync signature; three
# requests waiting for approval; a rejection; a key rotation; a request
# pinned to the rotated-out version that FAILs once approved; a request
# whose key went OFFLINE that is DEAD_LETTERed after its retries) and checks:
# every delivery's Signet-Signature verifies (Python's hmac, with each
# webhook's own secret) over the raw body with t = the attempt's time
# (N1); each body is JSON, says its event and request id (key id and
# version for key.rotated), and arrives as application/json (N2); A gets
# exactly the events caused, each once; B only its one event; C nothing;
# POST needs admin (signer 403), GET shows no secret, another tenant's
# admin sees no webhooks and gets 404 for ours, bad input is 400 (N3); and
# GET /v1/webhooks/{id}/deliveries shows event, request id, attempts,
# status DELIVERED and last HTTP status 200 for each (N5).

. "$(dirname "${BASH_SOURCE[0]}")/notify_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA" SIGNET_MAX_ATTEMPTS=2 SIGNET_RETRY_BASE_MS=100 \
	SIGNET_WEBHOOK_RETRY_BASE_MS=200
SA="secret-A-$RANDOM$RANDOM-0123456789" SB="secret-B-$RANDOM$RANDOM-0123456789" SC="secret-C-$RANDOM$RANDOM-0123456789"
remember_secret "$SA"
remember_secret "$SB"
remember_secret "$SC"
require "receiver A starts" start_receiver "$E2E_TMP/a" "$SA"
URL_A=$RECV_URL
require "receiver B starts" start_receiver "$E2E_TMP/b" "$SB"
URL_B=$RECV_URL
require "receiver C starts" start_receiver "$E2E_TMP/c" "$SC"
URL_C=$RECV_URL

new_key "$ADMIN_KEY" rel-ec EC-P256
KEY=$K_ID
new_key "$ADMIN_KEY" dl-ec EC-P256
DL_KEY=$K_ID
new_principal "$ADMIN_KEY" signer '["signer"]'
SIGNER=$P_KEY
new_principal "$ADMIN_KEY" approver '["approver"]'
APPROVER=$P_KEY
api "$ADMIN_KEY" POST /v1/policies '{"project":"app","slug":"one","key":"rel-ec","approvals_required":1}'
require "create policy app/one" [ "$STATUS" = 201 ]
api "$ADMIN_KEY" POST /v1/policies '{"project":"app","slug":"dl","key":"dl-ec","approvals_required":1}'
require "create policy app/dl" [ "$STATUS" = 201 ]

# ---- N3: roles, input, tenancy
ALL='["approval.requested","request.signed","request.failed","request.rejected","request.dead_lettered","key.rotated"]'
api "$SIGNER" POST /v1/webhooks "$(jq -cn --arg u "$URL_A" --arg s "$SA" '{url:$u,secret:$s,events:["request.signed"]}')"
assert_error 403 PERMISSION_DENIED "a signer may not create a webhook"
bad() {
	api "$ADMIN_KEY" POST /v1/webhooks "$1"
	assert_error 400 INVALID_ARGUMENT "$2"
}
bad "$(jq -cn --arg s "$SA" '{url:"ftp://127.0.0.1/x",secret:$s,events:["request.signed"]}')" "an ftp:// URL"
bad "$(jq -cn --arg s "$SA" '{url:"not a url",secret:$s,events:["request.signed"]}')" "a URL that is no URL"
bad "$(jq -cn --arg u "$URL_A" --arg s "$SA" '{url:$u,secret:$s,events:["request.exploded"]}')" "an unknown event"
bad "$(jq -cn --arg u "$URL_A" --arg s "$SA" '{url:$u,secret:$s,events:[]}')" "no events"
bad "$(jq -cn --arg u "$URL_A" '{url:$u,secret:"short",events:["request.signed"]}')" "a secret under 16 characters"
bad "$(jq -cn --arg u "$URL_A" '{url:$u,events:["request.signed"]}')" "no secret"
api "$ADMIN_KEY" GET /v1/webhooks
assert_json '.webhooks | length' 0 "the bad requests created no webhook"

new_webhook "$ADMIN_KEY" "$URL_A" "$SA" "$ALL"
HOOK_A=$HOOK_ID
assert_json '.events | length' 6 "webhook A subscribes to the six events"
new_webhook "$ADMIN_KEY" "$URL_B" "$SB" '["request.signed"]'
HOOK_B=$HOOK_ID
new_webhook "$ADMIN_KEY" "$URL_C" "$SC" "$ALL"
HOOK_C=$HOOK_ID
api "$ADMIN_KEY" GET /v1/webhooks
assert_status 200 "list webhooks"
assert_json '[.webhooks[].id] | sort | join(",")' "$(printf '%s\n' "$HOOK_A" "$HOOK_B" "$HOOK_C" | sort | paste -sd,)" \
	"GET /v1/webhooks lists the three webhooks"
assert_json '[.webhooks[] | has("secret")] | any' false "no webhook in the list has a secret field"
assert_not_contains "$RESP" "$SA" "the list does not contain a secret's text"
api "$ADMIN_KEY" GET "/v1/webhooks/$HOOK_B"
assert_json '.url + " " + (.events | join(","))' "$URL_B request.signed" "GET /v1/webhooks/{id} shows url and events"

api "$ADMIN_KEY" POST /v1/tenants '{"name":"other"}'
require "create tenant other" [ "$STATUS" = 201 ]
new_principal "$ADMIN_KEY" other-admin '["admin"]' other
OTHER=$P_KEY
api "$OTHER" GET /v1/webhooks
assert_json '.webhooks | length' 0 "another tenant's admin sees none of our webhooks"
api "$OTHER" GET "/v1/webhooks/$HOOK_A"
assert_error 404 NOT_FOUND "another tenant's admin: GET our webhook"
api "$OTHER" GET "/v1/webhooks/$HOOK_A/deliveries"
assert_error 404 NOT_FOUND "another tenant's admin: our webhook's deliveries"
api "$OTHER" DELETE "/v1/webhooks/$HOOK_A"
assert_error 404 NOT_FOUND "another tenant's admin: DELETE our webhook"
api "$SIGNER" GET /v1/webhooks
assert_error 403 PERMISSION_DENIED "a signer may not list webhooks"

api "$ADMIN_KEY" DELETE "/v1/webhooks/$HOOK_C"
assert_status 204 "delete webhook C"
api "$ADMIN_KEY" GET "/v1/webhooks/$HOOK_C"
assert_error 404 NOT_FOUND "a deleted webhook is gone"

# ---- the events
# submit POLICY [EXTRA-JSON]: a request under POLICY by the signer; sets REQ (requires 202)
submit() {
	api "$SIGNER" POST /v1/sign "$(sign_body "" "$(rand_digest)" SHA-256 "{\"policy\":\"$1\",\"metadata\":{\"build\":\"b-$RANDOM\"}}" |
		jq -c --argjson x "${2:-{\}}" 'del(.key) + $x')"
	require "submit under $1: got $STATUS $RESP" [ "$STATUS" = 202 ]
	REQ=$(jget .request_id)
}

api "$SIGNER" POST /v1/sign "$(sign_body rel-ec "$(rand_digest)" SHA-256)"
require "sync signature: got $STATUS $RESP" [ "$STATUS" = 200 ]
REQ_SIGNED=$(jget .request_id)

submit app/one
REQ_REJ=$REQ
api "$APPROVER" POST "/v1/approvals/$REQ_REJ/reject" '{"comment":"not this one"}'
require "reject: got $STATUS $RESP" [ "$STATUS" = 200 ]

submit app/one '{"key_version":1}'
REQ_FAIL=$REQ
api "$ADMIN_KEY" POST /v1/keys/rel-ec/rotate
require "rotate rel-ec: got $STATUS $RESP" [ "$STATUS" = 200 ] || [ "$STATUS" = 201 ]
api "$APPROVER" POST "/v1/approvals/$REQ_FAIL/approve" '{"comment":"ok"}'
require "approve the pinned request: got $STATUS $RESP" [ "$STATUS" = 200 ]
assert_request_reaches "$ADMIN_KEY" "$REQ_FAIL" FAILED "a request pinned to the rotated-out version"

submit app/dl
REQ_DL=$REQ
api "$ADMIN_KEY" PATCH /v1/keys/dl-ec '{"status":"OFFLINE"}'
require "take dl-ec OFFLINE: got $STATUS $RESP" [ "$STATUS" = 200 ]
api "$APPROVER" POST "/v1/approvals/$REQ_DL/approve" '{"comment":"ok"}'
require "approve the request of the OFFLINE key: got $STATUS $RESP" [ "$STATUS" = 200 ]
assert_request_reaches "$ADMIN_KEY" "$REQ_DL" DEAD_LETTER "a request whose key is OFFLINE, after its retries"

# A: 1 signed + 3 approval.requested + 1 rejected + 1 rotated + 1 failed + 1 dead-lettered
if wait_recv "$E2E_TMP/a" 'length >= 8' 60; then
	ok "receiver A got 8 deliveries"
else
	fail "receiver A got 8 deliveries" "got $(recv_q "$E2E_TMP/a" length): $(recv_q "$E2E_TMP/a" '[.[].body.event]')"
fi
wait_recv "$E2E_TMP/b" 'length >= 1' 30
sleep 2  # anything extra would show by now
A=$E2E_TMP/a
assert_eq "$(recv_q "$A" length)" 8 "receiver A got exactly 8 deliveries (no repeats)"
assert_eq "$(recv_q "$A" '[.[].delivery] | unique | length')" 8 "each of A's deliveries has its own id"
assert_eq "$(recv_q "$A" 'all(.sig_ok)')" true "N1: every Signet-Signature to A verifies with A's secret"
assert_eq "$(recv_q "$A" 'all(.t != null and ((.at_ms / 1000) - .t | fabs) < 30)')" true \
	"N1: t is the unix time of the attempt"
assert_eq "$(recv_q "$A" 'all(.content_type == "application/json")')" true "N2: Content-Type application/json"
assert_eq "$(recv_q "$A" 'all(.body != null and .body.id == .delivery)')" true \
	"N2: each body is JSON, its id the Signet-Delivery header"
ev() {
	recv_q "$A" "[.[] | select(.body.event == \"$1\") | $2] | sort | join(\",\")"
}
assert_eq "$(ev request.signed .body.request_id)" "$REQ_SIGNED" "request.signed names the signed request"
assert_eq "$(ev approval.requested .body.request_id)" "$(printf '%s\n' "$REQ_REJ" "$REQ_FAIL" "$REQ_DL" | sort | paste -sd,)" \
	"approval.requested names each of the three waiting requests"
assert_eq "$(ev request.rejected .body.request_id)" "$REQ_REJ" "request.rejected names the rejected request"
assert_eq "$(ev request.failed .body.request_id)" "$REQ_FAIL" "request.failed names the failed request"
assert_eq "$(ev request.dead_lettered .body.request_id)" "$REQ_DL" "request.dead_lettered names the dead-lettered request"
assert_eq "$(ev key.rotated '(.body.key_id + " v" + (.body.key_version | tostring))')" "$KEY v2" \
	"key.rotated names the key and its new version"
assert_eq "$(ev approval.requested .body.request.status | sort -u)" "PENDING_APPROVAL,PENDING_APPROVAL,PENDING_APPROVAL" \
	"approval.requested carries the request with status PENDING_APPROVAL"
assert_eq "$(recv_q "$A" "[.[] | select(.body.request_id == \"$REQ_REJ\" and .body.event == \"approval.requested\") | .body.request.policy, (.body.request.metadata.build | test(\"^b-\"))] | map(tostring) | join(\" \")")" \
	"app/one true" "the approval.requested body carries the policy and the metadata"
assert_eq "$(ev request.dead_lettered .body.key_id)" "$DL_KEY" "request.dead_lettered names the request's key"

B=$E2E_TMP/b
assert_eq "$(recv_q "$B" '[.[].body.event] | join(",")')" request.signed "B, subscribed to request.signed only, got only that"
assert_eq "$(recv_q "$B" 'all(.sig_ok)')" true "B's delivery verifies with B's own secret"
assert_eq "$(recv_q "$E2E_TMP/c" length)" 0 "the deleted webhook C got nothing"

# ---- N5: the deliveries log
api "$ADMIN_KEY" GET "/v1/webhooks/$HOOK_A/deliveries"
assert_status 200 "GET A's deliveries"
assert_json '.deliveries | length' 8 "A's log has 8 deliveries"
assert_json '[.deliveries[] | .status == "DELIVERED" and .attempts == 1 and .last_http_status == 200] | all' true \
	"each is DELIVERED after 1 attempt with last_http_status 200"
assert_json '[.deliveries[] | select(.event != "key.rotated") | .request_id | length == 36] | all' true \
	"each request event's entry carries the request id"
assert_json '[.deliveries[].event] | sort | unique | join(",")' \
	"approval.requested,key.rotated,request.dead_lettered,request.failed,request.rejected,request.signed" \
	"the log names the six events"
api "$ADMIN_KEY" GET "/v1/webhooks/$HOOK_A/deliveries?limit=0"
assert_error 400 INVALID_ARGUMENT "limit=0"

e2e_finish
