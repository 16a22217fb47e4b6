# shellcheck shell=bash
# shellcheck disable=SC2034  # NODE_URL, PG_URL ... are read by the scripts
#
# cluster_lib.sh - helpers for the multi-node tests (e2e_pg_cluster_*.sh):
# several signetd nodes on one throwaway PostgreSQL (SPEC §6).
#
# It sources ../workflow/wf_lib.sh (lib.sh's server helpers, api and the
# assertions, plus bulk requests with curl config files, polling and
# openssl checks) and adds:
#   pg_start            a throwaway PostgreSQL 15 cluster in the test's temp
#                       directory (tests/tools/pg-cluster.sh), the role's
#                       password changed to a random one that the logs must
#                       never show; sets PG_URL
#   psqlq QUERY         run QUERY on it (psql, unaligned, no header)
#   pg_table LIKE COLS  the table (or view) named like LIKE having every
#                       column of COLS: SPEC §6 pins no names, only shapes
#   node_launch I [VAR=VALUE...] / node_wait I
#                       start node I (its own data directory and a port the
#                       kernel picks), then wait until it listens
#   node_start I [...]  both
#   on I                point api (BASE_URL) at node I
#   node_kill I [SIGNAL]
# Every node gets the same SIGNET_STORE_URL, SIGNET_MASTER_KEY_FILE (one
# key file, 0600, made here like an operator would) and bootstrap admin key,
# plus NODE_ENV (an array the script may set) and the extra VAR=VALUE.
# The EXIT trap kills the nodes and the PostgreSQL cluster.

. "$(dirname "${BASH_SOURCE[0]}")/../workflow/wf_lib.sh" || exit 2

SCALEOUT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_CLUSTER=$SCALEOUT_DIR/../../tools/pg-cluster.sh
for tool in psql python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$E2E_NAME: '$tool' is required (apt-get install -y postgresql-client-15 python3)" >&2
		exit 2
	fi
done

# As root the cluster belongs to the postgres user, which must be able to
# reach its directory inside E2E_TMP (traverse only, no listing).
chmod 711 "$E2E_TMP"
PG_DIR=$E2E_TMP/pg
PG_URL=""
PG_PASS=""
MASTER_KEY_FILE=$E2E_TMP/master.key
(umask 077 && head -c 32 /dev/urandom >"$MASTER_KEY_FILE")

declare -a NODE_PID=() NODE_URL=() NODE_PORT=() NODE_LOG=() NODE_DATA=()
NODE_ENV=()
NODE_STARTS=0
# Rate limits far above what the tests send: they measure the cluster, not the limiter.
CLUSTER_ENV=(SIGNET_RATE_LIMIT_PRINCIPAL=1000000 SIGNET_RATE_LIMIT_ADDRESS=1000000)

cluster_cleanup() {
	local rc=$? i
	for i in "${!NODE_PID[@]}"; do
		[ -n "${NODE_PID[i]}" ] && kill -KILL "${NODE_PID[i]}" 2>/dev/null
	done
	for i in "${!NODE_PID[@]}"; do
		[ -n "${NODE_PID[i]}" ] && wait "${NODE_PID[i]}" 2>/dev/null
	done
	SERVER_PID=""
	if [ -d "$PG_DIR/data" ]; then
		bash "$PG_CLUSTER" kill "$PG_DIR" >/dev/null 2>&1
	fi
	if [ "$rc" -ne 0 ] && [ -f "$PG_DIR/log" ]; then
		SERVER_LOGS+=("$PG_DIR/log")
	fi
	(exit "$rc")
	e2e_cleanup
}
trap cluster_cleanup EXIT

# pg_start: a fresh cluster; PG_URL with a random password (a secret: the
# logs must never show it).
pg_start() {
	local url
	url=$(bash "$PG_CLUSTER" start "$PG_DIR" 2>"$E2E_TMP/pg-start.err") || {
		cat "$E2E_TMP/pg-start.err" >&2
		return 1
	}
	PG_PASS="pw$(openssl rand -hex 12)"
	PGCONNECT_TIMEOUT=5 psql "$url" -qtAX -v ON_ERROR_STOP=1 \
		-c "ALTER ROLE signet PASSWORD '$PG_PASS'" >/dev/null || return 1
	PG_URL=${url/signet:signet@/signet:$PG_PASS@}
	remember_secret "$PG_PASS"
	PG_PORT=$(cat "$PG_DIR/port")
}

# psqlq QUERY: one query, rows as "a|b" lines
psqlq() {
	PGCONNECT_TIMEOUT=5 psql "$PG_URL" -qtAX -v ON_ERROR_STOP=1 -c "$1"
}

# pg_table LIKE COL...: the table or view (current schema) whose name is
# LIKE the pattern and which has all the columns; the shortest name wins.
pg_table() {
	local like=$1 cols="" c
	shift
	for c in "$@"; do
		cols+="${cols:+,}'$c'"
	done
	psqlq "SELECT table_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name LIKE '$like' AND column_name IN ($cols)
		GROUP BY table_name HAVING count(DISTINCT column_name) = $#
		ORDER BY length(table_name), table_name LIMIT 1"
}

# pg_column TABLE LIKE: the first column of TABLE whose name is LIKE the pattern
pg_column() {
	psqlq "SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = '$1' AND column_name LIKE '$2'
		ORDER BY ordinal_position LIMIT 1"
}

