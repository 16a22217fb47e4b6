#!/usr/bin/env bash
#
# wf_idempotency.sh - the Idempotency-Key header of POST /v1/sign.
#
# The same principal, key and body get the first outcome (same request id,
# same signature id, same signature bytes, no second record), fast or
# async, one after the other or 20 at the same moment; another body under
# the same key is 409 CONFLICT and stores nothing; keys are per principal;
# a refused request does not use its key up; empty or over-long keys, and keys
# outside printable ASCII, are 400; a User-Agent that is not UTF-8 is stored
# with '?' for its bytes outside printable ASCII.  The store is checked with
# sqlite3 (or psql): one request and one signature record per key.

. "$(dirname "${BASH_SOURCE[0]}")/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA"
new_key "$ADMIN_KEY" id-ec EC-P256
require "export the id-ec public key" fetch_pem id-ec 1 "$E2E_TMP/id-ec.pem"
new_principal "$ADMIN_KEY" alice '["signer"]'
ALICE=$P_KEY ALICE_ID=$P_ID
new_principal "$ADMIN_KEY" bob '["signer"]'
BOB=$P_KEY BOB_ID=$P_ID

# count_key PRINCIPAL-ID IDEMPOTENCY-KEY: requests and signature records stored for it, "R/S"
count_key() {
	sql "$DATA" "SELECT (SELECT count(*) FROM requests WHERE principal_id = '$1' AND idempotency_key = '$2')
		|| '/' || (SELECT count(*) FROM signatures s JOIN requests r ON s.request_id = r.id
		WHERE r.principal_id = '$1' AND r.idempotency_key = '$2')"
}

# ---- fast signing: a repeat gets the first answer
D1=$(rand_digest)
BODY1=$(sign_body id-ec "$D1" SHA-256 '{"metadata":{"build":"41"}}')
api "$ALICE" POST /v1/sign "$BODY1" -H 'Idempotency-Key: release-41'
assert_status 200 "alice signs with Idempotency-Key release-41"
R1=$(jget .request_id) S1=$(jget .signature_id) SIG1=$(jget .signature)
assert_ec_verifies "$E2E_TMP/id-ec.pem" "$D1" "$SIG1" "openssl verifies the first signature"

api "$ALICE" POST /v1/sign "$BODY1" -H 'Idempotency-Key: release-41'
assert_status 200 "alice repeats the same body with the same key"
assert_json .request_id "$R1" "the repeat answers the same request_id"
assert_json .signature_id "$S1" "the repeat answers the same signature_id"
assert_json .signature "$SIG1" "the repeat answers the same signature bytes (no new signing)"
assert_json .status SIGNED "the repeat says SIGNED"
assert_eq "$(count_key "$ALICE_ID" release-41)" "1/1" "store: one request and one signature record for alice's release-41"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM signatures")" 1 "store: the repeat stored no second signature anywhere"

# ---- another body under the same key: 409, nothing stored
D2=$(rand_digest)
api "$ALICE" POST /v1/sign "$(sign_body id-ec "$D2" SHA-256 '{"metadata":{"build":"41"}}')" -H 'Idempotency-Key: release-41'
assert_error 409 CONFLICT "alice reuses release-41 with another digest"
assert_contains "$(jget .error.message)" "different request body" "the 409 says the body differs"
api "$ALICE" POST /v1/sign "$(sign_body id-ec "$D1" SHA-256 '{"metadata":{"build":"42"}}')" -H 'Idempotency-Key: release-41'
assert_error 409 CONFLICT "alice reuses release-41 with other metadata"
api "$ALICE" POST /v1/sign "$(sign_body id-ec "$D1" SHA-256 '{"metadata":{"build":"41"},"async":true}')" \
	-H 'Idempotency-Key: release-41'
assert_error 409 CONFLICT "alice reuses release-41 with async added"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM requests")/$(sql "$DATA" "SELECT count(*) FROM signatures")" "1/1" \
	"store: the refused reuses stored no request and no signature"
api "$ALICE" GET "/v1/requests/$R1"
assert_json .signature_id "$S1" "the original request still names the first signature"

