#!/usr/bin/env bash
#
# notify_secrets.sh - webhook secrets rest only sealed (issue 15; "secrets
# never in logs, errors or files").
#
# A webhook is created with a known secret.  Its bytes (as they are, in hex
# and in base64) appear in no file of the data directory (database, -wal,
# -shm, everything) nor in the server's log; the row holds an "SGK1" blob
# under master.key.  A delivery to a local receiver carries a
# Signet-Signature that Python's hmac module verifies with that secret,
# before and after a restart (the sealed secret opens again).  A sealed
# blob copied onto another webhook's row does not open there (bound to its
# row): that webhook gets nothing, its delivery records why.  Then a row as
# an earlier version wrote it (secret in clear, no "sealed" mark: the
# default the migration gives old rows) is put in behind the server's back;
# the test first sees that secret in the files, so the check can fail, and
# after a start it is sealed, gone from every file, and its webhook's
# deliveries verify with it.  A second start has nothing left to seal.
# Last, a server with master_key = hsm (a SoftHSM2 token of the test's
# own) seals a new secret inside the token ("SGK2", no master.key), and
# its deliveries verify before and after a restart.

. "$(dirname "${BASH_SOURCE[0]}")/notify_lib.sh" || exit 2

DATA=$E2E_TMP/data
START_ENV=(SIGNET_WEBHOOK_RETRY_BASE_MS=200 SIGNET_WEBHOOK_RETRY_MAX_MS=400)
require "signetd starts" wf_start "$DATA" "${START_ENV[@]}"
SA="whsec-A-$RANDOM$RANDOM-sealed-at-rest" SB="whsec-B-$RANDOM$RANDOM-sealed-at-rest"
SC="whsec-C-$RANDOM$RANDOM-from-before-sealing"
remember_secret "$SA"
remember_secret "$SB"
remember_secret "$SC"
require "receiver A starts" start_receiver "$E2E_TMP/a" "$SA"
URL_A=$RECV_URL
require "receiver B starts" start_receiver "$E2E_TMP/b" "$SB"
URL_B=$RECV_URL
require "receiver C starts" start_receiver "$E2E_TMP/c" "$SC"
URL_C=$RECV_URL

new_key "$ADMIN_KEY" hook-ec EC-P256
new_principal "$ADMIN_KEY" signer '["signer"]'
SIGNER=$P_KEY

# in_files TEXT: the files under the data directory that contain TEXT as it
# is, in lower-case hex or in base64 (printed; empty when none).
in_files() {
	local hex b64
	hex=$(printf '%s' "$1" | to_hex)
	b64=$(printf '%s' "$1" | base64 -w0)
	grep -rlaF -e "$1" -e "$hex" -e "$b64" "$DATA" 2>/dev/null
}

# sign_once: a sync signature by the signer, so that request.signed is sent.
sign_once() {
	api "$SIGNER" POST /v1/sign "$(sign_body hook-ec "$(rand_digest)" SHA-256)"
	require "sync signature: got $STATUS $RESP" [ "$STATUS" = 200 ]
}

# ---- a new webhook: sealed before it is stored
new_webhook "$ADMIN_KEY" "$URL_A" "$SA" '["request.signed"]'
HOOK_A=$HOOK_ID
assert_not_contains "$RESP" "$SA" "the answer to POST /v1/webhooks does not echo the secret"
sign_once
if wait_recv "$E2E_TMP/a" 'length >= 1' 30; then
	ok "receiver A got the delivery"
else
	fail "receiver A got the delivery" "log: $(cat "$E2E_TMP/a/log")"
fi
assert_eq "$(recv_q "$E2E_TMP/a" 'all(.sig_ok)')" true \
	"the Signet-Signature verifies (Python hmac) with the secret given at creation"
