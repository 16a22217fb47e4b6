#!/usr/bin/env bash
#
# e2e_pg_cluster_hang.sh - a database that hangs instead of going away
# (SPEC §6: "while the database is away every request that needs it gets 503
# in its error shape within 10 s, never 401, 500 or a hang"; sync signing
# resumes within 30 s of its return without a restart).
#
# Three nodes sign 8 at once each (their pools hold open connections), then every
# PostgreSQL process is stopped with SIGSTOP: connections stay open and the
# kernel still accepts bytes, but nothing answers, as with a frozen database
# host or a stalled storage volume.  A refused connection (e2e_pg_cluster_outage.sh)
# is the easy case; here only a deadline in signetd itself can answer in time.
# On every node: sync signing and /readyz answer 503 within 10 s, /healthz
# 200.  After SIGCONT every node signs again within 30 s.

. "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh" || exit 2

T0=$(ms_now)
require "PostgreSQL and three signetd nodes start" cluster_up 3
on 1
new_key "$ADMIN_KEY" hang-ec EC-P256
require "export the hang-ec public key" fetch_pem hang-ec 1 "$E2E_TMP/hang-ec.pem"
new_principal "$ADMIN_KEY" hang-signer '["signer"]'
SIGNER=$P_KEY
# sign_cfg CFG COUNT TAG MAX-SECONDS: COUNT sync sign requests per node into
# a curl config (options such as max-time hold for one transfer of a config)
sign_cfg() {
	local cfg=$1 count=$2 tag=$3 n k
	: >"$cfg"
	for ((k = 0; k < count; k++)); do
		for n in 1 2 3; do
			[ -s "$cfg" ] && echo next >>"$cfg"
			printf '%s\n' "url = \"${NODE_URL[n]}/v1/sign\"" \
				"header = \"Authorization: Bearer $SIGNER\"" 'header = "Content-Type: application/json"' \
				"data-raw = \"{\\\"key\\\":\\\"hang-ec\\\",\\\"digest\\\":\\\"$(rand_digest)\\\",\\\"hash_algorithm\\\":\\\"SHA-256\\\"}\"" \
				"output = \"$E2E_TMP/$tag.$n.$k.json\"" "max-time = $4" \
				"write-out = \"%{http_code} %{time_total} $n $k\\n\"" >>"$cfg"
		done
	done
}

# Warm up: 8 concurrent signatures per node, so each pool holds idle connections.
sign_cfg "$E2E_TMP/warm.cfg" 8 warm 30
curl -s --parallel --parallel-immediate --parallel-max 24 --max-time 30 -K "$E2E_TMP/warm.cfg" \
	>"$E2E_TMP/warm.codes" 2>/dev/null
assert_eq "$(awk '$1 == 200' "$E2E_TMP/warm.codes" | wc -l)" 24 "8 concurrent signatures on each node before the database hangs: all 200"

mapfile -t PG_PIDS < <(pg_pids)
require "the PostgreSQL processes are known (${#PG_PIDS[@]})" [ "${#PG_PIDS[@]}" -ge 2 ]
# Without a client-side deadline in the store, a statement on a pooled
# connection to the frozen server blocks until the server resumes
# (statement_timeout is enforced by the server; TCP timeouts never fire as
# the kernel still acknowledges): this test found it, pg 0b5e0e5 fixed it.
# Requests that open a new connection fail after connect_timeout anyway, so
# 4 requests per node are sent at once: some take an idle pooled connection.
sign_cfg "$E2E_TMP/hang.cfg" 4 hang 15
kill -STOP "${PG_PIDS[@]}"
HANG_AT=$(ms_now)
curl -s --parallel --parallel-immediate --parallel-max 12 --max-time 15 -K "$E2E_TMP/hang.cfg" \
	>"$E2E_TMP/hang.codes" 2>/dev/null
for n in 1 2 3; do
	bad=$(awk -v n="$n" '$3 == n && ($1 != 503 || $2 > 10)' "$E2E_TMP/hang.codes")
	codes=$(awk -v n="$n" '$3 == n { printf "%s in %.1f s; ", $1, $2 }' "$E2E_TMP/hang.codes")
	if [ -z "$bad" ] && [ "$(awk -v n="$n" '$3 == n' "$E2E_TMP/hang.codes" | wc -l)" = 4 ]; then
		ok "database hanging, node $n: 4 concurrent sync signs all 503 within 10 s ($codes)"
	else
		fail "database hanging, node $n: 4 concurrent sync signs all 503 within 10 s" "$codes"
	fi
	for f in "$E2E_TMP"/hang."$n".*.json; do
		[ -s "$f" ] || continue
		[ "$(jq -r .error.code "$f" 2>/dev/null)" = UNAVAILABLE ] || fail "database hanging, node $n: a 503 says UNAVAILABLE" "$(cat "$f")"
	done
done
for n in 1 2 3; do
	readyz "$n"
	if [ "$RZ_STATUS" = 503 ] && [ "$RZ_MS" -le 10000 ]; then
		ok "database hanging, node $n: /readyz -> 503 in $RZ_MS ms"
	else
		fail "database hanging, node $n: /readyz -> 503 within 10 s" "got HTTP $RZ_STATUS after $RZ_MS ms: $RZ_BODY"
	fi
	assert_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${NODE_URL[n]}/healthz")" 200 \
		"database hanging, node $n: /healthz stays 200"
done
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
