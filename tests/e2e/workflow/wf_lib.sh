# shellcheck shell=bash
#
# wf_lib.sh - helpers shared by the workflow end-to-end tests (async
# signing, approvals, policies, resubmit, idempotency, audit, metrics).
#
# It sources ../lib.sh (server start/stop, the api function, assertions)
# and adds what the workflow scripts need on top: the sqlite3 command line
# to look at the store behind the server's back, polling a request until it
# reaches a state, reading one value from /metrics, checking an ECDSA
# signature with the openssl command line, and sending many sign requests
# at once with curl config files (one curl process per batch, not per
# request: process starts are what is slow on a 2-core machine).

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2

if [ "$E2E_STORE" = sqlite ] && ! command -v sqlite3 >/dev/null 2>&1; then
	echo "$E2E_NAME: 'sqlite3' is required (apt-get install -y sqlite3)" >&2
	exit 2
fi

ADMIN_KEY="wf-admin-$RANDOM-$RANDOM-$RANDOM-bootstrap"
remember_secret "$ADMIN_KEY"

# wf_start DATA-DIR [VAR=VALUE...]: start signetd with the bootstrap admin key.
wf_start() {
	local data=$1
	shift
	start_server "$data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" "$@"
}

# sql DATA-DIR QUERY: run QUERY on the store with the sqlite3 CLI (list mode,
# '|' separated, no header), waiting for locks instead of failing on them;
# with SIGNET_TEST_STORE=postgresql, with psql on DATA-DIR's database (the
# tables operators query have the same names there, SPEC §6).
sql() {
	if [ "$E2E_STORE" = postgresql ]; then
		e2e_psql "$1" "$2"
		return
	fi
	sqlite3 -batch -noheader -cmd '.timeout 10000' "$1/signet.db" "$2"
}

# now_ms: milliseconds since the epoch, for timing reports
now_ms() {
	local t
	t=$(date +%s%3N)
	echo "$t"
}

