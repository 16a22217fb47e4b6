#!/usr/bin/env bash
#
# edge_http.sh - the HTTP edge refuses what it must (SPEC §8, E4-E8), with raw
# sockets (edge_probe.py) so that nothing is normalised by a client library:
#   - ambiguous framing: Content-Length with Transfer-Encoding in either
#     order, two different or two equal Content-Length headers, a list in
#     Content-Length: one 400 and the connection closed, and the request
#     smuggled behind it never answered;
#   - a percent-encoded control character (0x00-0x1F, 0x7F) in the path:
#     400 and closed, and %00 no longer reaches a key;
#   - a declared body over the limit: 413 within 2 s, on a public and an
#     authenticated route, never "100 Continue", while most of it is unsent;
#   - a slow client (a byte every 2 s) is cut off within 60 s and an idle
#     keep-alive connection is closed, with the default header timeout;
#   - the per-address connection cap (set to 8 here): the address holding
#     its maximum is refused while another loopback address is served;
#   - HEAD wherever GET is, and signetd --version;
#   - JSON parse errors in the project's words (no parser internals);
#   - the log has no raw CR or ESC and no line starting with client text.
# After every probe the server still answers /healthz.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2
command -v python3 >/dev/null || { echo "$E2E_NAME: python3 is required" >&2; exit 2; }
PROBE="python3 $(dirname "${BASH_SOURCE[0]}")/edge_probe.py"

ADMIN_KEY="e2e-edge-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" \
	SIGNET_MAX_CONNECTIONS_PER_ADDRESS=8
new_key "$ADMIN_KEY" release EC-P256
KEY_ID=$K_ID

still_healthy() {
	assert_eq "$(healthz)" 200 "the server still answers /healthz after: $1"
}

# The slow-client and idle probes take up to the default header timeout
# (30 s); they run in the background while the other probes go on.
$PROBE slow "$SERVER_PORT" 2 75 >"$E2E_TMP/slow.out" 2>&1 &
SLOW_PID=$!
$PROBE idle "$SERVER_PORT" 75 >"$E2E_TMP/idle.out" 2>&1 &
IDLE_PID=$!

# ---- framing (E4): one 400, connection closed, the smuggled GET never answered
SMUGGLED='GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
framing() { # NAME HEADERS BODY
	local out
	out=$($PROBE raw "$SERVER_PORT" "POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n$2\r\n$3$SMUGGLED")
	assert_eq "$out" "responses=1 statuses=400 closed=1" "$1: exactly one 400 and the connection closed"
	still_healthy "$1"
}
framing "CL then TE" 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n' '0\r\n\r\n'
framing "TE then CL" 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n' '0\r\n\r\n'
framing "two different Content-Length" 'Content-Length: 2\r\nContent-Length: 40\r\n' '{}'
framing "two equal Content-Length" 'Content-Length: 2\r\nContent-Length: 2\r\n' '{}'
framing "Transfer-Encoding other than chunked" 'Transfer-Encoding: gzip, chunked\r\n' '0\r\n\r\n'
# A list in Content-Length is refused by libmicrohttpd itself, before signetd
# sees the request; its 400 repeats its header block (a libmicrohttpd 0.9.75
# quirk), so check that every status is 400, none is the smuggled 200, and
# the connection is closed.
out=$($PROBE raw "$SERVER_PORT" "POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\n{}$SMUGGLED")
assert_match "$out" '^responses=[12] statuses=400(,400)? closed=1$' "a list in Content-Length: 400 only, closed"
still_healthy "a list in Content-Length"

# ---- control characters in the path (E4)
for enc in %00 %0a %0d %1b %1f %7f %7F %09; do
	out=$($PROBE raw "$SERVER_PORT" "GET /v1/keys/release${enc}xyz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $ADMIN_KEY\r\n\r\n$SMUGGLED")
	assert_eq "$out" "responses=1 statuses=400 closed=1" "path with $enc: one 400, closed"
done
api "$ADMIN_KEY" GET "/v1/keys/release%00xyz"
assert_error 400 INVALID_ARGUMENT "GET /v1/keys/release%00xyz does not return the key 'release'"
api "$ADMIN_KEY" POST "/v1/keys/release/rotate%00/csr" '{"subject":"CN=x"}'
assert_error 400 INVALID_ARGUMENT "POST .../rotate%00/csr is refused"
api "$ADMIN_KEY" GET "/v1/keys/release"
assert_json '.current_version' 1 "the key was not rotated"
api "$ADMIN_KEY" GET "/v1/keys/release%2Dx"
assert_status 404 "an encoded printable character is still decoded (release-x: no such key)"
still_healthy "control characters in the path"

