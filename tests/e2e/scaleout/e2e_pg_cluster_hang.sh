#!/usr/bin/env bash
#
# e2e_pg_cluster_hang.sh - a database that hangs instead of going away
# (SPEC §6: "while the database is away every request that needs it gets 503
# in its error shape within 10 s, never 401, 500 or a hang"; sync signing
# resumes within 30 s of its return without a restart).
#
# Three nodes sign once each (their pools hold open connections), then every
# PostgreSQL process is stopped with SIGSTOP: connections stay open and the
# kernel still accepts bytes, but nothing answers, as with a frozen database
# host or a stalled storage volume.  A refused connection (e2e_pg_cluster_outage.sh)
# is the easy case; here only a deadline in signetd itself can answer in time.
# On every node: sync signing and /readyz answer 503 within 10 s, /healthz
# 200.  After SIGCONT every node signs again within 30 s.

# shellcheck disable=SC2034 # KNOWN_BUG is read by lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh" || exit 2

T0=$(ms_now)
require "PostgreSQL and three signetd nodes start" cluster_up 3
on 1
new_key "$ADMIN_KEY" hang-ec EC-P256
require "export the hang-ec public key" fetch_pem hang-ec 1 "$E2E_TMP/hang-ec.pem"
new_principal "$ADMIN_KEY" hang-signer '["signer"]'
SIGNER=$P_KEY
for n in 1 2 3; do
	on "$n"
	api "$SIGNER" POST /v1/sign "$(sign_body hang-ec "$(rand_digest)" SHA-256)"
	assert_status 200 "node $n signs before the database hangs"
done

PM=$(head -n1 "$PG_DIR/data/postmaster.pid")
mapfile -t PG_PIDS < <(echo "$PM"; pgrep -P "$PM")
require "the PostgreSQL processes are known (${#PG_PIDS[@]})" [ "${#PG_PIDS[@]}" -ge 2 ]
kill -STOP "${PG_PIDS[@]}"
HANG_AT=$(ms_now)
# Found by this test (21:08 UTC, pg at 25cfdec): the first statement on a
# pooled connection to the frozen server blocks until the server resumes.
# statement_timeout is enforced by the server and TCP timeouts never fire
# because the kernel still acknowledges; the store needs its own deadline
# (PQsendQuery, poll with a timeout, then PQcancel and drop the connection).
KNOWN_BUG="pg store: no client-side deadline on a statement; a frozen database blocks the request"
for n in 1 2 3; do
	on "$n"
	t0=$(ms_now)
	api "$SIGNER" POST /v1/sign "$(sign_body hang-ec "$(rand_digest)" SHA-256)" --max-time 15
	ms=$(($(ms_now) - t0))
	if [ "$STATUS $(jget .error.code)" = "503 UNAVAILABLE" ] && [ "$ms" -le 10000 ]; then
		ok "database hanging, node $n: sync sign -> 503 UNAVAILABLE in $ms ms"
	else
		fail "database hanging, node $n: sync sign -> 503 UNAVAILABLE within 10 s" \
			"got HTTP $STATUS after $ms ms" "body: $RESP"
	fi
	readyz "$n"
	if [ "$RZ_STATUS" = 503 ] && [ "$RZ_MS" -le 10000 ]; then
		ok "database hanging, node $n: /readyz -> 503 in $RZ_MS ms"
	else
		fail "database hanging, node $n: /readyz -> 503 within 10 s" "got HTTP $RZ_STATUS after $RZ_MS ms: $RZ_BODY"
	fi
	assert_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${NODE_URL[n]}/healthz")" 200 \
		"database hanging, node $n: /healthz stays 200"
done
KNOWN_BUG=""
kill -CONT "${PG_PIDS[@]}"
RESUME_AT=$(ms_now)
echo "# the database hung for $((RESUME_AT - HANG_AT)) ms"
for n in 1 2 3; do
	on "$n"
	back=""
	while [ $(($(ms_now) - RESUME_AT)) -le 30000 ]; do
		D=$(rand_digest)
		api "$SIGNER" POST /v1/sign "$(sign_body hang-ec "$D" SHA-256)" --max-time 15
		if [ "$STATUS" = 200 ]; then
			back=$(($(ms_now) - RESUME_AT))
			break
		fi
		sleep 0.25
	done
	if [ -n "$back" ]; then
		ok "node $n signs again $back ms after the database resumed (no restart)"
		assert_ec_verifies "$E2E_TMP/hang-ec.pem" "$D" "$(jget .signature)" "node $n: openssl verifies it"
	else
		fail "node $n signs again within 30 s of the database resuming" "last answer: $STATUS $RESP"
	fi
	assert_ok "node $n is still the same process" kill -0 "${NODE_PID[n]}"
done

check_no_url_password
echo "# total $(($(ms_now) - T0)) ms"
e2e_finish
