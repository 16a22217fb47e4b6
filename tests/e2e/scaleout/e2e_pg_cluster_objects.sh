#!/usr/bin/env bash
#
# e2e_pg_cluster_objects.sh - three signetd nodes on one PostgreSQL (SPEC §6,
# issue 13 "How it is tested", first point): what one node makes, the others
# see and use.
#
# Node 1 creates a key, a principal and a policy; node 2 reads them and
# exports the key's public key; node 3 signs with them.  Then 60 sync
# signatures are spread over the three nodes (round robin) and openssl
# checks every one against the public key each node exports (the same key
# on every node).  A key made on node 3 and rotated on node 2 signs with its
# new version on node 1.  An API key revoked on node 1 is refused by every
# node within 1 s (SPEC §6).  The data directories hold no database file,
# and no node logs the database password.

. "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh" || exit 2

T0=$(ms_now)
require "PostgreSQL and three signetd nodes start" cluster_up 3

for i in 1 2 3; do
	readyz "$i"
	assert_eq "$RZ_STATUS $(jq -r '"\(.status) \(.database)"' <<<"$RZ_BODY")" "200 ready postgresql" \
		"node $i: /readyz says 200 ready on postgresql"
	assert_fails "node $i: no SQLite database file in its data directory" \
		bash -c "ls '${NODE_DATA[i]}' | grep -E '\\.db(-wal|-shm)?\$'"
done

# ---- objects made on node 1
on 1
new_key "$ADMIN_KEY" cl-ec EC-P256
KEY_ID=$K_ID
new_principal "$ADMIN_KEY" cl-signer '["signer"]'
SIGNER=$P_KEY SIGNER_ID=$P_ID
api "$ADMIN_KEY" POST /v1/policies '{"project":"cl","slug":"fast","key":"cl-ec"}'
assert_status 201 "node 1: create policy cl/fast"

# ---- seen on node 2
on 2
api "$ADMIN_KEY" GET /v1/keys/cl-ec
assert_status 200 "node 2: GET /v1/keys/cl-ec (made on node 1)"
assert_json '"\(.id) \(.algorithm)"' "$KEY_ID EC-P256" "node 2 sees the key's id and algorithm"
api "$ADMIN_KEY" GET /v1/principals
assert_json "[.principals[] | select(.id == \"$SIGNER_ID\") | .name] | join(\",\")" cl-signer \
	"node 2 lists the principal made on node 1"
api "$ADMIN_KEY" GET /v1/policies/cl/fast
assert_status 200 "node 2: GET /v1/policies/cl/fast (made on node 1)"
for i in 1 2 3; do
	on "$i"
	require "node $i exports the public key of cl-ec" fetch_pem cl-ec 1 "$E2E_TMP/cl-ec.$i.pem"
done
assert_eq "$(pem_fingerprint "$E2E_TMP/cl-ec.2.pem")" "$(pem_fingerprint "$E2E_TMP/cl-ec.1.pem")" \
	"nodes 1 and 2 export the same public key"
assert_eq "$(pem_fingerprint "$E2E_TMP/cl-ec.3.pem")" "$(pem_fingerprint "$E2E_TMP/cl-ec.1.pem")" \
	"nodes 1 and 3 export the same public key"
PEM=$E2E_TMP/cl-ec.2.pem

# ---- used on node 3
on 3
D=$(rand_digest)
api "$SIGNER" POST /v1/sign "$(sign_body cl-ec "$D" SHA-256)"
assert_status 200 "node 3: the signer made on node 1 signs with the key made on node 1"
assert_ec_verifies "$PEM" "$D" "$(jget .signature)" "openssl verifies node 3's signature with the key node 2 exported"
FIRST_REQ=$(jget .request_id)
api "$SIGNER" POST /v1/sign "$(jq -cn --arg d "$D" '{policy:"cl/fast",digest:$d,hash_algorithm:"SHA-256"}')"
assert_status 200 "node 3: signing under the policy made on node 1"
on 1
api "$SIGNER" GET "/v1/requests/$FIRST_REQ"
assert_json '"\(.status) \(.digest)"' "SIGNED $D" "node 1 shows the request node 3 signed"

