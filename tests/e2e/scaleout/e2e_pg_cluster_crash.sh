#!/usr/bin/env bash
#
# e2e_pg_cluster_crash.sh - kill -9 one of three nodes while requests are
# PROCESSING (SPEC §6: "a node that dies mid-request loses its lease and
# another node finishes the job.  A request is signed at most once and never
# lost").
#
# Three nodes on one PostgreSQL, a 3-second lease (SIGNET_LEASE_SECONDS),
# node 1 with 4 queue workers and nodes 2 and 3 with 2.  1,500 async
# requests for an RSA-3072 key (each with its own Idempotency-Key) are sent
# to the three nodes in turn, 6 connections at a time.  Once PostgreSQL shows
# requests PROCESSING, all three nodes are stopped (SIGSTOP: a stopped node
# commits nothing) and, if requests are still PROCESSING, node 1 gets
# SIGKILL and the others go on.  Then:
#   - every request answered 202 is still there (asked on node 2);
#   - the clients resend all 1,500 with the same Idempotency-Keys to nodes 2
#     and 3 (what a client does after connection errors): the requests the
#     cluster had keep their id, the others are created once;
#   - all 1,500 reach SIGNED within 90 s, with exactly one signature row each
#     in PostgreSQL and one request.signed audit entry each; requests leased
#     by the dead node were finished by another after the lease (attempts
#     >= 2); openssl verifies every signature;
#   - node 1 restarts on the same database and serves; the audit chain
#     verifies on every node.

# shellcheck disable=SC2034 # NODE_ENV, SERVER_PID and RESP are read by cluster_lib.sh and lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh" || exit 2

N=${CLUSTER_CRASH_N:-1500}
BATCH=25
T0=$(ms_now)
NODE_ENV=(SIGNET_LEASE_SECONDS=3)
require "PostgreSQL starts" pg_start
require "node 1 starts (4 workers, 3 s lease)" node_start 1 SIGNET_WORKERS=4
require "node 2 starts (2 workers)" node_start 2 SIGNET_WORKERS=2
require "node 3 starts (2 workers)" node_start 3 SIGNET_WORKERS=2
on 1
new_key "$ADMIN_KEY" cc-rsa RSA-3072
require "export the cc-rsa public key" fetch_pem cc-rsa 1 "$E2E_TMP/cc-rsa.pem"
new_principal "$ADMIN_KEY" cc-signer '["signer"]'
SIGNER=$P_KEY
REQT=$(pg_table '%request%' id status)
SIGT=$(pg_table '%signature%' request_id)
require "PostgreSQL has the tables SPEC §6 names (got '$REQT', '$SIGT')" [ -n "$REQT" ] && [ -n "$SIGT" ]

W=$E2E_TMP/bulk
make_digests "$N" "$W"
mapfile -t DIGESTS <"$W/digests.b64"

# make_cfgs ROUND NODES...: the N requests as curl configs, batch b to the
# node NODES[b % count]
make_cfgs() {
	local round=$1 i tag cfg b
	shift
	local nodes=("$@")
	CFGS=()
	mkdir -p "$W/cfg$round" "$W/resp$round"
	for ((i = 0; i < N; i++)); do
		b=$((i / BATCH))
		printf -v tag '%05d' "$i"
		printf -v cfg '%s/cfg%s/%03d' "$W" "$round" "$b"
		if ((i % BATCH == 0)); then
			CFGS+=("$cfg")
			on "${nodes[b % ${#nodes[@]}]}"
		fi
		curl_cfg_sign "$cfg" "$SIGNER" cc-rsa "${DIGESTS[i]}" "$W/resp$round/$tag.json" "$tag" "cl-crash-$tag"
		# curl's options (as --max-time) hold for one transfer of a config, not for all
		echo 'max-time = 60' >>"$cfg"
	done
}

# ---- round 1: send to all three, kill node 1 in the middle
make_cfgs 1 1 2 3
SUBMIT_T0=$(ms_now)
run_cfgs 6 "$W/submit1.codes" "${CFGS[@]}" &
SUBMIT_PID=$!
killed_busy=0 processing=0 total=0
deadline=$(($(date +%s) + 90))
while [ "$(date +%s)" -lt "$deadline" ]; do
	IFS='|' read -r processing total < <(psqlq \
		"SELECT (SELECT count(*) FROM $REQT WHERE status = 'PROCESSING'), count(*) FROM $REQT")
	# At least 4 leased, so that node 1 (half of the workers) very likely holds some.
	if [ "${processing:-0}" -ge 4 ] && [ "${total:-0}" -ge $((N / 5)) ]; then
		kill -STOP "${NODE_PID[1]}" "${NODE_PID[2]}" "${NODE_PID[3]}"
		psqlq "SELECT id FROM $REQT WHERE status = 'PROCESSING' ORDER BY id" >"$W/leased.ids"
		IFS='|' read -r processing total < <(psqlq \
			"SELECT (SELECT count(*) FROM $REQT WHERE status = 'PROCESSING'), count(*) FROM $REQT")
		if [ "${processing:-0}" -ge 4 ]; then
			killed_busy=1
			kill -KILL "${NODE_PID[1]}"
			kill -CONT "${NODE_PID[2]}" "${NODE_PID[3]}"
			break
		fi
		kill -CONT "${NODE_PID[1]}" "${NODE_PID[2]}" "${NODE_PID[3]}"
	fi
	kill -0 "$SUBMIT_PID" 2>/dev/null || break
	sleep 0.05