assert_eq "$(sql "$DATA" "SELECT substr(secret, 1, 4) || ' ' || sealed || ' ' || (instr(secret, CAST('$SA' AS BLOB)) = 0) FROM webhooks WHERE id = '$HOOK_A'")" \
	"SGK1 1 1" "the row holds an SGK1 blob sealed under master.key, marked sealed, without the secret"
assert_eq "$(in_files "$SA")" "" "the secret is in no file of the data directory"
assert_eq "$(grep -caF -- "$SA" "$SERVER_LOG")" 0 "the secret is not in the server log"

# ---- after a restart the sealed secret opens again
stop_server
assert_eq "$SERVER_EXIT" 0 "signetd stops cleanly"
assert_eq "$(in_files "$SA")" "" "the secret is in no file of the data directory after the stop"
require "signetd starts again" wf_start "$DATA" "${START_ENV[@]}"
sign_once
wait_recv "$E2E_TMP/a" 'length >= 2' 30
assert_eq "$(recv_q "$E2E_TMP/a" 'length')" 2 "receiver A got the delivery after the restart"
assert_eq "$(recv_q "$E2E_TMP/a" 'all(.sig_ok)')" true "it verifies with the same secret after the restart"

# ---- a sealed blob is bound to its row
new_webhook "$ADMIN_KEY" "$URL_B" "$SB" '["request.signed"]'
HOOK_B=$HOOK_ID
stop_server
TENANT_ID=$(sql "$DATA" "SELECT tenant_id FROM webhooks WHERE id = '$HOOK_A'")
sql "$DATA" "UPDATE webhooks SET secret = (SELECT secret FROM webhooks WHERE id = '$HOOK_A') WHERE id = '$HOOK_B'"
require "signetd starts with A's blob on B's row" wf_start "$DATA" "${START_ENV[@]}"
sign_once
wait_recv "$E2E_TMP/a" 'length >= 3' 30
assert_eq "$(recv_q "$E2E_TMP/a" 'length')" 3 "A still gets its deliveries"
deadline=$(($(date +%s) + 20))
while :; do
	api "$ADMIN_KEY" GET "/v1/webhooks/$HOOK_B/deliveries"
	[ "$(jget '.deliveries[0].attempts // 0')" -ge 2 ] && break
	[ "$(date +%s)" -ge "$deadline" ] && break
	sleep 0.2
done
assert_json '.deliveries[0].status + " " + .deliveries[0].last_error' \
	"PENDING cannot open the webhook's sealed secret" \
	"B's delivery does not go out with A's secret; the log says why (and not the secret)"
assert_not_contains "$RESP" "$SA" "the deliveries log shows no secret"
assert_eq "$(recv_q "$E2E_TMP/b" 'length')" 0 "receiver B got nothing"
assert_ne "$(grep -c "sealed secret webhook:$TENANT_ID/$HOOK_B does not open" "$SERVER_LOG")" 0 \
	"the server logs that B's secret does not open, naming the row"
api "$ADMIN_KEY" DELETE "/v1/webhooks/$HOOK_B"
assert_status 204 "delete webhook B"

# ---- a secret stored in clear by an earlier version is sealed at start
stop_server
HOOK_C=$(cat /proc/sys/kernel/random/uuid)
# As an earlier version wrote it: the columns it knew, so "sealed" takes its default.
sql "$DATA" "INSERT INTO webhooks (id, tenant_id, url, events, secret, created_at)
	VALUES ('$HOOK_C', '$TENANT_ID', '$URL_C', 2, CAST('$SC' AS BLOB), $(date +%s%3N))"
assert_eq "$(sql "$DATA" "SELECT sealed FROM webhooks WHERE id = '$HOOK_C'")" 0 \
	"the old row is not marked sealed"
assert_ne "$(in_files "$SC")" "" "before the start, the clear secret is in the database file (the check can see it)"
require "signetd starts over the old row" wf_start "$DATA" "${START_ENV[@]}"
assert_eq "$(grep -c 'sealed 1 webhook secret(s) stored in clear' "$SERVER_LOG")" 1 \
	"the start seals the one clear secret and says so"