# ---- sync signing spread over the three nodes, every signature checked
N=60
bad_status=0
: >"$E2E_TMP/spread.list"
declare -A PER_NODE=()
for ((k = 0; k < N; k++)); do
	i=$((k % 3 + 1))
	on "$i"
	D=$(rand_digest)
	api "$SIGNER" POST /v1/sign "$(sign_body cl-ec "$D" SHA-256)"
	if [ "$STATUS" != 200 ]; then
		bad_status=$((bad_status + 1))
		[ "$bad_status" -le 3 ] && echo "# node $i: $STATUS $RESP"
		continue
	fi
	PER_NODE[$i]=$((${PER_NODE[$i]:-0} + 1))
	S=""
	jfield signature S
	printf '%s' "$D" | base64 -d >"$E2E_TMP/spread.$k.d"
	printf '%s' "$S" | base64 -d >"$E2E_TMP/spread.$k.s"
	echo "$E2E_TMP/spread.$k.d $E2E_TMP/spread.$k.s" >>"$E2E_TMP/spread.list"
done
assert_eq "$bad_status" 0 "$N sync signatures round robin over the three nodes all answer 200"
assert_eq "${PER_NODE[1]:-0}/${PER_NODE[2]:-0}/${PER_NODE[3]:-0}" "20/20/20" "each node signed 20 of them"
openssl_verify_many "$PEM" "$E2E_TMP/spread.list" 2
assert_eq "$VERIFIED_OK" "$N" "openssl pkeyutl -verify accepts all $N signatures from the three nodes"
SIGT=$(pg_table '%signature%' request_id)
REQT=$(pg_table '%request%' id status)
require "PostgreSQL has a %signature% table with request_id and a %request% table with id, status (SPEC §6)" \
	[ -n "$SIGT" ] && [ -n "$REQT" ]
assert_eq "$(psqlq "SELECT count(*) FROM $SIGT")" $((N + 2)) "PostgreSQL: $((N + 2)) signature rows ($SIGT)"
assert_eq "$(psqlq "SELECT count(*) FROM $REQT WHERE status = 'SIGNED'")" $((N + 2)) \
	"PostgreSQL: $((N + 2)) SIGNED requests ($REQT)"

# ---- a key made on node 3, rotated on node 2, signs with version 2 on node 1
on 3
new_key "$ADMIN_KEY" cl-rot EC-P256
on 2
api "$ADMIN_KEY" POST /v1/keys/cl-rot/rotate
assert_status 200 "node 2 rotates the key made on node 3"
require "node 2 exports cl-rot version 2" fetch_pem cl-rot 2 "$E2E_TMP/cl-rot.2.pem"
sleep 1.1 # a node may cache key versions; SPEC §6 pins 1 s for revocations only
on 1
D=$(rand_digest)
api "$SIGNER" POST /v1/sign "$(sign_body cl-rot "$D" SHA-256)"
assert_json .key_version 2 "node 1 signs cl-rot with the version node 2 made"
assert_ec_verifies "$E2E_TMP/cl-rot.2.pem" "$D" "$(jget .signature)" "openssl verifies it with version 2's public key"

# ---- revocation on node 1 holds on every node within 1 s
on 1
new_principal "$ADMIN_KEY" cl-leaver '["signer"]'
LEAVER=$P_KEY LEAVER_KEY_ID=$P_KEY_ID
for i in 2 3; do
	on "$i"
	api "$LEAVER" POST /v1/sign "$(sign_body cl-ec "$(rand_digest)" SHA-256)"
	assert_status 200 "node $i: the new principal's key signs (and is now in node $i's cache)"
done
on 1
api "$ADMIN_KEY" DELETE "/v1/api-keys/$LEAVER_KEY_ID"
assert_status 204 "node 1 revokes the key"
REVOKED_AT=$(ms_now)
sleep 1
for i in 2 3 1; do
	on "$i"
	api "$LEAVER" POST /v1/sign "$(sign_body cl-ec "$(rand_digest)" SHA-256)"
	assert_error 401 UNAUTHENTICATED "node $i, $(($(ms_now) - REVOKED_AT)) ms after the revocation on node 1: the revoked key"
done
on 2
api "$SIGNER" POST /v1/sign "$(sign_body cl-ec "$(rand_digest)" SHA-256)"
assert_status 200 "node 2: another principal's key still signs"

check_no_url_password
echo "# total $(($(ms_now) - T0)) ms"
e2e_finish
