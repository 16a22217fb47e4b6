#!/usr/bin/env bash
#
# wf_metrics.sh - GET /metrics follows what the server does.
#
# With a single worker (SIGNET_WORKERS=1), 600 async requests sent 8
# connections at a time make signet_queue_depth rise, and it falls back to
# 0 once the worker has caught up; signet_requests{status="SIGNED"} and
# signet_queue_signed_total grow by what was signed;
# signet_sign_duration_seconds_count grows by exactly the number of sync
# signs; signet_pending_approvals shows a request waiting for approval and
# drops when it is approved.  Only the operator role may scrape: the
# bootstrap admin (admin + operator) may, a plain admin gets 403.

. "$(dirname "${BASH_SOURCE[0]}")/wf_lib.sh" || exit 2

N=600
BATCH=25
DATA=$E2E_TMP/data
require "signetd starts with 1 worker" wf_start "$DATA" SIGNET_WORKERS=1
new_key "$ADMIN_KEY" m-rsa RSA-3072   # slow signing: one worker surely falls behind
new_principal "$ADMIN_KEY" m-signer '["signer"]'
SIGNER=$P_KEY
new_principal "$ADMIN_KEY" m-approver '["approver"]'
APPROVER=$P_KEY
new_principal "$ADMIN_KEY" m-admin '["admin"]'
PLAIN_ADMIN=$P_KEY
new_principal "$ADMIN_KEY" m-operator '["operator"]'
OPERATOR=$P_KEY

# ---- who may scrape
api "$ADMIN_KEY" GET /metrics
assert_status 200 "the bootstrap admin (admin + operator) scrapes /metrics"
assert_contains "$RESP_CT" "text/plain; version=0.0.4" "/metrics is the Prometheus text format"
assert_contains "$RESP" "# TYPE signet_queue_depth gauge" "/metrics declares signet_queue_depth a gauge"
assert_contains "$RESP" "# TYPE signet_sign_duration_seconds histogram" "/metrics declares the sign latency histogram"
api "$OPERATOR" GET /metrics
assert_status 200 "a principal with only the operator role scrapes /metrics"
api "$PLAIN_ADMIN" GET /metrics
assert_error 403 PERMISSION_DENIED "an admin without the operator role scrapes /metrics"
api "$SIGNER" GET /metrics
assert_error 403 PERMISSION_DENIED "a signer scrapes /metrics"
api "" GET /metrics
assert_error 401 UNAUTHENTICATED "/metrics without credentials"

# ---- sync signs: the latency histogram counts each
metrics_snapshot
C0=$(mval signet_sign_duration_seconds_count)
SUM0=$(mval signet_sign_duration_seconds_sum)
S0=$(mval 'signet_requests{status="SIGNED"}')
H0=$(mval 'signet_http_requests_total{route="POST /v1/sign",code="200"}')
assert_eq "$(mval signet_queue_depth)/$(mval signet_pending_approvals)/$S0" "0/0/0" "at the start: queue depth 0, no pending approvals, nothing signed"
for i in 1 2 3 4 5; do
	api "$SIGNER" POST /v1/sign "$(sign_body m-rsa "$(rand_digest)" SHA-256)"
	[ "$STATUS" = 200 ] || fail "sync sign $i" "got $STATUS $RESP"
done
metrics_snapshot
assert_eq "$(mval signet_sign_duration_seconds_count)" $((C0 + 5)) "signet_sign_duration_seconds_count grows by 5 after 5 sync signs"
assert_eq "$(awk -v a="$SUM0" -v b="$(mval signet_sign_duration_seconds_sum)" 'BEGIN { print (b > a) ? "grew" : "stuck" }')" grew \
	"signet_sign_duration_seconds_sum grows"
assert_eq "$(mval 'signet_sign_duration_seconds_bucket{le="+Inf"}')" "$(mval signet_sign_duration_seconds_count)" \
	"the +Inf bucket equals the count"
assert_eq "$(mval 'signet_requests{status="SIGNED"}')" $((S0 + 5)) 'signet_requests{status="SIGNED"} grows by 5'
assert_eq "$(mval 'signet_http_requests_total{route="POST /v1/sign",code="200"}')" $((${H0:-0} + 5)) \
	'signet_http_requests_total{route="POST /v1/sign",code="200"} grows by 5'
api "$SIGNER" POST /v1/sign "$(sign_body m-rsa "$(rand_digest 20)" SHA-1)"
metrics_snapshot
assert_eq "$(mval 'signet_http_requests_total{route="POST /v1/sign",code="400"}')" 1 "a refused sign counts under code 400"

# ---- 600 async requests against 1 worker: the queue fills and drains
W=$E2E_TMP/bulk
make_digests "$N" "$W"
mapfile -t DIGESTS <"$W/digests.b64"
mkdir -p "$W/resp"
CFGS=()
for ((i = 0; i < N; i++)); do
	printf -v tag '%05d' "$i"
	printf -v cfg '%s/cfg.%03d' "$W" $((i / BATCH))
	((i % BATCH == 0)) && CFGS+=("$cfg")
	curl_cfg_sign "$cfg" "$SIGNER" m-rsa "${DIGESTS[i]}" "$W/resp/$tag.json" "$tag"
