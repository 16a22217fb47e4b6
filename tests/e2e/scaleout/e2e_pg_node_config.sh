#!/usr/bin/env bash
# e2e_pg_node_config.sh - how one signetd node is pointed at a store and a
# master key (SPEC §6, Pinned; docs/operations.md):
#   - no store configured: SQLite in the data directory, /readyz "sqlite";
#   - a store URL that is not postgresql:// or postgres:// stops the start
#     with a clear error, from the flag, the environment or the config file,
#     and no password of it reaches the log;
#   - precedence --store > SIGNET_STORE_URL > config file "store";
#   - on PostgreSQL: /readyz "postgresql", no database file and no TSA serial
#     file in the data directory, the role's password in no log and not in
#     /proc/<pid>/environ nor /proc/<pid>/cmdline (--store), masked whole when
#     it holds '?' or '#'; an unreachable store retried for
#     SIGNET_STORE_OPEN_TIMEOUT, then the start stops; TSA serials from the
#     database (increasing);
#   - SIGNET_MASTER_KEY_FILE: created 0600 at that path (none in the data
#     directory), refused when group/world-readable, reused after a restart;
#     a node with another master key refuses to start, naming the cause;
#   - a second node on the same database with the same master key file signs
#     with the first node's key, and an API key revoked on one node is refused
#     by the other within 1 s.
export SIGNET_TEST_STORE=postgresql
. "$(dirname "$0")/../lib.sh" || exit 2

ADMIN="pg-cfg-admin-$RANDOM$RANDOM-bootstrap"
remember_secret "$ADMIN"

