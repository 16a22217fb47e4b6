#!/usr/bin/env bash
#
# wf_throughput.sh - 2,000 async sign requests from 4 signer principals (500
# each), sent 16 connections at a time, must all reach SIGNED; each has
# exactly one signature record (API and SQLite agree), the record belongs to
# the principal that sent it and carries the digest it sent, and every
# signature verifies with the openssl command line against the EC-P256
# public key exported once.

. "$(dirname "${BASH_SOURCE[0]}")/wf_lib.sh" || exit 2

N_CLIENTS=4
PER_CLIENT=500
N=$((N_CLIENTS * PER_CLIENT))
BATCH=25         # requests per curl process (sequential on one connection)
PARALLEL=16      # curl processes at a time
T0=$(now_ms)

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA"
new_key "$ADMIN_KEY" tp-ec EC-P256
require "export the tp-ec public key" fetch_pem tp-ec 1 "$E2E_TMP/tp-ec.pem"
declare -a CLIENT_KEY CLIENT_ID
for ((c = 0; c < N_CLIENTS; c++)); do
	new_principal "$ADMIN_KEY" "tp-signer-$c" '["signer"]'
	CLIENT_KEY[c]=$P_KEY
	CLIENT_ID[c]=$P_ID
done

# ---- 2,000 digests; request i belongs to client i / 500
W=$E2E_TMP/bulk
make_digests "$N" "$W"
mapfile -t DIGESTS <"$W/digests.b64"
require "made $N digests" [ "${#DIGESTS[@]}" -eq "$N" ]
mkdir -p "$W/cfg" "$W/resp"
CFGS=()
for ((i = 0; i < N; i++)); do
	c=$((i / PER_CLIENT))
	printf -v tag '%05d' "$i"
	printf -v cfg '%s/cfg/%03d' "$W" $((i / BATCH))
	if ((i % BATCH == 0)); then
		CFGS+=("$cfg")
	fi
	curl_cfg_sign "$cfg" "${CLIENT_KEY[c]}" tp-ec "${DIGESTS[i]}" "$W/resp/$tag.json" "$tag"
done

T_SUBMIT=$(now_ms)
run_cfgs "$PARALLEL" "$W/submit.codes" "${CFGS[@]}"
T_SUBMITTED=$(now_ms)
echo "# submitted $N async requests in $((T_SUBMITTED - T_SUBMIT)) ms (${#CFGS[@]} curl processes, $PARALLEL at a time)"

n202=$(awk '$1 == 202' "$W/submit.codes" | wc -l)
assert_eq "$n202" "$N" "all $N async submissions answered 202"
if [ "$n202" -ne "$N" ]; then
	awk '$1 != 202' "$W/submit.codes" | sort | head -5
	head -c 600 "$W/submit.codes.err"
fi