# ---- keys are per principal
api "$BOB" POST /v1/sign "$BODY1" -H 'Idempotency-Key: release-41'
assert_status 200 "bob sends alice's body with alice's key release-41"
R_BOB=$(jget .request_id) S_BOB=$(jget .signature_id)
assert_ne "$R_BOB" "$R1" "bob gets his own request, not alice's"
assert_ne "$S_BOB" "$S1" "bob gets his own signature record"
api "$BOB" GET "/v1/requests/$R_BOB"
assert_json .submitted_by "$BOB_ID" "bob's request is submitted_by bob"
api "$BOB" POST /v1/sign "$BODY1" -H 'Idempotency-Key: release-41'
assert_json .request_id "$R_BOB" "bob's repeat answers bob's request"
assert_eq "$(count_key "$BOB_ID" release-41)/$(count_key "$ALICE_ID" release-41)" "1/1/1/1" \
	"store: release-41 has one request and one record for each principal"

# ---- async: the repeat answers 202 with the same request while queued, then 200 with its signature
D3=$(rand_digest)
BODY3=$(sign_body id-ec "$D3" SHA-256 '{"async":true}')
api "$ALICE" POST /v1/sign "$BODY3" -H 'Idempotency-Key: nightly-7'
assert_status 202 "alice submits async with Idempotency-Key nightly-7"
R3=$(jget .request_id)
api "$ALICE" POST /v1/sign "$BODY3" -H 'Idempotency-Key: nightly-7'
if [ "$STATUS" = 202 ]; then
	assert_json .request_id "$R3" "an immediate async repeat answers 202 with the same request_id"
else
	assert_json .request_id "$R3" "an immediate async repeat (already signed, $STATUS) answers the same request_id"
fi
assert_request_reaches "$ALICE" "$R3" SIGNED "the async request nightly-7"
S3=$(jget .signature_id) SIG3=$(jget .signature)
assert_ec_verifies "$E2E_TMP/id-ec.pem" "$D3" "$SIG3" "openssl verifies the async signature"
api "$ALICE" POST /v1/sign "$BODY3" -H 'Idempotency-Key: nightly-7'
assert_status 200 "a repeat after the worker signed answers 200"
assert_json .request_id "$R3" "... with the same request_id"
assert_json .signature_id "$S3" "... and the signature_id the request has"
assert_json .signature "$SIG3" "... and the same signature bytes"
assert_eq "$(count_key "$ALICE_ID" nightly-7)" "1/1" "store: one request and one signature record for nightly-7"

# ---- 20 identical requests at the same moment: one request, one record
# twins NAME BODY: 20 parallel POSTs of BODY with Idempotency-Key NAME (one curl process)
twins() {
	local name=$1 body=$2 cfg="$E2E_TMP/twins.$1.cfg" i
	printf '%s' "$body" >"$E2E_TMP/twins.$1.body"
	: >"$cfg"
	for ((i = 0; i < 20; i++)); do
		[ "$i" -gt 0 ] && echo next >>"$cfg"
		printf '%s\n' "url = \"$BASE_URL/v1/sign\"" "header = \"Authorization: Bearer $ALICE\"" \
			'header = "Content-Type: application/json"' "header = \"Idempotency-Key: $name\"" \
			"data-binary = \"@$E2E_TMP/twins.$1.body\"" "output = \"$E2E_TMP/twins.$1.$i.json\"" \
			"write-out = \"%{http_code}\\n\"" >>"$cfg"
	done
	curl -s --parallel --parallel-max 20 --max-time 60 -K "$cfg" >"$E2E_TMP/twins.$1.codes" 2>/dev/null
}
D4=$(rand_digest)
twins burst-fast "$(sign_body id-ec "$D4" SHA-256)"
assert_eq "$(sort -u "$E2E_TMP/twins.burst-fast.codes" | tr '\n' ' ')" "200 " "20 simultaneous fast twins all answer 200"
assert_eq "$(jq -r '.request_id + " " + .signature_id' "$E2E_TMP"/twins.burst-fast.*.json | sort -u | wc -l)" 1 \
	"20 simultaneous fast twins all get one request_id and one signature_id"
