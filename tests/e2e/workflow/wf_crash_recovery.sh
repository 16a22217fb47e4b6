#!/usr/bin/env bash
#
# wf_crash_recovery.sh - kill -9 signetd while its queue is busy, restart it
# on the same data directory, and check that nothing is lost or signed
# twice.
#
# signetd runs with 2 workers and a 2-second lease.  300 async requests
# (each with its own Idempotency-Key) for an RSA-3072 key (slow enough to
# keep the workers busy on a fast machine too; openssl checks PKCS#1 v1.5
# signatures as cheaply as ECDSA) are sent 4 connections at a time; as
# soon as SQLite shows requests being PROCESSING, signetd gets SIGSTOP, the
# store is read again (a stopped server commits nothing), and if requests
# are still PROCESSING it gets SIGKILL (else SIGCONT, and the poll goes on).
# After the restart:
#   - every request answered 202 before the crash is still there;
#   - the clients send all 300 again with the same Idempotency-Keys (what a
#     client does after connection errors): the ones the server had keep
#     their request id, the others are created once;
#   - all 300 reach SIGNED, the leased ones only after their lease ran out
#     (attempts >= 2), with exactly one signature record and one
#     request.signed audit entry each; openssl verifies every signature;
#   - the audit chain still verifies.

. "$(dirname "${BASH_SOURCE[0]}")/wf_lib.sh" || exit 2

N=300
BATCH=25
ENVS=(SIGNET_WORKERS=2 SIGNET_LEASE_SECONDS=2)
T0=$(now_ms)

DATA=$E2E_TMP/data
require "signetd starts (2 workers, 2 s lease)" wf_start "$DATA" "${ENVS[@]}"
new_key "$ADMIN_KEY" cr-rsa RSA-3072
require "export the cr-rsa public key" fetch_pem cr-rsa 1 "$E2E_TMP/cr-rsa.pem"
new_principal "$ADMIN_KEY" cr-signer '["signer"]'
SIGNER=$P_KEY

W=$E2E_TMP/bulk
make_digests "$N" "$W"
mapfile -t DIGESTS <"$W/digests.b64"

# make_cfgs ROUND: the N requests as curl configs for the current BASE_URL
make_cfgs() {
	local round=$1 i tag cfg
	CFGS=()
	mkdir -p "$W/cfg$round" "$W/resp$round"
	for ((i = 0; i < N; i++)); do
		printf -v tag '%05d' "$i"
		printf -v cfg '%s/cfg%s/%03d' "$W" "$round" $((i / BATCH))
		if ((i % BATCH == 0)); then
			CFGS+=("$cfg")
		fi
		curl_cfg_sign "$cfg" "$SIGNER" cr-rsa "${DIGESTS[i]}" "$W/resp$round/$tag.json" "$tag" "crash-$tag"
	done
}

# ---- round 1: send, and crash the server in the middle
make_cfgs 1
run_cfgs 4 "$W/submit1.codes" "${CFGS[@]}" &
SUBMIT_PID=$!
killed_busy=0
deadline=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$deadline" ]; do
	IFS='|' read -r processing total < <(sql "$DATA" \
		"SELECT (SELECT count(*) FROM requests WHERE status = 'PROCESSING'), count(*) FROM requests")
	if [ "${processing:-0}" -gt 0 ] && [ "${total:-0}" -ge 60 ]; then
		# The workers may finish those requests between this read and the
		# kill, so stop the server first: a stopped process commits nothing,
		# and the store read now is the store the kill leaves behind.
		kill -STOP "$SERVER_PID"
		IFS='|' read -r processing total < <(sql "$DATA" \
			"SELECT (SELECT count(*) FROM requests WHERE status = 'PROCESSING'), count(*) FROM requests")
		if [ "${processing:-0}" -gt 0 ]; then
			killed_busy=1
			break
		fi
		kill -CONT "$SERVER_PID"
	fi
	if ! kill -0 "$SUBMIT_PID" 2>/dev/null; then
		break
	fi
	sleep 0.02
done
kill -KILL "$SERVER_PID"
{ wait "$SERVER_PID"; } 2>/dev/null
KILL_STATUS=$?
SERVER_PID=""
wait "$SUBMIT_PID"
echo "# killed signetd $(($(now_ms) - T0)) ms in; the poll saw ${processing:-?} PROCESSING of ${total:-?} stored"
assert_eq "$KILL_STATUS" 137 "signetd died of SIGKILL (exit status 128+9)"
assert_eq "$killed_busy" 1 "signetd was killed while requests were PROCESSING"

# What the store holds after the crash (SQLite replays its WAL on open).
AT_KILL=$(sql "$DATA" "SELECT status || '=' || count(*) FROM requests GROUP BY status ORDER BY status" | tr '\n' ' ')
echo "# in the store after the crash: $AT_KILL"
UNFINISHED=$(sql "$DATA" "SELECT count(*) FROM requests WHERE status IN ('QUEUED', 'PROCESSING')")
LEASED=$(sql "$DATA" "SELECT count(*) FROM requests WHERE status = 'PROCESSING'")
sql "$DATA" "SELECT id FROM requests WHERE status = 'PROCESSING'" >"$W/leased.ids"
assert_ne "$UNFINISHED" 0 "the crash left unfinished work: QUEUED or PROCESSING requests in the store ($AT_KILL)"
assert_ne "$LEASED" 0 "the crash left leased (PROCESSING) requests in the store"
STORED=$(sql "$DATA" "SELECT count(*) FROM requests")