# wait_request API-KEY REQUEST-ID STATUS [TIMEOUT-SECONDS]
# Polls GET /v1/requests/{id} until its status is STATUS (return 0) or a
# terminal status other than STATUS, or the timeout (return 1).  RESP holds
# the last answer.
wait_request() {
	local key=$1 id=$2 want=$3 timeout=${4:-30} st deadline
	deadline=$(($(date +%s) + timeout))
	while :; do
		api "$key" GET "/v1/requests/$id"
		st=""
		jfield status st
		if [ "$st" = "$want" ]; then
			return 0
		fi
		case $st in
		SIGNED | FAILED | REJECTED | DEAD_LETTER) return 1 ;;
		esac
		if [ "$(date +%s)" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# assert_request_reaches API-KEY REQUEST-ID STATUS DESCRIPTION [TIMEOUT]
assert_request_reaches() {
	local got
	if wait_request "$1" "$2" "$3" "${5:-30}"; then
		ok "$4 (request reaches $3)"
	else
		got=$(jget .status)
		fail "$4" "request $2: expected status $3, got $got" "body: $RESP"
	fi
}

# metric NAME [API-KEY]: the value of the /metrics line whose name (with
# labels) is exactly NAME, e.g. 'signet_requests{status="SIGNED"}'; empty
# when the line is missing or the scrape failed.
metric() {
	local name=$1 key=${2:-$ADMIN_KEY} line
	api "$key" GET /metrics
	[ "$STATUS" = 200 ] || return 0
	while IFS= read -r line; do
		if [ "${line% *}" = "$name" ]; then
			echo "${line##* }"
			return 0
		fi
	done <<<"$RESP"
}

# metrics_snapshot [API-KEY]: scrape once into METRICS (the text).
metrics_snapshot() {
	api "${1:-$ADMIN_KEY}" GET /metrics
	METRICS=$RESP
}

# mval NAME: a value from the last metrics_snapshot (empty when missing)
mval() {
	local line
	while IFS= read -r line; do
		if [ "${line% *}" = "$1" ]; then
			echo "${line##* }"
			return 0
		fi
	done <<<"$METRICS"
}

# ec_verify PEM DIGEST-B64 SIGNATURE-B64: openssl checks an ECDSA (DER)
# signature over the raw digest bytes with the public key in PEM.
WF_VERIFY_N=0
ec_verify() {
	WF_VERIFY_N=$((WF_VERIFY_N + 1))
	local d="$E2E_TMP/ecv.$WF_VERIFY_N.digest" s="$E2E_TMP/ecv.$WF_VERIFY_N.sig"
	printf '%s' "$2" | base64 -d >"$d" 2>/dev/null || return 1
	printf '%s' "$3" | base64 -d >"$s" 2>/dev/null || return 1
	openssl pkeyutl -verify -pubin -inkey "$1" -in "$d" -sigfile "$s" >/dev/null 2>&1
}

# assert_ec_verifies PEM DIGEST-B64 SIGNATURE-B64 DESCRIPTION
assert_ec_verifies() {
	if [ -z "$3" ] || [ "$3" = null ]; then
		fail "$4" "no signature to verify"
	elif ec_verify "$1" "$2" "$3"; then
		ok "$4"
	else
		fail "$4" "openssl pkeyutl -verify failed with $1" "digest $2" "signature $3"
	fi
}

# assert_ec_rejects PEM DIGEST-B64 SIGNATURE-B64 DESCRIPTION: the negative control
assert_ec_rejects() {
	if [ -n "$3" ] && [ "$3" != null ] && ! ec_verify "$1" "$2" "$3"; then
		ok "$4"
	else
		fail "$4" "openssl accepted a signature it must refuse (or there was none)" "signature $3"
	fi
}

# rand_digest [BYTES]: a random digest in standard base64 (default 32 bytes)
rand_digest() {
	head -c "${1:-32}" /dev/urandom | base64 -w0
}

# ---------------------------------------------------------------- bulk requests

# make_digests N DIR: N random 32-byte digests; DIR/d.NNNNN hold the binary
# digests (split, one process) and DIR/digests.b64 one base64 line each
# (awk, one process; 32 bytes are not a multiple of 3, so the base64 of the
# whole file cannot simply be cut into lines).
make_digests() {
	local n=$1 dir=$2
	mkdir -p "$dir"
	head -c $((n * 32)) /dev/urandom >"$dir/all.bin"
	(cd "$dir" && split -b 32 -d -a 5 all.bin d.)
	od -An -v -tx1 -w32 "$dir/all.bin" | tr -d ' ' | awk '
		BEGIN {
			b = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
			for (i = 0; i < 16; i++) h[sprintf("%x", i)] = i
		}
		{
			s = $0; out = ""; n = length(s) / 2
			for (i = 0; i < n; i += 3) {
				v = 0
				for (j = 0; j < 3; j++) {
					v = v * 256
					if (i + j < n)
						v += h[substr(s, 2 * (i + j) + 1, 1)] * 16 + h[substr(s, 2 * (i + j) + 2, 1)]
				}
				out = out substr(b, int(v / 262144) % 64 + 1, 1) substr(b, int(v / 4096) % 64 + 1, 1)
				out = out (i + 1 < n ? substr(b, int(v / 64) % 64 + 1, 1) : "=")
				out = out (i + 2 < n ? substr(b, v % 64 + 1, 1) : "=")
			}
			print out
		}' >"$dir/digests.b64"
}

# curl_cfg_sign CFG-FILE API-KEY KEY-ALIAS DIGEST-B64 OUT-FILE TAG [IDEMPOTENCY-KEY]
# Appends one async POST /v1/sign transfer to a curl config file (SHA-256,
# the key's default scheme).  curl writes "<http code> TAG" for it.  Each
# transfer carries its own max-time: options given to curl outside the config
# bind only the first operation of a config whose operations are split by
# "next", so a hanging server would otherwise stall the test.
curl_cfg_sign() {
	local cfg=$1 key=$2 alias=$3 digest=$4 out=$5 tag=$6 idem=${7:-}
	if [ -s "$cfg" ]; then
		echo next >>"$cfg"
	fi
	printf '%s\n' \
		"url = \"$BASE_URL/v1/sign\"" \
		"header = \"Authorization: Bearer $key\"" \
		'header = "Content-Type: application/json"' \
		${idem:+"header = \"Idempotency-Key: $idem\""} \
		"data-raw = \"{\\\"key\\\":\\\"$alias\\\",\\\"digest\\\":\\\"$digest\\\",\\\"hash_algorithm\\\":\\\"SHA-256\\\",\\\"async\\\":true}\"" \
		"output = \"$out\"" \
		'max-time = 60' \
		"write-out = \"%{http_code} $tag\\n\"" >>"$cfg"
}

# run_cfgs PARALLEL OUT-FILE CFG-FILE...: run each config with its own curl,
# PARALLEL at a time (xargs -P); the write-out lines go to OUT-FILE.
run_cfgs() {
	local par=$1 out=$2
	shift 2
	printf '%s\n' "$@" | xargs -P "$par" -n 1 curl -s --max-time 60 -K >"$out" 2>"$out.err"
}

# fetch_requests API-KEY IDS-FILE OUT-DIR: GET /v1/requests/{id} for every
# "TAG ID" line of IDS-FILE into OUT-DIR/TAG.json, 8 transfers at a time in
# one curl process; writes OUT-DIR/codes ("<http code> TAG" lines).
fetch_requests() {
	local key=$1 ids=$2 dir=$3 cfg tag id
	mkdir -p "$dir"
	cfg="$dir/get.cfg"
	{
		printf 'header = "Authorization: Bearer %s"\n' "$key"
		while read -r tag id; do
			printf 'url = "%s/v1/requests/%s"\noutput = "%s/%s.json"\nwrite-out = "%%{http_code} %s\\n"\n' \
				"$BASE_URL" "$id" "$dir" "$tag" "$tag"
		done <"$ids"
	} >"$cfg"
	curl -s --parallel --parallel-max 8 --max-time 60 -K "$cfg" >"$dir/codes" 2>/dev/null
}

# openssl_verify_many PEM LIST-FILE PARALLEL [PKEYUTL-ARGS...]: LIST-FILE has
# lines "DIGEST-FILE SIGNATURE-FILE" (binary, DER); each pair is checked with
# openssl pkeyutl (plus PKEYUTL-ARGS, e.g. -pkeyopt digest:sha256 for RSA),
# PARALLEL processes at a time (one openssl process per
# signature is the floor: openssl has no batch verify).  VERIFIED_OK is the
# count of good ones; DIR/verify.out lists the bad ones.
# shellcheck disable=SC2034  # VERIFIED_OK is read by the scripts
openssl_verify_many() {
	local pem=$1 list=$2 par=$3 dir
	shift 3
	dir=$(dirname "$list")
	rm -f "$list".part.*
	split -n "l/$par" -d "$list" "$list.part."
	# shellcheck disable=SC2016
	printf '%s\n' "$list".part.* | xargs -P "$par" -n 1 bash -c '
		pem=$1 part=${*: -1}
		set -- "${@:2:$#-2}"
		ok=0
		while read -r d s; do
			if openssl pkeyutl -verify -pubin -inkey "$pem" -in "$d" -sigfile "$s" "$@" >/dev/null 2>&1; then
				ok=$((ok + 1))
			else
				echo "bad $d"
			fi
		done <"$part"
		echo "ok $ok"' _ "$pem" "$@" >"$dir/verify.out" 2>&1
	VERIFIED_OK=$(awk '$1 == "ok" { n += $2 } END { print n + 0 }' "$dir/verify.out")
}

# b64_hex_lines: reads "ID BASE64" lines, writes "ID HEX" (lower case), in
# one awk process.
b64_hex_lines() {
	awk '
		BEGIN {
			b = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
			for (i = 1; i <= 64; i++) v[substr(b, i, 1)] = i - 1
			v["-"] = 62; v["_"] = 63
		}
		{
			s = $2; acc = 0; bits = 0; out = ""
			for (i = 1; i <= length(s); i++) {
				ch = substr(s, i, 1)
				if (ch == "=") break
				acc = acc * 64 + v[ch]; bits += 6
				if (bits >= 8) {
					bits -= 8
					byte = int(acc / 2 ^ bits)
					acc -= byte * 2 ^ bits
					out = out sprintf("%02x", byte)
				}
			}
			print $1, out
		}'
}

# write_signatures DATA-DIR OUT-DIR: every signature record's bytes to
# OUT-DIR/<request id>.sig (the sqlite3 CLI's writefile(), one process).
write_signatures() {
	mkdir -p "$2"
	if [ "$E2E_STORE" = postgresql ]; then
		local id b64
		sql "$1" "SELECT request_id || ' ' || translate(encode(signature, 'base64'), E'\\n', '')
			FROM signatures" | while read -r id b64; do
			printf '%s' "$b64" | base64 -d >"$2/$id.sig"
		done
		return
	fi
	sql "$1" "SELECT writefile('$2/' || request_id || '.sig', signature) FROM signatures" >/dev/null
}

# iso_ms ISO-TIMESTAMP: milliseconds since the epoch (2026-11-22T19:01:47.640Z)
iso_ms() {
	jq -rn --arg t "$1" '(($t[0:19] + "Z") | fromdate) * 1000 + ($t[20:23] | tonumber)'
}

# sleep_until_ms EPOCH-MS: return just after that moment (one sleep for
# most of the wait, then the bash clock: no process start at the end).
sleep_until_ms() {
	local now left
	now=${EPOCHREALTIME/./}
	left=$(($1 - now / 1000 - 30))
	if [ "$left" -gt 0 ]; then
		sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
	fi
	while :; do
		now=${EPOCHREALTIME/./}
		[ $((now / 1000)) -gt "$1" ] && return 0
	done
}