done
metrics_snapshot
QS0=$(mval signet_queue_signed_total)
S1=$(mval 'signet_requests{status="SIGNED"}')
run_cfgs 8 "$W/codes" "${CFGS[@]}" &
SUBMIT_PID=$!
max_depth=0 max_busy=0 scrapes=0
while kill -0 "$SUBMIT_PID" 2>/dev/null; do
	metrics_snapshot
	d=$(mval signet_queue_depth) b=$(mval signet_workers_busy)
	scrapes=$((scrapes + 1))
	[ "${d:-0}" -gt "$max_depth" ] && max_depth=$d
	[ "${b:-0}" -gt "$max_busy" ] && max_busy=$b
	sleep 0.2
done
wait "$SUBMIT_PID"
metrics_snapshot
d=$(mval signet_queue_depth)
[ "${d:-0}" -gt "$max_depth" ] && max_depth=$d
echo "# while sending: $scrapes scrapes, highest signet_queue_depth $max_depth, highest signet_workers_busy $max_busy"
assert_eq "$(awk '$1 == 202' "$W/codes" | wc -l)" "$N" "all $N async requests answered 202"
if [ "$max_depth" -ge 20 ]; then
	ok "signet_queue_depth rose while the single worker fell behind (highest seen: $max_depth)"
else
	fail "signet_queue_depth rose while the single worker fell behind" "highest seen: $max_depth (want >= 20)"
fi
if [ "$max_busy" -le 1 ]; then
	ok "signet_workers_busy never exceeded 1 with SIGNET_WORKERS=1"
else
	fail "signet_workers_busy never exceeded 1 with SIGNET_WORKERS=1" "saw $max_busy"
fi
deadline=$(($(date +%s) + 120))
while [ "$(date +%s)" -lt "$deadline" ]; do
	metrics_snapshot
	[ "$(mval signet_queue_depth)" = 0 ] && [ "$(mval 'signet_requests{status="PROCESSING"}')" = 0 ] && break
	sleep 0.5
done
assert_eq "$(mval signet_queue_depth)" 0 "signet_queue_depth falls back to 0 once the worker has caught up"
assert_eq "$(mval 'signet_requests{status="QUEUED"}')/$(mval 'signet_requests{status="PROCESSING"}')" "0/0" \
	"nothing QUEUED or PROCESSING afterwards"
assert_eq "$(mval 'signet_requests{status="SIGNED"}')" $((S1 + N)) "signet_requests{status=\"SIGNED\"} grew by $N"
assert_eq "$(mval signet_queue_signed_total)" $((QS0 + N)) "signet_queue_signed_total grew by $N"
assert_eq "$(mval signet_workers_busy)" 0 "signet_workers_busy is 0 when idle"
assert_eq "$(mval 'signet_http_requests_total{route="POST /v1/sign",code="202"}')" "$N" \
	"signet_http_requests_total counts the $N answers 202"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM requests WHERE status = 'SIGNED'")" "$(mval 'signet_requests{status="SIGNED"}')" \
	"signet_requests{status=\"SIGNED\"} equals the store's count"

# ---- pending approvals
api "$ADMIN_KEY" POST /v1/policies '{"project":"m","slug":"gated","key":"m-rsa","approvals_required":1}'
require "create policy m/gated: $STATUS" [ "$STATUS" = 201 ]
gated() {
	api "$SIGNER" POST /v1/sign "$(jq -cn --arg d "$(rand_digest)" '{policy:"m/gated",digest:$d,hash_algorithm:"SHA-256"}')"
	require "submit under m/gated: $STATUS" [ "$STATUS" = 202 ]
	REQ=$(jget .request_id)
}
gated
G1=$REQ
metrics_snapshot
assert_eq "$(mval signet_pending_approvals)" 1 "signet_pending_approvals is 1 with one request waiting"
assert_eq "$(mval 'signet_requests{status="PENDING_APPROVAL"}')" 1 'signet_requests{status="PENDING_APPROVAL"} is 1'
gated
G2=$REQ
assert_eq "$(metric signet_pending_approvals)" 2 "signet_pending_approvals is 2 with two waiting"
api "$APPROVER" POST "/v1/approvals/$G1/approve"
assert_request_reaches "$SIGNER" "$G1" SIGNED "the approved gated request"
api "$APPROVER" POST "/v1/approvals/$G2/reject" '{"comment":"no"}'
metrics_snapshot
assert_eq "$(mval signet_pending_approvals)" 0 "signet_pending_approvals falls to 0 after an approval and a rejection"
assert_eq "$(mval 'signet_requests{status="REJECTED"}')" 1 'signet_requests{status="REJECTED"} is 1'
assert_eq "$(mval 'signet_requests{status="SIGNED"}')" $((S1 + N + 1)) "the approved request counts as SIGNED"

e2e_finish