assert_eq "$(sql "$DATA" "SELECT substr(secret, 1, 4) || ' ' || sealed FROM webhooks WHERE id = '$HOOK_C'")" \
	"SGK1 1" "the row now holds a sealed blob"
assert_eq "$(in_files "$SC")" "" "no file of the data directory holds the clear secret any more (database, -wal, -shm)"
sign_once
if wait_recv "$E2E_TMP/c" 'length >= 1' 30; then
	ok "receiver C got the delivery"
else
	fail "receiver C got the delivery" "log: $(cat "$E2E_TMP/c/log")"
fi
assert_eq "$(recv_q "$E2E_TMP/c" 'all(.sig_ok)')" true "it verifies with the secret from before sealing"

stop_server
assert_eq "$(in_files "$SC")" "" "after the stop, still no clear copy"
require "signetd starts a third time" wf_start "$DATA" "${START_ENV[@]}"
assert_eq "$(grep -c 'sealed [0-9]* webhook secret' "$SERVER_LOG")" 0 "a second start has nothing left to seal"
sign_once
wait_recv "$E2E_TMP/c" 'length >= 2' 30
assert_eq "$(recv_q "$E2E_TMP/c" 'length') $(recv_q "$E2E_TMP/c" 'all(.sig_ok)')" "2 true" \
	"C's next delivery verifies too"
stop_server

# ---- master_key = hsm: the secret is sealed inside the token ("SGK2")
. "$NOTIFY_DIR/../custody/hsm.sh" || exit 2
require "a SoftHSM2 token" hsm_init notify-secrets
DATA2=$E2E_TMP/data-hsm
SD="whsec-D-$RANDOM$RANDOM-sealed-in-the-token"
remember_secret "$SD"
require "receiver D starts" start_receiver "$E2E_TMP/d" "$SD"
require "signetd starts with the master key in the HSM" start_hsm_server "$DATA2" \
	SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_MASTER_KEY=hsm "${START_ENV[@]}"
new_key "$ADMIN_KEY" hook-ec EC-P256
new_principal "$ADMIN_KEY" signer '["signer"]'
SIGNER=$P_KEY
new_webhook "$ADMIN_KEY" "$RECV_URL" "$SD" '["request.signed"]'
HOOK_D=$HOOK_ID
sign_once
wait_recv "$E2E_TMP/d" 'length >= 1' 30
assert_eq "$(recv_q "$E2E_TMP/d" 'length') $(recv_q "$E2E_TMP/d" 'all(.sig_ok)')" "1 true" \
	"with the master key in the HSM, D's delivery verifies with its secret"
assert_eq "$(sql "$DATA2" "SELECT substr(secret, 1, 4) || ' ' || sealed FROM webhooks WHERE id = '$HOOK_D'")" \
	"SGK2 1" "the row holds an SGK2 blob, sealed by the token's AES key"
assert_fails "no master.key is created" test -e "$DATA2/master.key"
DATA=$DATA2
assert_eq "$(in_files "$SD")" "" "the secret is in no file of that data directory"
stop_server
require "signetd starts again with the master key in the HSM" start_hsm_server "$DATA2" \
	SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_MASTER_KEY=hsm "${START_ENV[@]}"
sign_once
wait_recv "$E2E_TMP/d" 'length >= 2' 30
assert_eq "$(recv_q "$E2E_TMP/d" 'length') $(recv_q "$E2E_TMP/d" 'all(.sig_ok)')" "2 true" \
	"after a restart the token opens D's secret again"
check_pin_not_logged

for f in "${SERVER_LOGS[@]}"; do
	for s in "$SA" "$SB" "$SC" "$SD"; do
		if grep -qaF -- "$s" "$f"; then
			fail "no webhook secret in any server log" "one is in $f"
		fi
	done
done
ok "no webhook secret in any of the $E2E_STARTS server logs"

e2e_finish
