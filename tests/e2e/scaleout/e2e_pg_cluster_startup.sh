#!/usr/bin/env bash
#
# e2e_pg_cluster_startup.sh - several nodes started at the same moment on an
# empty database (SPEC §6: "signetd creates and migrates the schema itself;
# several nodes starting at once on an empty database all come up, with one
# tenant `default` and one bootstrap principal"; the TSA key is in the
# database, so they end with one TSA certificate).
#
# Twice, on two empty databases of one PostgreSQL (4 nodes, then 3), all
# nodes are launched together: every node comes up and says ready; the
# database holds one tenant, named default; every node lists the same one
# principal (bootstrap-admin) and serves the same TSA certificate; the
# bootstrap API key works on each.  A node restarted on the populated
# database, and a late node, add nothing.

. "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh" || exit 2

T0=$(ms_now)
require "PostgreSQL starts" pg_start
psqlq "CREATE DATABASE signet2 OWNER signet" >/dev/null
BASE_PG_URL=$PG_URL

# check_cluster LABEL NODE...: the checks on a set of nodes that share one database
check_cluster() {
	local label=$1 n pid="" fp="" first=""
	shift
	for n in "$@"; do
		readyz "$n"
		assert_eq "$RZ_STATUS $(jq -r '"\(.status) \(.database)"' <<<"$RZ_BODY" 2>/dev/null)" "200 ready postgresql" \
			"$label: node $n is ready on postgresql"
		on "$n"
		api "$ADMIN_KEY" GET /v1/principals
		assert_status 200 "$label: node $n lists principals with the bootstrap key"
		pid=$(jget '[.principals[] | "\(.name) \(.tenant_name) \(.id)"] | join(",")')
		if [ -z "$first" ]; then
			first=$pid
			assert_match "$pid" '^bootstrap-admin default [0-9a-f-]+$' \
				"$label: node $n sees one principal, bootstrap-admin of tenant default"
		else
			assert_eq "$pid" "$first" "$label: node $n sees the same single principal"
		fi
		curl -s -o "$E2E_TMP/tsa.$n.pem" "${NODE_URL[n]}/tsa/certificate"
		if [ -z "$fp" ]; then
			fp=$(openssl x509 -in "$E2E_TMP/tsa.$n.pem" -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -d' ' -f1)
			assert_match "$fp" '^[0-9a-f]{64}$' "$label: node $n serves a TSA certificate"
		else
			assert_eq "$(openssl x509 -in "$E2E_TMP/tsa.$n.pem" -outform DER 2>/dev/null | openssl dgst -sha256 -r |
				cut -d' ' -f1)" "$fp" "$label: node $n serves the same TSA certificate"
		fi
	done
	TENT=$(pg_table '%tenant%' id name)
	if [ -n "$TENT" ]; then
		assert_eq "$(psqlq "SELECT string_agg(name, ',') FROM $TENT")" default "$label: the database holds one tenant, default ($TENT)"
	else
		fail "$label: the database has a %tenant% table with id and name"
	fi
}

# ---- round 1: four nodes at once on the empty database "signet"
for n in 1 2 3 4; do
	node_launch "$n"
done
for n in 1 2 3 4; do
	if node_wait "$n"; then
		ok "round 1: node $n of 4 started at once on an empty database comes up"
	else
		fail "round 1: node $n of 4 started at once on an empty database comes up" "$(tail -n 5 "${NODE_LOG[n]}")"
	fi
done
require "round 1: all four nodes are up" [ -n "${NODE_URL[1]}" ] && [ -n "${NODE_URL[2]}" ] && [ -n "${NODE_URL[3]}" ] && [ -n "${NODE_URL[4]}" ]
check_cluster "round 1" 1 2 3 4

node_kill 2
assert_eq "$NODE_EXIT" 0 "round 1: node 2 stops cleanly on SIGTERM"
require "round 1: node 2 restarts on the populated database" node_start 2
require "round 1: a fifth node joins late" node_start 5
check_cluster "round 1, after a restart and a late node" 1 2 5
on 1
new_principal "$ADMIN_KEY" st-signer '["signer"]'
SIGNER=$P_KEY
new_key "$ADMIN_KEY" st-ec EC-P256
require "export the st-ec public key" fetch_pem st-ec 1 "$E2E_TMP/st-ec.pem"
for n in 2 3 4 5; do
	on "$n"
	D=$(rand_digest)
	api "$SIGNER" POST /v1/sign "$(sign_body st-ec "$D" SHA-256)"
	assert_ec_verifies "$E2E_TMP/st-ec.pem" "$D" "$(jget .signature)" "round 1: node $n signs, openssl verifies"
done
for n in 1 2 3 4 5; do
	node_kill "$n"
done

# ---- round 2: three nodes at once on the empty database "signet2"
PG_URL=${BASE_PG_URL%/signet}/signet2
for n in 6 7 8; do
	node_launch "$n"
done
for n in 6 7 8; do
	if node_wait "$n"; then
		ok "round 2: node $n of 3 started at once on an empty database comes up"
	else
		fail "round 2: node $n of 3 started at once on an empty database comes up" "$(tail -n 5 "${NODE_LOG[n]}")"
	fi
done
require "round 2: all three nodes are up" [ -n "${NODE_URL[6]}" ] && [ -n "${NODE_URL[7]}" ] && [ -n "${NODE_URL[8]}" ]
check_cluster "round 2" 6 7 8

check_no_url_password
echo "# total $(($(ms_now) - T0)) ms"
e2e_finish