# node_launch I [VAR=VALUE...]: start node I in the background
node_launch() {
	local i=$1
	shift
	NODE_STARTS=$((NODE_STARTS + 1))
	NODE_DATA[i]=$E2E_TMP/node$i
	NODE_LOG[i]=$E2E_TMP/node$i.$NODE_STARTS.log
	SERVER_LOGS+=("${NODE_LOG[i]}")
	env SIGNET_LOG_LEVEL=debug SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" SIGNET_STORE_URL="$PG_URL" \
		SIGNET_MASTER_KEY_FILE="$MASTER_KEY_FILE" "${CLUSTER_ENV[@]}" "${NODE_ENV[@]}" "$@" \
		"$SIGNETD" --listen 127.0.0.1:0 --data-dir "${NODE_DATA[i]}" \
		>"$E2E_TMP/node$i.$NODE_STARTS.out" 2>"${NODE_LOG[i]}" &
	NODE_PID[i]=$!
	NODE_PORT[i]=""
	NODE_URL[i]=""
}

# node_wait I: wait until node I listens and answers /healthz (60 s at most)
node_wait() {
	local i=$1 k line port=""
	for ((k = 0; k < 1200; k++)); do
		line=$(grep -m1 -o 'listening on [a-z]*://[^ ]* (port [0-9]*)' "${NODE_LOG[i]}" 2>/dev/null || true)
		if [ -n "$line" ]; then
			port=$(printf '%s' "$line" | sed 's/.*(port \([0-9]*\))/\1/')
			break
		fi
		kill -0 "${NODE_PID[i]}" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ] || [ "$port" = 0 ]; then
		echo "node $i did not start; the end of its log:" >&2
		tail -n 30 "${NODE_LOG[i]}" >&2
		return 1
	fi
	NODE_PORT[i]=$port
	NODE_URL[i]="http://127.0.0.1:$port"
	for ((k = 0; k < 400; k++)); do
		if curl -s -o /dev/null --max-time 2 "${NODE_URL[i]}/healthz"; then
			return 0
		fi
		sleep 0.05
	done
	echo "node $i on ${NODE_URL[i]} does not answer /healthz" >&2
	return 1
}

node_start() {
	node_launch "$@" && node_wait "$1"
}

# on I: the following api calls go to node I (check_server_alive watches it)
on() {
	BASE_URL=${NODE_URL[$1]}
	SERVER_PID=${NODE_PID[$1]}
}

# node_kill I [SIGNAL]: signal node I (TERM by default), wait for it; sets
# NODE_EXIT (its exit status)
node_kill() {
	local i=$1 sig=${2:-TERM} k
	NODE_EXIT=""
	[ -n "${NODE_PID[i]}" ] || return 0
	kill "-$sig" "${NODE_PID[i]}" 2>/dev/null
	for ((k = 0; k < 200; k++)); do
		kill -0 "${NODE_PID[i]}" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "${NODE_PID[i]}" 2>/dev/null && kill -KILL "${NODE_PID[i]}" 2>/dev/null
	wait "${NODE_PID[i]}"
	NODE_EXIT=$?
	[ "$SERVER_PID" = "${NODE_PID[i]}" ] && SERVER_PID=""
	NODE_PID[i]=""
}

# cluster_up N: PostgreSQL and nodes 1..N, one after the other (node 1
# creates the schema); every node ready.
cluster_up() {
	local n=$1 i
	pg_start || return 1
	for ((i = 1; i <= n; i++)); do
		node_start "$i" || return 1
	done
}

# check_no_url_password: no node log holds the database password (SPEC §6
# and the preamble: a DB URL's password is never logged).  PG_PASS is also
# among the secrets e2e_finish looks for; this names the rule.
check_no_url_password() {
	local f bad=""
	for f in "${NODE_LOG[@]}" "$E2E_TMP"/node*.out; do
		[ -f "$f" ] && grep -qF -- "$PG_PASS" "$f" && bad+=" $f"
	done
	if [ -z "$bad" ]; then
		ok "no node's log or output shows the database password of the store URL"
	else
		fail "no node's log or output shows the database password of the store URL" "found in:$bad"
	fi
}

# ms_now: milliseconds since the epoch (bash clock, no process)
ms_now() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# readyz I: GET /readyz on node I with plain curl (its 503 body is not the
# error shape); sets RZ_STATUS, RZ_BODY and RZ_MS (the time it took)
readyz() {
	local t0 out
	t0=$(ms_now)
	out=$(curl -s --max-time 15 -w '\n%{http_code}' "${NODE_URL[$1]}/readyz")
	RZ_MS=$(($(ms_now) - t0))
	RZ_STATUS=${out##*$'\n'}
	RZ_BODY=${out%$'\n'*}
}

# pg_pids: the postmaster of the test's cluster and its children, read from
# /proc (no procps needed)
pg_pids() {
	local pm f st
	pm=$(head -n1 "$PG_DIR/data/postmaster.pid" 2>/dev/null) || return 1
	echo "$pm"
	for f in /proc/[0-9]*/stat; do
		st=$(<"$f") 2>/dev/null || continue
		st=${st##*) }
		read -r -a st <<<"$st"
		[ "${st[1]}" = "$pm" ] && { f=${f#/proc/}; echo "${f%/stat}"; }
	done
	return 0
}