done
KILL_MS=$(($(ms_now) - T0))
if [ "$killed_busy" = 0 ]; then
	kill -KILL "${NODE_PID[1]}"
fi
{ wait "${NODE_PID[1]}"; } 2>/dev/null
KILL_STATUS=$?
NODE_PID[1]=""
SERVER_PID=""
wait "$SUBMIT_PID"
SUBMIT_MS=$(($(ms_now) - SUBMIT_T0))
echo "# node 1 killed $KILL_MS ms in; PostgreSQL showed ${processing:-?} PROCESSING of ${total:-?} stored"
assert_eq "$KILL_STATUS" 137 "node 1 died of SIGKILL (exit status 128+9)"
assert_eq "$killed_busy" 1 "node 1 was killed while requests were PROCESSING"
LEASED=$(grep -c . "$W/leased.ids")

awk '$1 == 202 { print $2 }' "$W/submit1.codes" | sort >"$W/accepted.tags"
ACCEPTED=$(grep -c . "$W/accepted.tags")
: >"$W/accepted.ids"
while read -r tag; do
	id=""
	RESP=$(<"$W/resp1/$tag.json")
	jfield request_id id
	echo "$tag $id" >>"$W/accepted.ids"
done <"$W/accepted.tags"
echo "# round 1: $ACCEPTED answered 202 in $SUBMIT_MS ms; codes: $(awk '{ print $1 }' "$W/submit1.codes" | sort | uniq -c | tr -s ' \n' ' ')"
require "some requests were accepted before the crash" [ "$ACCEPTED" -gt 0 ]
assert_eq "$(awk '$2 != ""' "$W/accepted.ids" | wc -l)" "$ACCEPTED" "every 202 answer carried a request_id"
assert_eq "$(awk '$1 != 202 && $1 != "000"' "$W/submit1.codes" | wc -l)" 0 \
	"round 1: every answer was 202 (or no answer from the killed node)"

on 2
fetch_requests "$SIGNER" "$W/accepted.ids" "$W/after"
assert_eq "$(awk '$1 == 200' "$W/after/codes" | wc -l)" "$ACCEPTED" \
	"node 2 finds all $ACCEPTED requests accepted before the crash (on any node)"

# ---- round 2: the clients resend everything to the surviving nodes
make_cfgs 2 2 3
run_cfgs 6 "$W/submit2.codes" "${CFGS[@]}"
assert_eq "$(awk '$1 == 200 || $1 == 202' "$W/submit2.codes" | wc -l)" "$N" \
	"all $N resends to nodes 2 and 3 answered 200 or 202"
changed=0 id2=""
while read -r tag id; do
	RESP=$(<"$W/resp2/$tag.json")
	jfield request_id id2
	[ "$id2" = "$id" ] || changed=$((changed + 1))
