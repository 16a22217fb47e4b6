#!/usr/bin/env bash
#
# e2e_records.sh - the signature record (SPEC §1): who signed, from where,
# with what client, which digest, the signature itself and the metadata the
# client sent, readable by the signer, an auditor and an admin, and the
# signing request that produced it.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || exit 2

ADMIN_KEY="e2e-records-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
new_principal "$ADMIN_KEY" rec-signer '["signer"]'
SIGNER_KEY=$P_KEY
SIGNER_ID=$P_ID
new_principal "$ADMIN_KEY" rec-auditor '["auditor"]'
AUDITOR_KEY=$P_KEY
new_key "$ADMIN_KEY" rec-ec EC-P384
KID=$K_ID
require "export the key" fetch_pem "$KID" 1 "$E2E_TMP/pub.pem" "$SIGNER_KEY"

W=$E2E_TMP/work
mkdir -p "$W"
head -c 65536 /dev/urandom >"$W/release.tar"
digest_file SHA-384 "$W/release.tar" "$W/d.bin"
DIGEST=$(b64 "$W/d.bin")
# sent URL-safe and unpadded; the record must hold the same bytes
SENT=$(b64_urlsafe "$W/d.bin" | tr -d '=')
UA="e2e-records/1.0 (build-bot; +https://ci.example)"
META='{"build":"1234","branch":"main","nested":{"list":[1,2,3],"ok":true},"text":"Grüße, 世界 \"quoted\""}'
T0=$(date -u +%s)

api "$SIGNER_KEY" POST /v1/sign "$(jq -cn --arg k "$KID" --arg d "$SENT" --argjson m "$META" \
	'{key:$k,digest:$d,hash_algorithm:"SHA-384",metadata:$m}')" -A "$UA"
assert_status 200 "sign with metadata and a User-Agent"
SIG_ID=$(jget .signature_id)
REQ_ID=$(jget .request_id)
SIG_B64=$(jget .signature)
assert_match "$SIG_ID" '^[0-9a-f-]{36}$' "the answer names the signature record"
assert_match "$REQ_ID" '^[0-9a-f-]{36}$' "the answer names the signing request"
assert_ne "$SIG_ID" "$REQ_ID" "the record and the request have their own ids"
assert_match "$(jget .created_at)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}' "the answer has an ISO-8601 created_at"

api "$SIGNER_KEY" GET "/v1/signatures/$SIG_ID"
assert_status 200 "the signer reads the record"
REC=$RESP
assert_json .id "$SIG_ID" "record: id"
assert_json .request_id "$REQ_ID" "record: request_id"
assert_json .key_id "$KID" "record: key_id"
assert_json .key_version 1 "record: key_version"
assert_json .hash_algorithm SHA-384 "record: hash_algorithm"
assert_json .signature_algorithm ECDSA "record: signature_algorithm"
assert_json .created_by "$SIGNER_ID" "record: created_by is the signer principal's id"
assert_json .client_ip 127.0.0.1 "record: client_ip is 127.0.0.1"
assert_json .client_type "$UA" "record: client_type is the User-Agent sent"
assert_json .digest "$DIGEST" "record: digest holds the digest sent (URL-safe unpadded in, same bytes)"
assert_json .signature "$SIG_B64" "record: signature is the one returned"
assert_json "(.metadata == $META)" true "record: metadata is exactly what was sent (nested, unicode, quotes)"
assert_match "$(jget .tenant)" '^[0-9a-f-]{36}$' "record: tenant"
created=$(jget .created_at)
t=$(date -u -d "$created" +%s 2>/dev/null || echo 0)
if [ "$t" -ge $((T0 - 5)) ] && [ "$t" -le $(($(date -u +%s) + 5)) ]; then
	ok "record: created_at ($created) is the time of signing"
else
	fail "record: created_at ($created) is the time of signing" "test started at $(date -u -d "@$T0")"
fi

jq -r .signature <<<"$REC" | base64 -d >"$W/rec.sig"
assert_ok "openssl verifies the signature from the record over the file" \
	openssl dgst -sha384 -verify "$E2E_TMP/pub.pem" -signature "$W/rec.sig" "$W/release.tar"

api "$AUDITOR_KEY" GET "/v1/signatures/$SIG_ID"
assert_status 200 "an auditor reads the record"
assert_eq "$RESP" "$REC" "the auditor sees the same record"
api "$ADMIN_KEY" GET "/v1/signatures/$SIG_ID"
assert_status 200 "an admin reads the record"
assert_eq "$RESP" "$REC" "the admin sees the same record"

api "$SIGNER_KEY" GET "/v1/requests/$REQ_ID"
assert_status 200 "the signer reads the signing request"
assert_json .status SIGNED "request: status SIGNED"
assert_json .signature_id "$SIG_ID" "request: signature_id"
assert_json .submitted_by "$SIGNER_ID" "request: submitted_by is the signer"
assert_json .digest "$DIGEST" "request: digest"
assert_json "(.metadata == $META)" true "request: metadata kept on the request too"
assert_json .signature "$SIG_B64" "request: carries the signature once SIGNED"

# a second signature without metadata and with another client
api "$SIGNER_KEY" POST /v1/sign "$(sign_body "$KID" "$DIGEST" SHA-384)" -A "other-client/2"
assert_status 200 "sign again without metadata"
SIG2=$(jget .signature_id)
assert_ne "$SIG2" "$SIG_ID" "a second signature gets a new record"
api "$SIGNER_KEY" GET "/v1/signatures/$SIG2"
assert_json .client_type other-client/2 "the second record has the second User-Agent"
assert_json '.metadata | (. == null or . == {})' true "a record without metadata has none"
api "$AUDITOR_KEY" GET "/v1/requests?limit=1000"
assert_status 200 "an auditor lists the requests"
assert_json "[.requests[].id] | (index(\"$REQ_ID\") != null)" true "the request list holds the first request"
assert_json '.requests | length' 2 "the request list holds exactly the two requests"

e2e_finish
