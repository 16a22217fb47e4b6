#!/usr/bin/env bash
#
# notify_retries.sh - retries with backoff, exactly-once acceptance, restarts (N1, N4, N5).
#
# A receiver answers 500 for a while: the delivery is retried at least
# 100 ms apart with growing gaps (SIGNET_WEBHOOK_RETRY_BASE_MS=200, cap
# 1600), each attempt signed afresh (every signature verifies, t follows
# the clock) and logged as PENDING with last_http_status 500; once the
# receiver recovers the delivery succeeds within 150 s (here: within the
# cap) and is accepted exactly once; the log then says DELIVERED, 200,
# and the attempts the receiver saw.  Then restarts: deliveries pending
# when signetd stops (SIGTERM) are delivered by the next start, and so is
# an event whose signetd was killed (SIGKILL) right after it, before the
# dispatcher could have sent anything (the cursor is durable).

. "$(dirname "${BASH_SOURCE[0]}")/notify_lib.sh" || exit 2

DATA=$E2E_TMP/data
ENV=(SIGNET_WEBHOOK_RETRY_BASE_MS=200 SIGNET_WEBHOOK_RETRY_MAX_MS=1600 SIGNET_WEBHOOK_TIMEOUT_MS=2000)
require "signetd starts" wf_start "$DATA" "${ENV[@]}"
SECRET="retry-secret-$RANDOM$RANDOM-abcdefgh"
remember_secret "$SECRET"
R=$E2E_TMP/r
require "receiver starts" start_receiver "$R" "$SECRET"
new_key "$ADMIN_KEY" rel-ec EC-P256
new_principal "$ADMIN_KEY" signer '["signer"]'
SIGNER=$P_KEY
new_webhook "$ADMIN_KEY" "$RECV_URL" "$SECRET" '["request.signed"]'
HOOK=$HOOK_ID

# sign: one sync signature; sets REQ
sign() {
	api "$SIGNER" POST /v1/sign "$(sign_body rel-ec "$(rand_digest)" SHA-256)"
	require "sign: got $STATUS $RESP" [ "$STATUS" = 200 ]
	REQ=$(jget .request_id)
}

# ---- 500s, then recovery
recv_mode "$R" 500
sign
REQ1=$REQ
if wait_recv "$R" 'length >= 5' 30; then
	ok "the receiver answering 500 sees the delivery retried (5 attempts)"
else
	fail "the receiver answering 500 sees the delivery retried (5 attempts)" "got $(recv_q "$R" length)"
fi
api "$ADMIN_KEY" GET "/v1/webhooks/$HOOK/deliveries"
assert_json '.deliveries[0] | .status + " " + (.last_http_status | tostring) + " " + .request_id' "PENDING 500 $REQ1" \
	"N5: while failing, the log says PENDING, last_http_status 500, and the request id"
assert_json '.deliveries[0].attempts >= 4' true "N5: the log counts the attempts"
assert_json '.deliveries[0].last_error' "HTTP 500" "N5: the log says why the last attempt failed"

recv_mode "$R" ok
RECOVERED=$(now_ms)
if wait_recv "$R" '[.[] | select(.answer == 200)] | length >= 1' 150; then
	ok "after the receiver recovers, the delivery is accepted"
else
	fail "after the receiver recovers, the delivery is accepted" "$(recv_q "$R" '[.[].answer]')"
fi
ACCEPTED=$(recv_q "$R" '[.[] | select(.answer == 200)][0].at_ms')
assert_eq "$(( (ACCEPTED - RECOVERED) < 150000 ))" 1 "N4: accepted within 150 s of the recovery ($((ACCEPTED - RECOVERED)) ms)"
assert_eq "$(( (ACCEPTED - RECOVERED) < 5000 ))" 1 "with a 1.6 s cap, accepted within 5 s ($((ACCEPTED - RECOVERED)) ms)"
sleep 3  # a second acceptance would come by now
assert_eq "$(recv_q "$R" '[.[] | select(.answer == 200)] | length')" 1 "N4: accepted exactly once"
N=$(recv_q "$R" length)
assert_eq "$(recv_q "$R" 'all(.sig_ok)')" true "N1: every attempt's signature verifies (500s included)"
assert_eq "$(recv_q "$R" '[.[].delivery] | unique | length')" 1 "every attempt is the same delivery (same id)"
assert_eq "$(recv_q "$R" '[.[].body] | unique | length')" 1 "every attempt sends the same body"
assert_eq "$(recv_q "$R" '[.[].t] | unique | length > 1')" true "N1: t changes between attempts (signed afresh)"
assert_eq "$(recv_q "$R" 'all(((.at_ms / 1000) - .t | fabs) < 2)')" true "N1: each attempt's t is the time of that attempt"
GAPS=$(recv_q "$R" '[.[].at_ms] | [range(1; length) as $i | .[$i] - .[$i - 1]]')
echo "# gaps between attempts (ms): $(jq -c . <<<"$GAPS")"
assert_eq "$(jq -r 'all(. >= 100)' <<<"$GAPS")" true "N4: attempts at least 100 ms apart"
assert_eq "$(jq -r '.[2] > 1.5 * .[0] and .[3] > 1.5 * .[1]' <<<"$GAPS")" true "N4: the gaps grow (exponential backoff)"
api "$ADMIN_KEY" GET "/v1/webhooks/$HOOK/deliveries"
assert_json '.deliveries[0] | .status + " " + (.last_http_status | tostring)' "DELIVERED 200" "N5: the log says DELIVERED, 200"
assert_json '.deliveries[0].attempts' "$N" "N5: attempts counts every attempt the receiver saw ($N)"
assert_json '.deliveries[0] | has("last_error") or has("next_attempt_at")' false "a delivered entry has no error and no next attempt"

# ---- pending deliveries survive a restart
recv_mode "$R" 500
sign
REQ2=$REQ
sign
REQ3=$REQ
wait_recv "$R" "[.[] | select(.body.request_id == \"$REQ2\" or .body.request_id == \"$REQ3\")] | length >= 2" 30
stop_server
require "signetd stops" [ "$SERVER_EXIT" = 0 ]
recv_mode "$R" ok
require "signetd starts again" wf_start "$DATA" "${ENV[@]}"
if wait_recv "$R" "[.[] | select(.answer == 200 and (.body.request_id == \"$REQ2\" or .body.request_id == \"$REQ3\"))] | length >= 2" 90; then
	ok "deliveries pending at a restart are delivered after it"
else
	fail "deliveries pending at a restart are delivered after it" "$(recv_q "$R" '[.[] | [.body.request_id, .answer]]')"
fi

# ---- an event whose server is killed at once: the cursor is durable
sign
REQ4=$REQ
stop_server KILL
require "signetd starts after SIGKILL" wf_start "$DATA" "${ENV[@]}"
if wait_recv "$R" "[.[] | select(.answer == 200 and .body.request_id == \"$REQ4\")] | length >= 1" 90; then
	ok "an event just before SIGKILL is delivered after the restart"
else
	fail "an event just before SIGKILL is delivered after the restart" "$(recv_q "$R" '[.[] | [.body.request_id, .answer]]')"
fi
sleep 2
for q in "$REQ1" "$REQ2" "$REQ3" "$REQ4"; do
	assert_eq "$(recv_q "$R" "[.[] | select(.answer == 200 and .body.request_id == \"$q\")] | length")" 1 \
		"request $q's delivery was accepted exactly once"
done
assert_eq "$(recv_q "$R" 'all(.sig_ok)')" true "every attempt of the run verifies"

e2e_finish