# "TAG REQUEST-ID STATUS" of every answer, one jq process for all files.
jq -r '[(input_filename | sub(".*/"; "") | sub("\\.json$"; "")), .request_id, .status] | join(" ")' \
	"$W"/resp/*.json >"$W/ids.status" 2>"$W/ids.err"
awk '{ print $1, $2 }' "$W/ids.status" >"$W/ids"
assert_eq "$(awk '$3 == "QUEUED"' "$W/ids.status" | wc -l)" "$N" "every 202 answer says QUEUED"
assert_eq "$(awk '{ print $2 }' "$W/ids" | grep -E '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' |
	sort -u | wc -l)" "$N" "$N distinct request ids (UUIDs) were handed out"

# ---- wait until the workers have signed them all (the metric counts all tenants: only this test runs here)
signed=""
deadline=$(($(date +%s) + 90))
while [ "$(date +%s)" -lt "$deadline" ]; do
	metrics_snapshot
	signed=$(mval 'signet_requests{status="SIGNED"}')
	if [ "${signed:-0}" -ge "$N" ]; then
		break
	fi
	bad=$(($(mval 'signet_requests{status="FAILED"}') + $(mval 'signet_requests{status="DEAD_LETTER"}')))
	if [ "$bad" -gt 0 ]; then
		break
	fi
	sleep 0.5
done
T_SIGNED=$(now_ms)
echo "# $signed signed $((T_SIGNED - T_SUBMIT)) ms after the first submission"
assert_eq "$signed" "$N" "/metrics: all $N requests SIGNED within 90 s"
assert_eq "$(mval 'signet_requests{status="FAILED"}')/$(mval 'signet_requests{status="DEAD_LETTER"}')" "0/0" \
	"/metrics: no request FAILED or DEAD_LETTER"
assert_eq "$(mval signet_queue_depth)" 0 "/metrics: the queue is empty afterwards"

# ---- every request through the API: SIGNED, its own digest, its own submitter, a signature id
fetch_requests "${CLIENT_KEY[0]}" "$W/ids" "$W/get"
assert_eq "$(awk '$1 == 200' "$W/get/codes" | wc -l)" "$N" "GET /v1/requests/{id} answers 200 for all $N"
jq -r '[(input_filename | sub(".*/"; "") | sub("\\.json$"; "")), .id, .status, .submitted_by,
	(.signature_id // "none"), .digest, (.signature // "none"), (.signature_format // "none"), .key_version] | join(" ")' \
	"$W"/get/[0-9]*.json >"$W/got" 2>"$W/got.err"
bad_status=0 bad_digest=0 bad_owner=0 no_sig=0 bad_fmt=0
while read -r tag id st by sid dg sg fmt kv; do
	i=$((10#$tag))
	[ "$st" = SIGNED ] || bad_status=$((bad_status + 1))
	[ "$dg" = "${DIGESTS[i]}" ] || bad_digest=$((bad_digest + 1))
	[ "$by" = "${CLIENT_ID[i / PER_CLIENT]}" ] || bad_owner=$((bad_owner + 1))
	[ "$sid" != none ] && [ "$sg" != none ] || no_sig=$((no_sig + 1))
	[ "$fmt" = DER ] && [ "$kv" = 1 ] || bad_fmt=$((bad_fmt + 1))
	printf '%s %s\n' "$W/d.$tag" "$W/sig/$id.sig" >>"$W/verify.list"
done <"$W/got"
assert_eq "$(wc -l <"$W/got")" "$N" "read $N request bodies"
assert_eq "$bad_status" 0 "every request is SIGNED"
assert_eq "$bad_digest" 0 "every request carries the digest its client sent"
assert_eq "$bad_owner" 0 "every request's submitted_by is the principal that sent it (4 clients)"
assert_eq "$no_sig" 0 "every SIGNED request has a signature_id and a signature"
assert_eq "$bad_fmt" 0 "every signature is DER from key version 1"
assert_eq "$(awk '{ print $5 }' "$W/got" | sort -u | wc -l)" "$N" "$N distinct signature ids"

# ---- the store: exactly one signature record per request, and it is the one the request names
DB_SIGS=$(sql "$DATA" "SELECT count(*) FROM signatures")
assert_eq "$DB_SIGS" "$N" "store: $N rows in signatures"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM (SELECT request_id FROM signatures GROUP BY request_id HAVING count(*) <> 1)")" 0 \
	"store: signatures grouped by request_id: every group has exactly 1 row"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM requests r WHERE r.status = 'SIGNED'
	AND EXISTS (SELECT 1 FROM signatures s WHERE s.id = r.signature_id AND s.request_id = r.id)")" "$N" \
	"store: every request's signature_id names a record of that request"
# The API's signature bytes are the stored ones.
sql "$DATA" "SELECT request_id || ' ' || lower(hex(signature)) FROM signatures" | sort >"$W/db.sighex"
jq -r '.id + " " + .signature' "$W"/get/[0-9]*.json | b64_hex_lines | sort >"$W/api.sighex"
assert_eq "$(wc -l <"$W/api.sighex")/$(comm -3 "$W/db.sighex" "$W/api.sighex" | wc -l)" "$N/0" \
	"the $N signatures the API returns are the bytes in the store"

# ---- openssl checks all 2,000 (2 processes at a time: 2 cores).  The signature
# files come from the store in one sqlite3 process; the API returned the same
# bytes (checked above), and the digest files are the ones the clients sent.
write_signatures "$DATA" "$W/sig"
T_V=$(now_ms)
openssl_verify_many "$E2E_TMP/tp-ec.pem" "$W/verify.list" 2
echo "# openssl verified $VERIFIED_OK signatures in $(($(now_ms) - T_V)) ms"
assert_eq "$VERIFIED_OK" "$N" "openssl pkeyutl -verify accepts all $N signatures with the exported public key"
grep -m3 '^bad' "$W/verify.out"
# Negative control: the same checker refuses a signature over another digest.
first_sig=$(base64 -w0 "$(awk 'NR == 1 { print $2 }' "$W/verify.list")")
assert_ec_rejects "$E2E_TMP/tp-ec.pem" "${DIGESTS[1]}" "$first_sig" "openssl refuses request 0's signature over request 1's digest"

echo "# total $(($(now_ms) - T0)) ms"
e2e_finish