# The requests the clients heard 202 for.
awk '$1 == 202 { print $2 }' "$W/submit1.codes" | sort >"$W/accepted.tags"
ACCEPTED=$(wc -l <"$W/accepted.tags")
: >"$W/accepted.ids"
while read -r tag; do
	id=""
	RESP=$(cat "$W/resp1/$tag.json")
	jfield request_id id
	echo "$tag $id" >>"$W/accepted.ids"
done <"$W/accepted.tags"
echo "# $ACCEPTED requests were answered 202 before the crash, $STORED are in the store"
require "some requests were accepted before the crash" [ "$ACCEPTED" -gt 0 ]
assert_eq "$(awk '$2 != ""' "$W/accepted.ids" | wc -l)" "$ACCEPTED" "every 202 answer carried a request_id"

# ---- restart on the same data directory
require "signetd restarts on the same data directory" wf_start "$DATA" "${ENVS[@]}"
fetch_requests "$SIGNER" "$W/accepted.ids" "$W/after"
assert_eq "$(awk '$1 == 200' "$W/after/codes" | wc -l)" "$ACCEPTED" \
	"all $ACCEPTED requests accepted before the crash are still there after the restart"

# ---- round 2: the clients retry everything with the same Idempotency-Keys
make_cfgs 2
run_cfgs 4 "$W/submit2.codes" "${CFGS[@]}"
assert_eq "$(awk '$1 == 200 || $1 == 202' "$W/submit2.codes" | wc -l)" "$N" \
	"all $N retries answered 200 or 202"
changed=0 id2=""
while read -r tag id; do
	RESP=$(cat "$W/resp2/$tag.json" 2>/dev/null)
	jfield request_id id2
	[ "$id2" = "$id" ] || changed=$((changed + 1))
done <"$W/accepted.ids"
assert_eq "$changed" 0 "a retry with the same Idempotency-Key gets the request id answered before the crash"
jq -r '[(input_filename | sub(".*/"; "") | sub("\\.json$"; "")), .request_id] | join(" ")' \
	"$W"/resp2/*.json >"$W/all.ids" 2>/dev/null
assert_eq "$(awk '{ print $2 }' "$W/all.ids" | sort -u | grep -c .)" "$N" "$N distinct request ids after the retries"

# ---- every request is signed, exactly once
signed=0
deadline=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt "$deadline" ]; do
	signed=$(sql "$DATA" "SELECT count(*) FROM requests WHERE status = 'SIGNED'")
	[ "$signed" -ge "$N" ] && break
	sleep 0.3
done
echo "# all signed $(($(now_ms) - T0)) ms in"
assert_eq "$signed" "$N" "all $N requests reach SIGNED after the restart"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM requests")" "$N" \
	"store: exactly $N requests (the retries created no duplicates)"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures")" "$N" "store: exactly $N signature records"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM (SELECT request_id FROM signatures GROUP BY request_id HAVING count(*) <> 1) AS dup")" 0 \
	"store: one signature record per request"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM requests r
	WHERE EXISTS (SELECT 1 FROM signatures s WHERE s.id = r.signature_id AND s.request_id = r.id)")" "$N" \
	"store: every request names its own signature record"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM (SELECT object FROM audit_log WHERE action = 'request.signed'
	GROUP BY object HAVING count(*) <> 1) AS dup")/$(sql "$DATA" "SELECT count(*) FROM audit_log WHERE action = 'request.signed'")" \
	"0/$N" "audit log: exactly one request.signed entry per request"
if [ -s "$W/leased.ids" ]; then
	in_list=$(sed "s/.*/'&'/" "$W/leased.ids" | paste -sd, -)
	assert_eq "$(sql "$DATA" "SELECT count(*) FROM requests WHERE id IN ($in_list) AND status = 'SIGNED' AND attempts >= 2")" \
		"$LEASED" "the $LEASED requests leased at the crash were claimed again after the lease (attempts >= 2) and SIGNED"
fi

# ---- the API agrees, and openssl verifies every signature
fetch_requests "$SIGNER" "$W/all.ids" "$W/final"
jq -r '[(input_filename | sub(".*/"; "") | sub("\\.json$"; "")), .id, .status, .digest] | join(" ")' \
	"$W"/final/[0-9]*.json >"$W/final.txt" 2>/dev/null
bad=0
: >"$W/verify.list"
while read -r tag id st dg; do
	i=$((10#$tag))
	[ "$st" = SIGNED ] && [ "$dg" = "${DIGESTS[i]}" ] || bad=$((bad + 1))
	echo "$W/d.$tag $W/sig/$id.sig" >>"$W/verify.list"
done <"$W/final.txt"
assert_eq "$(wc -l <"$W/final.txt")/$bad" "$N/0" "GET /v1/requests/{id}: all $N SIGNED over the digest their client sent"
write_signatures "$DATA" "$W/sig"
openssl_verify_many "$E2E_TMP/cr-rsa.pem" "$W/verify.list" 2 -pkeyopt digest:sha256
assert_eq "$VERIFIED_OK" "$N" "openssl pkeyutl -verify accepts all $N signatures"

api "$ADMIN_KEY" GET /v1/audit/verify
assert_json .valid true "the audit chain still verifies after the crash and restart"

echo "# total $(($(now_ms) - T0)) ms"
e2e_finish
