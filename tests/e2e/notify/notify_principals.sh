#!/usr/bin/env bash
#
# notify_principals.sh - the principal fields default_policy and email.
#
# Checked: POST /v1/principals stores default_policy and email and shows
# them in its answer and in GET /v1/principals (null when unset); PATCH
# /v1/principals/{id} changes roles, default_policy and email, and null
# clears a field; the key-pair dialect's role names SSM_SIGNER and
# SSM_BUILD_ENGINEER are stored as signer (and the principal may sign);
# a default policy that is not project/slug, or names no policy of the
# tenant, and an implausible address (CR/LF, no '@', too long) are 400
# INVALID_ARGUMENT and change nothing; a signer may not PATCH; another
# tenant's principal is 404; and a database made by the previous schema
# (version 2) is migrated with its principals intact.

. "$(dirname "${BASH_SOURCE[0]}")/../workflow/wf_lib.sh" || exit 2

DATA=$E2E_TMP/data
require "signetd starts" wf_start "$DATA"
new_key "$ADMIN_KEY" rel-ec EC-P256
api "$ADMIN_KEY" POST /v1/policies '{"project":"app","slug":"release","key":"rel-ec"}'
require "create policy app/release" [ "$STATUS" = 201 ]
api "$ADMIN_KEY" POST /v1/policies '{"project":"app","slug":"nightly","key":"rel-ec"}'
require "create policy app/nightly" [ "$STATUS" = 201 ]

# ---- create with both fields
api "$ADMIN_KEY" POST /v1/principals '{"name":"ann","roles":["approver"],"default_policy":"app/release","email":"ann@example.org"}'
assert_status 201 "create a principal with default_policy and email"
ANN=$(jget .id)
remember_secret "$(jget .api_key)"
assert_json .default_policy app/release "the create answer shows default_policy"
assert_json .email ann@example.org "the create answer shows email"

api "$ADMIN_KEY" POST /v1/principals '{"name":"bob","roles":["signer"]}'
assert_status 201 "create a principal without the new fields"
BOB=$(jget .id) BOB_KEY=$(jget .api_key)
remember_secret "$BOB_KEY"
assert_json '.default_policy' null "default_policy is null when unset"
assert_json '.email' null "email is null when unset"

api "$ADMIN_KEY" GET /v1/principals
assert_status 200 "list principals"
assert_json "[.principals[] | select(.id == \"$ANN\") | .default_policy, .email] | join(\" \")" \
	"app/release ann@example.org" "GET /v1/principals shows default_policy and email"

# ---- SPEC §4 D2 role names
api "$ADMIN_KEY" POST /v1/principals '{"name":"ssm","roles":["SSM_SIGNER"]}'
assert_status 201 "create a principal with role SSM_SIGNER"
assert_json '.roles | join(",")' signer "SSM_SIGNER is stored as signer"
SSM_KEY=$(jget .api_key)
remember_secret "$SSM_KEY"
api "$ADMIN_KEY" POST /v1/principals '{"name":"ssm-be","roles":["SSM_BUILD_ENGINEER","auditor"]}'
assert_status 201 "create a principal with role SSM_BUILD_ENGINEER"
assert_json '.roles | sort | join(",")' auditor,signer "SSM_BUILD_ENGINEER is stored as signer"
remember_secret "$(jget .api_key)"
DIG=$(rand_digest)
api "$SSM_KEY" POST /v1/sign "$(sign_body rel-ec "$DIG" SHA-256)"
assert_status 200 "a principal created as SSM_SIGNER signs"

# ---- PATCH
api "$ADMIN_KEY" PATCH "/v1/principals/$BOB" '{"roles":["signer","approver"],"default_policy":"app/nightly","email":"bob@build.example.com"}'
assert_status 200 "PATCH roles, default_policy and email"
assert_json '.roles | sort | join(",")' approver,signer "PATCH changed the roles"
assert_json .default_policy app/nightly "PATCH set default_policy"
assert_json .email bob@build.example.com "PATCH set email"
api "$ADMIN_KEY" PATCH "/v1/principals/$BOB" '{"email":null}'
assert_status 200 "PATCH email null"
assert_json .email null "null clears email"
assert_json .default_policy app/nightly "a field not named stays"
api "$BOB_KEY" GET /v1/approvals
assert_status 200 "the role PATCH added (approver) takes effect"