# launch LOG [VAR=VALUE...] -- [ARGS...]: run signetd on port 0 in the
# background until it listens (prints "PID PORT", returns 0) or exits (returns 1).
launch() {
	local log=$1 envs=() pid port="" i
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	SERVER_LOGS+=("$log")
	env SIGNET_LOG_LEVEL=debug "${envs[@]}" "$SIGNETD" --listen 127.0.0.1:0 "$@" >/dev/null 2>"$log" &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		port=$(grep -m1 -o '(port [0-9]*)' "$log" 2>/dev/null | tr -dc 0-9)
		[ -n "$port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		kill -KILL "$pid" 2>/dev/null   # still trying after 30 s: as good as a failed start
		wait "$pid" 2>/dev/null
		return 1
	fi
	echo "$pid $port"
}
# halt PID: SIGTERM and wait.
halt() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# ---- SQLite stays the default, with nothing to configure
# shellcheck disable=SC2034  # read by lib.sh
E2E_STORE=sqlite
require "signetd starts on its defaults" start_server "$E2E_TMP/sq" SIGNET_BOOTSTRAP_API_KEY="$ADMIN"
api "" GET /readyz
assert_eq "$STATUS $(jget .status) $(jget .database)" "200 ready sqlite" "/readyz with no store configured: SQLite"
assert_eq "$([ -f "$E2E_TMP/sq/signet.db" ] && [ -f "$E2E_TMP/sq/master.key" ] && echo yes)" yes \
	"no store configured: signet.db and master.key in the data directory, as before"
stop_server
# shellcheck disable=SC2034  # read by lib.sh
E2E_STORE=postgresql

# ---- URLs that are not PostgreSQL's
bad() {
	local what=$1 log=$E2E_TMP/bad.$RANDOM.log rc=0
	shift
	SERVER_LOGS+=("$log")
	timeout 30 env "$@" --listen 127.0.0.1:0 --data-dir "$E2E_TMP/bad" >/dev/null 2>"$log" || rc=$?
	if [ "$rc" = 2 ] && grep -q 'must be a PostgreSQL URL' "$log" && ! grep -q 'hunter2' "$log"; then
		ok "$what: refused at start (exit 2, 'must be a PostgreSQL URL', password not shown)"
	else
		fail "$what: refused at start with a clear error" "exit $rc" "$(cat "$log")"
	fi
}
printf 'store = mysql://root:hunter2@127.0.0.1/signet\n' >"$E2E_TMP/bad.conf"
bad "--store mysql://..." "$SIGNETD" --store 'mysql://root:hunter2@127.0.0.1/signet'
bad "SIGNET_STORE_URL=sqlite:..." SIGNET_STORE_URL='sqlite://root:hunter2@/var/lib/x.db' "$SIGNETD"
bad "config store = mysql://..." "$SIGNETD" --config "$E2E_TMP/bad.conf"
assert_contains "$(cat "$E2E_TMP"/bad.*.log)" "bad.conf:1" "the config file's error names the file and line"

# ---- a role with a password of its own; the logs must never show it
e2e_pg_server
PW="pw$RANDOM$RANDOM$RANDOM"
remember_secret "$PW"
psql "$E2E_PG_URL" -qtAXc "CREATE ROLE noderole LOGIN PASSWORD '$PW'" >/dev/null
psql "$E2E_PG_URL" -qtAXc "CREATE DATABASE nodedb OWNER noderole" >/dev/null
PORT=$(sed -n 's#.*@[^:]*:\([0-9]*\)/.*#\1#p' <<<"$E2E_PG_URL")
GOOD="postgresql://noderole:$PW@127.0.0.1:$PORT/nodedb"
CLOSED="postgres://noderole:$PW@127.0.0.1:1/nodedb"     # nothing listens on port 1
MK=$E2E_TMP/keys/master.key
mkdir -p "$E2E_TMP/keys"
printf 'store = %s\n' "$CLOSED" >"$E2E_TMP/closed.conf"
printf 'store = %s\n' "$GOOD" >"$E2E_TMP/good.conf"
COMMON=(SIGNET_BOOTSTRAP_API_KEY="$ADMIN" SIGNET_MASTER_KEY_FILE="$MK" SIGNET_RATE_LIMIT_AUTH_FAILURES=0)

# precedence: the environment beats the file
if got=$(launch "$E2E_TMP/p1.log" "${COMMON[@]}" SIGNET_STORE_URL="$GOOD" -- \
	--config "$E2E_TMP/closed.conf" --data-dir "$E2E_TMP/n1"); then
	read -r PID1 PORT1 <<<"$got"
	ok "SIGNET_STORE_URL beats the config file's store (started on the good one)"
	assert_not_contains "$(tr '\0' '\n' <"/proc/$PID1/environ")" "$PW" \
		"the store URL's password is not in /proc/<pid>/environ of the running server"
	halt "$PID1"
else
	fail "SIGNET_STORE_URL beats the config file's store" "$(cat "$E2E_TMP/p1.log")"
fi
# ... and loses to --store
if got=$(launch "$E2E_TMP/p2.log" "${COMMON[@]}" SIGNET_STORE_URL="$CLOSED" -- \
	--store "$GOOD" --data-dir "$E2E_TMP/n1"); then
	read -r PID1 PORT1 <<<"$got"
	ok "--store beats SIGNET_STORE_URL"
	assert_not_contains "$(tr '\0' '\n' <"/proc/$PID1/cmdline")" "$PW" \
		"the --store password is not in /proc/<pid>/cmdline of the running server"
	assert_contains "$(tr '\0' '\n' <"/proc/$PID1/cmdline")" "--store" "(cmdline was read)"
	halt "$PID1"
else
	fail "--store beats SIGNET_STORE_URL" "$(cat "$E2E_TMP/p2.log")"
fi
# the file alone is used, and the environment over a good file is used too (and fails)
if launch "$E2E_TMP/p3.log" "${COMMON[@]}" SIGNET_STORE_URL="$CLOSED" SIGNET_STORE_OPEN_TIMEOUT=2 -- \
	--config "$E2E_TMP/good.conf" --data-dir "$E2E_TMP/n1" >/dev/null; then
	fail "SIGNET_STORE_URL (unreachable) beats a good config file: the start fails"
else
	ok "SIGNET_STORE_URL (unreachable) beats a good config file: the start fails"
	assert_contains "$(cat "$E2E_TMP/p3.log")" "noderole:***@127.0.0.1:1/nodedb" \
		"the start error names the store with its password masked"
	assert_contains "$(cat "$E2E_TMP/p3.log")" "gave up after store_open_timeout_seconds = 2" \
		"an unreachable store is retried for SIGNET_STORE_OPEN_TIMEOUT, then the start stops"
fi

# a password given as a query parameter is masked too
if launch "$E2E_TMP/p4.log" "${COMMON[@]}" SIGNET_STORE_OPEN_TIMEOUT=0 -- --store "postgresql://noderole@127.0.0.1:1/nodedb?password=$PW&connect_timeout=2" \
	--data-dir "$E2E_TMP/n1" >/dev/null; then
	fail "an unreachable --store stops the start"
else
	assert_contains "$(cat "$E2E_TMP/p4.log")" "nodedb?password=***&connect_timeout=2" \
		"a password=... query parameter is masked in the start error"
fi

# passwords holding '?' or '#' (libpq reads the userinfo up to the '@'), or an
# unencoded '/' (a URL libpq refuses): masked whole
PW2="q?$PW#x"
for u in "postgresql://noderole:$PW2@127.0.0.1:1/nodedb" "postgresql://noderole:$PW2@127.0.0.1:1/nodedb?sslmode=disable" \
	"postgresql://noderole:a/$PW2@127.0.0.1:1/nodedb"; do
	if launch "$E2E_TMP/p5.log" "${COMMON[@]}" SIGNET_STORE_OPEN_TIMEOUT=0 -- --store "$u" \
		--data-dir "$E2E_TMP/n1" >/dev/null; then
		fail "an unreachable --store stops the start"
	else
		assert_contains "$(cat "$E2E_TMP/p5.log")" "noderole:***@127.0.0.1:1/nodedb" \
			"a password holding '?' and '#' is masked whole (${u##*/})"
		assert_not_contains "$(cat "$E2E_TMP/p5.log")" "$PW" "... and none of it is logged (${u##*/})"
		case $u in *:a/*) assert_contains "$(cat "$E2E_TMP/p5.log")" "is not a libpq URI that parses" \
			"a URL libpq cannot parse is refused without libpq's message (it quotes the password)" ;; esac
	fi
done

# ---- node 1 on PostgreSQL, from the config file
got=$(launch "$E2E_TMP/n1.log" "${COMMON[@]}" -- --config "$E2E_TMP/good.conf" --data-dir "$E2E_TMP/n1")
require "node 1 starts from the config file's store" [ -n "$got" ]
read -r PID1 PORT1 <<<"$got"
BASE_URL="http://127.0.0.1:$PORT1"
api "" GET /readyz
assert_eq "$STATUS $(jget .status) $(jget .database)" "200 ready postgresql" "/readyz on PostgreSQL"
assert_eq "$(cd "$E2E_TMP/n1" && ls -d signet.db* tsa.serial master.key 2>/dev/null | tr '\n' ' ')" "" \
	"the data directory holds no database file, no TSA serial file and no master key"
assert_eq "$(stat -c %a "$MK" 2>/dev/null)" 600 "SIGNET_MASTER_KEY_FILE was created with mode 0600"
assert_eq "$(psql "$E2E_PG_URL" -qtAXc "SELECT count(*) FROM pg_database WHERE datname = 'nodedb'")" 1 \
	"the database is there"

new_key "$ADMIN" cfg-ec EC-P256
require "public key of cfg-ec" fetch_pem cfg-ec 1 "$E2E_TMP/pub.pem" "$ADMIN"
new_principal "$ADMIN" signer '["signer"]'
SIGNER=$P_KEY SIGNER_KID=$P_KEY_ID
printf 'config test' >"$E2E_TMP/msg"
DIG=$(openssl dgst -sha256 -binary "$E2E_TMP/msg" | base64 -w0)

# TSA serials: from the database, increasing; no serial file
openssl ts -query -data "$E2E_TMP/msg" -sha256 -cert -out "$E2E_TMP/q.tsq" 2>/dev/null
serial() {
	curl -s --max-time 30 -H 'Content-Type: application/timestamp-query' \
		--data-binary "@$E2E_TMP/q.tsq" -o "$E2E_TMP/r.tsr" "$BASE_URL/tsa" &&
		openssl ts -reply -in "$E2E_TMP/r.tsr" -text 2>/dev/null |
		sed -n 's/^Serial number: *0x\([0-9A-Fa-f]*\).*/\1/p' | tr 'a-f' 'A-F'
}
S1=$(serial)
S2=$(serial)
if [ -n "$S1" ] && [ -n "$S2" ] && [ "$((16#$S2))" -gt "$((16#$S1))" ]; then
	ok "TSA serials increase ($((16#$S1)), $((16#$S2)))"