assert_eq "$(count_key "$ALICE_ID" burst-fast)" "1/1" "store: one request and one signature record for the fast burst"

D5=$(rand_digest)
twins burst-async "$(sign_body id-ec "$D5" SHA-256 '{"async":true}')"
assert_eq "$(grep -cv '^20[02]$' "$E2E_TMP/twins.burst-async.codes")" 0 "20 simultaneous async twins all answer 202 (or 200)"
assert_eq "$(jq -r .request_id "$E2E_TMP"/twins.burst-async.*.json | sort -u | wc -l)" 1 \
	"20 simultaneous async twins all get one request_id"
R5=$(jq -r .request_id "$E2E_TMP/twins.burst-async.0.json")
assert_request_reaches "$ALICE" "$R5" SIGNED "the async burst's request"
assert_eq "$(count_key "$ALICE_ID" burst-async)" "1/1" "store: one request and one signature record for the async burst"

# ---- a refused request does not use its key up
api "$ALICE" POST /v1/sign "$(sign_body id-ec "$D1" SHA-1)" -H 'Idempotency-Key: fixed-later'
assert_error 400 UNSUPPORTED_HASH_ALGORITHM "a SHA-1 request with key fixed-later is refused"
api "$ALICE" POST /v1/sign "$(sign_body id-ec "$D2" SHA-256)" -H 'Idempotency-Key: fixed-later'
assert_status 200 "the corrected request with the same key fixed-later is signed, not 409"
assert_eq "$(count_key "$ALICE_ID" fixed-later)" "1/1" "store: fixed-later stored only the corrected request"

# ---- bad keys
api "$ALICE" POST /v1/sign "$(sign_body id-ec "$D2" SHA-256)" -H 'Idempotency-Key;'
assert_error 400 INVALID_ARGUMENT "an empty Idempotency-Key"
LONG=$(printf 'k%.0s' $(seq 256))
api "$ALICE" POST /v1/sign "$(sign_body id-ec "$D2" SHA-256)" -H "Idempotency-Key: $LONG"
assert_error 400 INVALID_ARGUMENT "a 256-character Idempotency-Key"
api "$ALICE" POST /v1/sign "$(sign_body id-ec "$D2" SHA-256)" -H "Idempotency-Key: ${LONG:1}"
assert_status 200 "a 255-character Idempotency-Key is accepted"
NREQ=$(sql "$DATA" "SELECT count(*) FROM requests")
api "$ALICE" POST /v1/sign "$(sign_body id-ec "$D2" SHA-256)" -H "$(printf 'Idempotency-Key: caf\xc3\xa9-\xff')"
assert_error 400 INVALID_ARGUMENT "an Idempotency-Key with bytes outside printable ASCII (same answer on either store)"
assert_contains "$(jget .error.message)" "printable ASCII" "the 400 says why"
assert_eq "$(sql "$DATA" "SELECT count(*) FROM requests")" "$NREQ" "store: the refused key stored nothing"

# A User-Agent with bytes that are not UTF-8 is kept as printable ASCII ('?'),
# so the same request is signed on either store (PostgreSQL refuses bad UTF-8).
D3=$(rand_digest)
api "$ALICE" POST /v1/sign "$(sign_body id-ec "$D3" SHA-256)" -H "$(printf 'User-Agent: build\xff\xfe/1')"
assert_status 200 "a request with a User-Agent that is not UTF-8 is signed"
assert_ec_verifies "$E2E_TMP/id-ec.pem" "$D3" "$(jget .signature)" "openssl verifies that signature"
api "$ALICE" GET "/v1/signatures/$(jget .signature_id)"
assert_json .client_type 'build??/1' "its record's client_type has '?' for the bytes outside printable ASCII"

# Without the header nothing is deduplicated: the same body twice is two requests.
api "$ALICE" POST /v1/sign "$BODY1"
RA=$(jget .request_id)
api "$ALICE" POST /v1/sign "$BODY1"
assert_ne "$(jget .request_id)" "$RA" "without Idempotency-Key the same body makes a new request"

e2e_finish