# ---- bad input changes nothing
bad() {
	api "$ADMIN_KEY" "$1" "$2" "$3"
	assert_error 400 INVALID_ARGUMENT "$4"
}
bad POST /v1/principals '{"name":"c1","roles":["signer"],"default_policy":"release"}' "default_policy without a slash"
bad POST /v1/principals '{"name":"c2","roles":["signer"],"default_policy":"app/none"}' "default_policy naming no policy"
bad POST /v1/principals '{"name":"c3","roles":["signer"],"default_policy":"app/re lease"}' "default_policy with a space"
bad POST /v1/principals '{"name":"c4","roles":["signer"],"email":"no-at-sign"}' "email without @"
bad POST /v1/principals '{"name":"c5","roles":["signer"],"email":"a@b.c\r\nBcc: x@y.z"}' "email with CR/LF"
bad POST /v1/principals "$(jq -cn --arg e "$(printf 'a%.0s' {1..250})@x.org" '{name:"c6",roles:["signer"],email:$e}')" "email longer than 254"
bad POST /v1/principals '{"name":"c7","roles":["SSM_ADMIN"]}' "an unknown role name"
bad PATCH "/v1/principals/$BOB" '{"email":"two@@example.org"}' "PATCH with a bad email"
bad PATCH "/v1/principals/$BOB" '{}' "PATCH with nothing to change"
bad PATCH "/v1/principals/$BOB" '{"name":"renamed"}' "PATCH of an unknown field"
api "$ADMIN_KEY" GET /v1/principals
assert_json '[.principals[] | select(.name | test("^c[0-9]$"))] | length' 0 "no principal was created by the bad requests"
assert_json "[.principals[] | select(.id == \"$BOB\") | .default_policy, (.email // \"none\")] | join(\" \")" \
	"app/nightly none" "the bad PATCH changed nothing"

api "$BOB_KEY" PATCH "/v1/principals/$ANN" '{"email":"evil@example.org"}'
assert_error 403 PERMISSION_DENIED "a signer/approver may not PATCH principals"

# ---- tenancy
api "$ADMIN_KEY" POST /v1/tenants '{"name":"other"}'
require "create tenant other" [ "$STATUS" = 201 ]
new_principal "$ADMIN_KEY" other-admin '["admin"]' other
OTHER_ADMIN=$P_KEY
api "$OTHER_ADMIN" PATCH "/v1/principals/$ANN" '{"email":"x@example.org"}'
assert_error 404 NOT_FOUND "another tenant's principal is 404"
api "$OTHER_ADMIN" POST /v1/principals '{"name":"o1","roles":["signer"],"default_policy":"app/release"}'
assert_error 400 INVALID_ARGUMENT "a default policy of another tenant is not found"

# ---- migration from schema version 2
stop_server
require "signetd stopped" [ "$SERVER_EXIT" = 0 ]
OLD=$E2E_TMP/old
mkdir -m 700 "$OLD"
cp "$DATA/master.key" "$OLD/"
# Rebuild the database as schema 2 had it: the same tables, principals without the new columns.
sqlite3 "$DATA/signet.db" .dump | sed \
	-e 's/, *default_policy TEXT NOT NULL DEFAULT '"''"', *email TEXT NOT NULL DEFAULT '"''"'//' \
	-e "s/^INSERT INTO principals VALUES(\(.*\),'[^']*','[^']*');/INSERT INTO principals VALUES(\1);/" \
	-e 's/^PRAGMA user_version *= *3;//' >"$E2E_TMP/old.sql"
sqlite3 "$OLD/signet.db" <"$E2E_TMP/old.sql"
# Tables of later migrations (the notification outbox, the TSA key) did not exist in schema 2
# either, and the chain heads had their old name (audit_heads until migration 8).
sqlite3 "$OLD/signet.db" 'DROP TABLE IF EXISTS deliveries; DROP TABLE IF EXISTS notify_cursors;
	DROP TABLE IF EXISTS webhooks; DROP TABLE IF EXISTS tsa_key;
	ALTER TABLE chain_heads RENAME TO audit_heads; PRAGMA user_version = 2'
cols=$(sqlite3 "$OLD/signet.db" "SELECT group_concat(name) FROM pragma_table_info('principals')")
require "the rebuilt database has schema 2 principals ($cols)" [ "$cols" = "id,tenant_id,name,roles,created_at" ]
require "signetd starts on the schema-2 database" wf_start "$OLD"
assert_match "$(cat "$SERVER_LOG")" "schema migrated from version 2" "signetd migrates version 2"
api "$ADMIN_KEY" GET /v1/principals
assert_status 200 "list principals after the migration"
assert_json "[.principals[] | select(.id == \"$ANN\") | .name, (.email // \"none\")] | join(\" \")" \
	"ann none" "a principal survives the migration, with no email"
api "$ADMIN_KEY" PATCH "/v1/principals/$ANN" '{"email":"ann@example.org"}'
assert_status 200 "the migrated principal takes an email"

e2e_finish