else
	fail "TSA serials increase" "got '$S1' then '$S2'"
fi
assert_eq "$([ -e "$E2E_TMP/n1/tsa.serial" ] && echo there)" "" "no tsa.serial on PostgreSQL"

# ---- node 2: same database, same master key file, its own data directory
got=$(launch "$E2E_TMP/n2.log" "${COMMON[@]}" SIGNET_STORE_URL="$GOOD" -- --data-dir "$E2E_TMP/n2")
require "node 2 starts on the same database" [ -n "$got" ]
read -r PID2 PORT2 <<<"$got"
BASE_URL="http://127.0.0.1:$PORT2"
api "$SIGNER" POST /v1/sign "$(sign_body cfg-ec "$DIG" SHA-256)"
assert_status 200 "node 2 signs with the key node 1 made (same master key file)"
jget .signature | base64 -d >"$E2E_TMP/msg.sig"
assert_ok "openssl verifies node 2's signature with node 1's public key" \
	openssl dgst -sha256 -verify "$E2E_TMP/pub.pem" -signature "$E2E_TMP/msg.sig" "$E2E_TMP/msg"
S3=$(serial)
if [ -n "$S3" ] && [ "$((16#$S3))" -gt "$((16#$S2))" ]; then
	ok "node 2's TSA serial continues the same sequence ($((16#$S3)))"
