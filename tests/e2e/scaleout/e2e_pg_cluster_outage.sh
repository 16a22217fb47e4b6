#!/usr/bin/env bash
#
# e2e_pg_cluster_outage.sh - the database goes away under three nodes and
# comes back (SPEC §6: "while the database is away every request that needs
# it (authentication included) gets 503 in its error shape within 10 s,
# never 401, 500 or a hang; sync signing and the workers resume within 30 s
# of its return without a restart"; /readyz 503
# {"status":"unavailable","database":"down"}, /healthz stays 200).
#
# PostgreSQL is stopped at once (pg-cluster.sh kill: immediate shutdown, the
# nodes' connections break).  On every node, right away and again 12 s
# later: sync signing, async signing and an unknown API key each get 503
# UNAVAILABLE in the error shape within 10 s; /readyz says 503 unavailable /
# down; /healthz 200; the node is still running.  Then PostgreSQL starts
# again on the same port: within 30 s every node signs again (openssl
# verifies), /readyz is 200, and an async request on each node is signed by
# the queue workers.

. "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh" || exit 2

T0=$(ms_now)
require "PostgreSQL and three signetd nodes start" cluster_up 3
on 1
new_key "$ADMIN_KEY" out-ec EC-P256
require "export the out-ec public key" fetch_pem out-ec 1 "$E2E_TMP/out-ec.pem"
PEM=$E2E_TMP/out-ec.pem
new_principal "$ADMIN_KEY" out-signer '["signer"]'
SIGNER=$P_KEY
UNKNOWN_KEY="sg_0123456789ab_$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')"
for n in 1 2 3; do
	on "$n"
	D=$(rand_digest)
	api "$SIGNER" POST /v1/sign "$(sign_body out-ec "$D" SHA-256)"
	assert_status 200 "node $n signs before the outage"
	api "$UNKNOWN_KEY" GET /v1/keys
	assert_error 401 UNAUTHENTICATED "node $n: an unknown API key before the outage (the control)"
done

# timed_api DESC API-ARGS...: api, and fail unless the answer came within 10 s
timed_api() {
	local desc=$1 t0 ms
	shift
	t0=$(ms_now)
	api "$@"
	ms=$(($(ms_now) - t0))
	if [ "$STATUS" != 000 ] && [ "$ms" -le 10000 ]; then
		ok "$desc: answered in $ms ms"
	else
		fail "$desc: answered within 10 s" "took $ms ms, HTTP $STATUS"
	fi
}

# outage_round LABEL: the checks on every node while the database is away
outage_round() {
	local label=$1 n
	for n in 1 2 3; do
		on "$n"
		timed_api "$label, node $n: sync sign" "$SIGNER" POST /v1/sign "$(sign_body out-ec "$(rand_digest)" SHA-256)"
		assert_error 503 UNAVAILABLE "$label, node $n: sync sign"
		timed_api "$label, node $n: async sign" "$SIGNER" POST /v1/sign \
			"$(sign_body out-ec "$(rand_digest)" SHA-256 '{"async":true}')"
		assert_error 503 UNAVAILABLE "$label, node $n: async sign"
		timed_api "$label, node $n: an unknown API key" "$UNKNOWN_KEY" GET /v1/keys
		assert_error 503 UNAVAILABLE "$label, node $n: an unknown API key (authentication needs the database: 503, not 401)"
		readyz "$n"
		assert_eq "$RZ_STATUS $(jq -cS . <<<"$RZ_BODY" 2>/dev/null)" '503 {"database":"down","status":"unavailable"}' \
			"$label, node $n: /readyz"
		[ "$RZ_MS" -le 10000 ] || fail "$label, node $n: /readyz answered within 10 s" "took $RZ_MS ms"
		assert_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${NODE_URL[n]}/healthz")" 200 \
			"$label, node $n: /healthz stays 200"
		assert_ok "$label, node $n: still running" kill -0 "${NODE_PID[n]}"
	done
}

# ---- the database goes away
bash "$PG_CLUSTER" kill "$PG_DIR"
DOWN_AT=$(ms_now)
require "PostgreSQL is down" bash -c "! PGCONNECT_TIMEOUT=2 psql '$PG_URL' -qtAc 'SELECT 1' >/dev/null 2>&1"
outage_round "database just stopped"
sleep_ms=$((12000 - ($(ms_now) - DOWN_AT)))
[ "$sleep_ms" -gt 0 ] && sleep "$((sleep_ms / 1000)).$(printf '%03d' $((sleep_ms % 1000)))"
outage_round "database away for $((($(ms_now) - DOWN_AT) / 1000)) s"

# ---- it comes back
require "PostgreSQL starts again" bash "$PG_CLUSTER" restart "$PG_DIR"
UP_AT=$(ms_now)
echo "# the database was away for $((UP_AT - DOWN_AT)) ms"
for n in 1 2 3; do
	on "$n"
	back=""
	while [ $(($(ms_now) - UP_AT)) -le 30000 ]; do
		D=$(rand_digest)
		api "$SIGNER" POST /v1/sign "$(sign_body out-ec "$D" SHA-256)"
		if [ "$STATUS" = 200 ]; then
			back=$(($(ms_now) - UP_AT))
			break
		fi
		sleep 0.25
	done
	if [ -n "$back" ]; then
		ok "node $n signs again $back ms after the database returned (within 30 s, no restart)"
		assert_ec_verifies "$PEM" "$D" "$(jget .signature)" "node $n: openssl verifies the signature after the outage"
	else
		fail "node $n signs again within 30 s of the database's return" "last answer: $STATUS $RESP"
	fi
	readyz "$n"
	assert_eq "$RZ_STATUS $(jq -r '"\(.status) \(.database)"' <<<"$RZ_BODY" 2>/dev/null)" "200 ready postgresql" \
		"node $n: /readyz is 200 ready again"
done
ASYNC_IDS=()
for n in 1 2 3; do
	on "$n"
	api "$SIGNER" POST /v1/sign "$(sign_body out-ec "$(rand_digest)" SHA-256 '{"async":true}')"
	assert_status 202 "node $n accepts an async request after the outage"
	ASYNC_IDS+=("$n $(jget .request_id)")
done
for e in "${ASYNC_IDS[@]}"; do
	read -r n id <<<"$e"
	on "$n"
	assert_request_reaches "$SIGNER" "$id" SIGNED "node $n: the queue workers run again after the outage" \
		$((30 - ($(ms_now) - UP_AT) / 1000 > 5 ? 30 - ($(ms_now) - UP_AT) / 1000 : 5))
done
for n in 1 2 3; do
	assert_ok "node $n was never restarted (same process)" kill -0 "${NODE_PID[n]}"
	assert_eq "$(grep -c 'listening on' "${NODE_LOG[n]}")" 1 "node $n started once"
done

check_no_url_password
echo "# total $(($(ms_now) - T0)) ms"
e2e_finish