done <"$W/accepted.ids"
assert_eq "$changed" 0 "a resend with the same Idempotency-Key gets the request id answered before the crash"
jq -r '[(input_filename | sub(".*/"; "") | sub("\\.json$"; "")), .request_id] | join(" ")' \
	"$W"/resp2/*.json >"$W/all.ids" 2>/dev/null
assert_eq "$(awk '{ print $2 }' "$W/all.ids" | sort -u | grep -c .)" "$N" "$N distinct request ids after the resends"

# ---- every request is signed, exactly once
signed=0
deadline=$(($(date +%s) + 90))
while [ "$(date +%s)" -lt "$deadline" ]; do
	signed=$(psqlq "SELECT count(*) FROM $REQT WHERE status = 'SIGNED'")
	[ "${signed:-0}" -ge "$N" ] && break
	sleep 0.5
done
echo "# all signed $(($(ms_now) - T0)) ms in: $(psqlq "SELECT status || '=' || count(*) FROM $REQT GROUP BY status" | tr '\n' ' ')"
assert_eq "$signed" "$N" "all $N requests reach SIGNED on the surviving nodes"
assert_eq "$(psqlq "SELECT count(*) FROM $REQT")" "$N" "PostgreSQL: exactly $N requests (the resends made no duplicates)"
assert_eq "$(psqlq "SELECT count(*) FROM $SIGT")" "$N" "PostgreSQL: exactly $N signature rows"
assert_eq "$(psqlq "SELECT count(*) FROM (SELECT request_id FROM $SIGT GROUP BY request_id HAVING count(*) <> 1) x")" 0 \
	"PostgreSQL: one signature row per request"
assert_eq "$(psqlq "SELECT count(*) FROM $REQT r WHERE r.status = 'SIGNED'
	AND EXISTS (SELECT 1 FROM $SIGT s WHERE s.request_id = r.id)")" "$N" \
	"PostgreSQL: every SIGNED request has its signature row"
AUDT=$(pg_table '%audit%' action object)
if [ -n "$AUDT" ]; then
	assert_eq "$(psqlq "SELECT count(*) FROM (SELECT object FROM $AUDT WHERE action = 'request.signed'
		GROUP BY object HAVING count(*) <> 1) x")/$(psqlq "SELECT count(*) FROM $AUDT WHERE action = 'request.signed'")" \
		"0/$N" "audit log: exactly one request.signed entry per request"
else
	fail "PostgreSQL has an %audit% table with action and object columns"
fi

# ---- the API agrees; the dead node's leases went to another node; openssl verifies all
fetch_requests "$SIGNER" "$W/all.ids" "$W/final"
jq -r '[(input_filename | sub(".*/"; "") | sub("\\.json$"; "")), .id, .status, .digest, (.attempts | tostring), .signature] | join(" ")' \
	"$W"/final/[0-9]*.json >"$W/final.txt" 2>/dev/null
bad=0
mkdir -p "$W/sig"
: >"$W/verify.list"
declare -A ATTEMPTS=()
while read -r tag id st dg att sig; do
	i=$((10#$tag))
	[ "$st" = SIGNED ] && [ "$dg" = "${DIGESTS[i]}" ] || bad=$((bad + 1))
	ATTEMPTS[$id]=$att
	printf '%s' "$sig" | base64 -d >"$W/sig/$tag.sig" 2>/dev/null
	echo "$W/d.$tag $W/sig/$tag.sig" >>"$W/verify.list"
done <"$W/final.txt"
assert_eq "$(wc -l <"$W/final.txt")/$bad" "$N/0" "GET /v1/requests/{id}: all $N SIGNED over the digest their client sent"
reclaimed=0
while read -r id; do
	[ "${ATTEMPTS[$id]:-0}" -ge 2 ] && reclaimed=$((reclaimed + 1))
done <"$W/leased.ids"
echo "# $LEASED requests were PROCESSING at the kill; $reclaimed of them were claimed again after their lease"
if [ "$reclaimed" -gt 0 ]; then
	ok "requests leased by the killed node were claimed again by another node after the lease ran out ($reclaimed of $LEASED, attempts >= 2)"
else
	fail "requests leased by the killed node were claimed again by another node after the lease ran out" \
		"none of the $LEASED requests PROCESSING at the kill has attempts >= 2"
fi
openssl_verify_many "$E2E_TMP/cc-rsa.pem" "$W/verify.list" 2 -pkeyopt digest:sha256
assert_eq "$VERIFIED_OK" "$N" "openssl pkeyutl -verify accepts all $N signatures"

# ---- the killed node restarts on the same database and serves
require "node 1 restarts" node_start 1 SIGNET_WORKERS=4
on 1
D=$(rand_digest)
api "$SIGNER" POST /v1/sign "$(sign_body cc-rsa "$D" SHA-256)"
assert_status 200 "the restarted node 1 signs"
printf '%s' "$D" | base64 -d >"$W/n1.d"
jget .signature | base64 -d >"$W/n1.sig"
assert_ok "openssl verifies the restarted node's signature" \
	openssl pkeyutl -verify -pubin -inkey "$E2E_TMP/cc-rsa.pem" -in "$W/n1.d" -sigfile "$W/n1.sig" -pkeyopt digest:sha256
read -r tag id <"$W/accepted.ids"
api "$SIGNER" GET "/v1/requests/$id"
assert_json .status SIGNED "the restarted node 1 shows a request from before the crash as SIGNED"
for i in 1 2 3; do
	on "$i"
	api "$ADMIN_KEY" GET /v1/audit/verify
	assert_json .valid true "node $i: the audit chain verifies after the crash"
done

check_no_url_password
echo "# total $(($(ms_now) - T0)) ms"
e2e_finish
