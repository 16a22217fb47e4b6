#!/usr/bin/env bash
#
# e2e_ops.sh - the operations endpoints need no credentials and say what
# they should: /healthz, /readyz, /v1/openapi.json.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || exit 2

ADMIN_KEY="e2e-ops-admin-$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"

api "" GET /healthz
assert_status 200 "/healthz without credentials"
assert_json .status ok "/healthz says ok"
assert_contains "$RESP_CT" application/json "/healthz is JSON"

api "" GET /readyz
assert_status 200 "/readyz without credentials"
assert_json .status ready "/readyz says ready"

api "" GET /v1/openapi.json
assert_status 200 "/v1/openapi.json without credentials"
assert_contains "$RESP_CT" application/json "/v1/openapi.json is served as JSON"
if jq -e . >/dev/null 2>&1 <<<"$RESP"; then
	ok "/v1/openapi.json parses as JSON"
else
	fail "/v1/openapi.json parses as JSON" "${RESP:0:300}"
fi
assert_match "$(jget .openapi)" '^3\.[0-9]+' "/v1/openapi.json has an 'openapi' 3.x version field"
assert_json '.paths | has("/v1/sign") and has("/v1/verify") and has("/v1/keys")' true \
	"the OpenAPI document describes /v1/sign, /v1/verify and /v1/keys"

# the same endpoints with a bad credential still answer: they ignore credentials
api "not-a-key" GET /healthz
assert_status 200 "/healthz ignores a bad credential"

# and the data endpoints next to them do not leak without credentials
api "" GET /v1/keys
assert_error 401 UNAUTHENTICATED "/v1/keys without credentials"

e2e_finish