# ---- early 413 (E5)
for route in /tsa /v1/sign; do
	out=$($PROBE early413 "$SERVER_PORT" "$route" expect)
	assert_match "$out" '^status=413 seconds=[01]\.[0-9]+ body_sent=0 got100=0 closed=1$' \
		"$route, 100 MB declared with Expect: 100-continue: 413 within 2 s, no 100 Continue"
	out=$($PROBE early413 "$SERVER_PORT" "$route")
	assert_match "$out" '^status=413 seconds=[01]\.[0-9]+ body_sent=[0-9]+ got100=0 closed=1$' \
		"$route, 100 MB declared: 413 within 2 s"
	sent=$(sed -n 's/.*body_sent=\([0-9]*\).*/\1/p' <<<"$out")
	assert_ok "$route: the answer came with at most 64 KiB of 100 MB sent ($sent bytes)" [ "${sent:-999999}" -le 65536 ]
done
still_healthy "early 413"

# ---- error messages in our own words, not the JSON parser's
api "$ADMIN_KEY" POST /v1/keys '{"alias":"a\u0000b","algorithm":"EC-P256"}'
assert_error 400 INVALID_ARGUMENT "a \\u0000 in a JSON body"
assert_not_contains "$RESP" "JSON_ALLOW_NUL" "the message does not leak the parser's flag names"
assert_json '.error.message' 'malformed JSON at line 1 column 19: a \u0000 character, which is not accepted' \
	"the message says what is wrong in the project's words"
api "$ADMIN_KEY" POST /v1/keys '{"alias":"a","alias":"b"}'
assert_json '.error.message | test("a field given twice$")' true "a duplicated field is named as such"

# ---- HEAD (E8) and --version
hdrs=$(curl -s -I --max-time 5 "$BASE_URL/healthz")
assert_match "$(head -n1 <<<"$hdrs")" '^HTTP/1.1 200' "HEAD /healthz: 200"
assert_eq "$(curl -s --head --max-time 5 "$BASE_URL/healthz" -o - -w '' | grep -c '^{')" 0 "HEAD /healthz: no body"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -I -H "Authorization: Bearer $ADMIN_KEY" "$BASE_URL/v1/keys/$KEY_ID")" 200 \
	"HEAD /v1/keys/{id}: 200 (GET exists)"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -I "$BASE_URL/v1/keys")" 401 "HEAD /v1/keys needs credentials like GET"
assert_match "$("$SIGNETD" --version)" '^signetd [0-9]+\.[0-9]+\.[0-9]+$' "signetd --version"

# ---- the per-address connection cap (E6), set to 8 for this server
out=$($PROBE cap "$SERVER_PORT" 127.0.0.3 8 127.0.0.2)
assert_eq "$out" "extra_status=- extra_closed=1 other_status=200 held=8" \
	"127.0.0.3 holding 8 connections: a 9th is refused, 127.0.0.2 is served"
still_healthy "the connection cap"

# ---- log injection (E7): the forged line of issue 10, raw ESC, CR
curl -s -o /dev/null --max-time 5 "$BASE_URL/v1/zzz%0a2026-12-06T01:00:00.000Z%20INFO%20bootstrap:%20FORGED"
curl -g -s -o /dev/null --max-time 5 "$BASE_URL/v1/zzz%1b[31mred%0d"
curl -s -o /dev/null --max-time 5 "$BASE_URL/v1/zzz%5cx0a"
$PROBE raw "$SERVER_PORT" 'GET /v1/\x1b[2Jraw HTTP/1.1\r\nHost: x\r\n\r\n' >/dev/null
still_healthy "log injection attempts"

# ---- the background probes (E6)
wait "$SLOW_PID"
out=$(cat "$E2E_TMP/slow.out")
after=$(sed -n 's/.*after=\([0-9]*\).*/\1/p' <<<"$out")
assert_match "$out" '^cut=1 after=' "a client sending a header byte every 2 s is cut off ($out)"
assert_ok "... within 60 s (after ${after:-?} s)" [ "${after:-99}" -le 60 ]
wait "$IDLE_PID"
out=$(cat "$E2E_TMP/idle.out")
after=$(sed -n 's/.*after=\([0-9]*\).*/\1/p' <<<"$out")
assert_match "$out" '^status=200 closed=1 after=' "an idle keep-alive connection is closed ($out)"
assert_ok "... within 60 s (after ${after:-?} s)" [ "${after:-99}" -le 60 ]
still_healthy "slow and idle clients"

stop_server
LOG=$SERVER_LOG
assert_eq "$(grep -c 'FORGED' "$LOG" | tr -d ' ')" 1 "the forged text is logged once, inside the access line"
assert_eq "$(grep -c '^2026-12-06T01:00:00.000Z' "$LOG" | tr -d ' ')" 0 "no log line starts with the client's text"
assert_eq "$(grep -c $'\r' "$LOG" | tr -d ' ')" 0 "no raw CR in the log"
assert_eq "$(grep -c $'\x1b' "$LOG" | tr -d ' ')" 0 "no raw ESC in the log"
assert_eq "$(LC_ALL=C grep -c '[[:cntrl:]]' "$LOG" | tr -d ' ')" 0 "no control character at all in the log (besides newlines)"
assert_match "$(grep 'FORGED' "$LOG")" '^[0-9-]+T[0-9:.]+Z INFO http GET /v1/zzz\\x0a2026' "the newline is written as \\x0a"
assert_ok "a literal backslash from the client is escaped too" grep -q 'zzz\\x5cx0a' "$LOG"
e2e_finish