else
	fail "node 2's TSA serial continues the same sequence" "got '$S3' after '$S2'"
fi

# revocation on node 1 is seen by node 2 within 1 s
api "$SIGNER" GET /v1/requests
assert_status 200 "node 2 knows the signer's key (and has it cached now)"
BASE_URL="http://127.0.0.1:$PORT1"
api "$ADMIN" DELETE "/v1/api-keys/$SIGNER_KID"
revoked_at=$(date +%s%3N)
assert_eq "${STATUS:0:1}" 2 "revoke the signer's key on node 1 ($STATUS)"
BASE_URL="http://127.0.0.1:$PORT2"
seen=""
while [ $(($(date +%s%3N) - revoked_at)) -lt 3000 ]; do
	api "$SIGNER" GET /v1/requests
	if [ "$STATUS" = 401 ]; then
		seen=$(($(date +%s%3N) - revoked_at))
		break
	fi
done
if [ -n "$seen" ] && [ "$seen" -le 1000 ]; then
	ok "node 2 refuses the key revoked on node 1 after ${seen} ms (within 1 s)"
else
	fail "node 2 refuses the key revoked on node 1 within 1 s" "seen after: ${seen:-never (3 s)}"
fi
halt "$PID2"
halt "$PID1"

# ---- a node with another master key refuses to start (it could unseal none
# of the keys the others made), and says why
if launch "$E2E_TMP/n3.log" "${COMMON[@]}" SIGNET_MASTER_KEY_FILE="$E2E_TMP/keys/other.key" \
	SIGNET_STORE_URL="$GOOD" -- --data-dir "$E2E_TMP/n3" >/dev/null; then
	fail "a node with another master key file refuses to start"
else
	assert_contains "$(cat "$E2E_TMP/n3.log")" "is not the one that sealed the database's keys: give every node the same SIGNET_MASTER_KEY_FILE" \
		"a node with another master key file refuses to start, naming the cause"
fi

# ---- the master key file: refused when others can read it, reused otherwise
chmod 0644 "$MK"
if launch "$E2E_TMP/n1b.log" "${COMMON[@]}" SIGNET_STORE_URL="$GOOD" -- --data-dir "$E2E_TMP/n1" >/dev/null; then
	fail "a master key file readable by others is refused"
else
	assert_contains "$(cat "$E2E_TMP/n1b.log")" "readable by others" "a master key file readable by others is refused"
fi
chmod 0600 "$MK"
got=$(launch "$E2E_TMP/n1c.log" "${COMMON[@]}" SIGNET_STORE_URL="$GOOD" -- --data-dir "$E2E_TMP/n1")
require "node 1 starts again with the key file at 0600" [ -n "$got" ]
read -r PID1 PORT1 <<<"$got"
BASE_URL="http://127.0.0.1:$PORT1"
new_principal "$ADMIN" signer2 '["signer"]'
api "$P_KEY" POST /v1/sign "$(sign_body cfg-ec "$DIG" SHA-256)"
assert_status 200 "after a restart the same master key file unseals the key"
halt "$PID1"
assert_not_contains "$(cat "$E2E_TMP"/*.log)" "$PW" "the store password appears in no log"
e2e_finish
