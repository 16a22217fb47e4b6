#!/usr/bin/env bash
# e2e_pg_node_startup.sh - four nodes started at the same moment on an empty
# PostgreSQL database WITHOUT SIGNET_BOOTSTRAP_API_KEY (SPEC §6; the
# multi-node tests, e2e_pg_cluster_*, start theirs with one): every node comes
# up; the database holds one tenant, one principal and one TSA key; exactly
# one node wrote bootstrap-admin.key (the others log that another node made
# the principal, docs/operations.md), and that key works on every node; all
# nodes serve the same TSA certificate.  The shared master key file does not
# exist before: exactly one node creates it, the others use that one.  Then the repair of a tenant left
# without its principal by a start that stopped half-way: three nodes come
# up with one admin, without and with SIGNET_BOOTSTRAP_API_KEY.
export SIGNET_TEST_STORE=postgresql
. "$(dirname "$0")/../lib.sh" || exit 2

e2e_pg_server
URL=$(e2e_store_url "$E2E_TMP/shared")
require "a database for the nodes" [ -n "$URL" ]
# No master key file yet: the four nodes race to create it at one shared path,
# and must all end with the same key (one creates it, the others read it).
MK=$E2E_TMP/master.key

PIDS=()
PORTS=()
stop_nodes() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
}
trap 'stop_nodes; e2e_cleanup' EXIT

# start_nodes TAG N [VAR=VALUE...]: N nodes launched at the same moment, data
# directories $E2E_TMP/TAG1..TAGN; PORTS gets their ports (empty: did not come up).
start_nodes() {
	local tag=$1 n=$2 i k port
	shift 2
	PIDS=()
	PORTS=()
	for ((i = 1; i <= n; i++)); do
		SERVER_LOGS+=("$E2E_TMP/$tag$i.log")
		env SIGNET_STORE_URL="$URL" SIGNET_MASTER_KEY_FILE="$MK" SIGNET_LOG_LEVEL=debug "$@" \
			"$SIGNETD" --listen 127.0.0.1:0 --data-dir "$E2E_TMP/$tag$i" >/dev/null 2>"$E2E_TMP/$tag$i.log" &
		PIDS+=($!)
	done
	for ((i = 1; i <= n; i++)); do
		port=""
		for ((k = 0; k < 600; k++)); do
			port=$(grep -m1 -o '(port [0-9]*)' "$E2E_TMP/$tag$i.log" 2>/dev/null | tr -dc 0-9)
			[ -n "$port" ] && break
			kill -0 "${PIDS[i - 1]}" 2>/dev/null || break
			sleep 0.05
		done
		if [ -n "$port" ]; then
			ok "$tag: node $i came up"
		else
			fail "$tag: node $i came up" "$(tail -n 5 "$E2E_TMP/$tag$i.log")"
		fi
		PORTS+=("$port")
	done
}
start_nodes n 4
require "all four nodes listen" [ "${#PORTS[@]}" = 4 ]

q() { psql "$URL" -qtAXc "$1"; }
assert_eq "$(q "SELECT count(*) FROM tenants")/$(q "SELECT name FROM tenants")" "1/default" "one tenant, named default"
assert_eq "$(q "SELECT count(*) FROM principals")" 1 "one principal"
assert_eq "$(q "SELECT count(*) FROM tsa_key")" 1 "one TSA key"
assert_eq "$(grep -l "generated a new master key" "$E2E_TMP"/n[0-9].log | wc -l)" 1 \
	"exactly one node generated the shared master key file"
KEYFILES=$(ls "$E2E_TMP"/n[0-9]/bootstrap-admin.key 2>/dev/null)
assert_eq "$(printf '%s\n' "$KEYFILES" | grep -c .)" 1 "exactly one node wrote bootstrap-admin.key"
assert_eq "$(grep -l "created; API key written" "$E2E_TMP"/n[0-9].log | wc -l)" 1 \
	"exactly one node logs that it created the bootstrap principal"
KEY=$(cat "$(printf '%s\n' "$KEYFILES" | head -n 1)" 2>/dev/null)
remember_secret "$KEY"
CERT=""
for i in 1 2 3 4; do
	BASE_URL="http://127.0.0.1:${PORTS[i - 1]}"
	api "$KEY" GET /v1/principals
	assert_eq "$STATUS $(jget '.principals | length')" "200 1" "node $i: the bootstrap key works and lists one principal"
	c=$(curl -s "$BASE_URL/tsa/certificate" | openssl x509 -noout -fingerprint -sha256 2>/dev/null)
	[ -z "$CERT" ] && CERT=$c
	assert_eq "$c" "$CERT" "node $i serves the same TSA certificate"
done
stop_nodes

# ---- repair: a start that stopped between creating tenant 'default' and its
# principal (crash, database gone) left the tenant without an admin.  Nodes
# started on that database create the bootstrap principal as a first start
# would: one admin, one key file, the key works everywhere.
orphan() {
	q "DELETE FROM api_keys; DELETE FROM principals" >/dev/null
	assert_eq "$(q "SELECT count(*) FROM tenants")/$(q "SELECT count(*) FROM principals")" "1/0" \
		"$1: tenant 'default' left without a principal"
}
orphan "repair"
start_nodes r 3
require "the three repairing nodes listen" [ "$(printf '%s' "${PORTS[*]}" | wc -w)" = 3 ]
assert_eq "$(q "SELECT count(*) FROM principals")/$(q "SELECT name FROM principals")" "1/bootstrap-admin" \
	"repair: one principal, bootstrap-admin"
KEYFILES=$(ls "$E2E_TMP"/r[0-9]/bootstrap-admin.key 2>/dev/null)
assert_eq "$(printf '%s\n' "$KEYFILES" | grep -c .)" 1 "repair: exactly one node wrote bootstrap-admin.key"
assert_contains "$(cat "$E2E_TMP"/r[0-9].log)" "has no admin principal" "repair: the log says what was repaired"
KEY=$(cat "$(printf '%s\n' "$KEYFILES" | head -n 1)" 2>/dev/null)
remember_secret "$KEY"
for i in 1 2 3; do
	BASE_URL="http://127.0.0.1:${PORTS[i - 1]}"
	api "$KEY" GET /v1/principals
	assert_eq "$STATUS $(jget '.principals[0].name')" "200 bootstrap-admin" "repair: node $i accepts the new bootstrap key"
done
stop_nodes

# ... and the same with SIGNET_BOOTSTRAP_API_KEY on every node (as
# docs/operations.md advises): they race to register the one key.
ADMIN="pg-startup-admin-$RANDOM$RANDOM-bootstrap"
remember_secret "$ADMIN"
orphan "repair with SIGNET_BOOTSTRAP_API_KEY"
start_nodes e 3 SIGNET_BOOTSTRAP_API_KEY="$ADMIN"
require "the three nodes with SIGNET_BOOTSTRAP_API_KEY listen" [ "$(printf '%s' "${PORTS[*]}" | wc -w)" = 3 ]
assert_eq "$(q "SELECT count(*) FROM principals")/$(q "SELECT count(*) FROM api_keys")" "1/1" \
	"repair with SIGNET_BOOTSTRAP_API_KEY: one principal, one API key"
for i in 1 2 3; do
	BASE_URL="http://127.0.0.1:${PORTS[i - 1]}"
	api "$ADMIN" GET /v1/principals
	assert_eq "$STATUS $(jget '.principals | length')" "200 1" "repair: node $i accepts SIGNET_BOOTSTRAP_API_KEY"
done
stop_nodes
e2e_finish
