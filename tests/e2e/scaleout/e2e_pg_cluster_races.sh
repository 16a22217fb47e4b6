#!/usr/bin/env bash
#
# e2e_pg_cluster_races.sh - concurrent votes and concurrent idempotent
# duplicates on three nodes of one PostgreSQL, then the audit chain (SPEC §6).
#
# Votes: a policy needs 2 approvals.  For each of 8 requests, three
# approvers each vote on all three nodes at the same moment and the
# submitter (who holds the approver role too) tries to approve on all three:
# exactly 2 votes are accepted, from 2 different approvers; every other
# approval is 409 (a second vote by the same approver, or any vote after
# quorum); the submitter's are never accepted (403 while the request is
# pending, 409 once it is not); the request is signed once (one signature
# row).  The submitter's self-approvals alone, 6 at once on 3 nodes before
# any vote, are all 403 and record nothing.  For 4 more requests one approver rejects while two
# approve, all at once on different nodes: the outcome is consistent
# (either the rejection won and at most one approval came before it, or
# both approvals came first and the rejection is 409).
#
# Idempotency: for 8 keys (sync) and 4 keys (async), 6 copies of the same
# body with the same Idempotency-Key go to the three nodes at once: all 2xx,
# never 409 or 5xx, one request_id per key, the 200s carry one signature;
# PostgreSQL holds one request per key.  The same key with another body is
# 409 on every node.
#
# Names: one principal name created 6 times at once on 3 nodes gives one 201
# and five 409s (three rounds).  Rotation: a key rotated 6 times at once on 3
# nodes answers 200 or 409 (rotated concurrently), each 200 a version of its
# own, and the newest version signs.
#
# Audit: after all that, GET /v1/audit/verify is valid on every node with
# the same count; after an UPDATE of one audit row in PostgreSQL it is
# invalid on every node; with the row restored, valid again.

. "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh" || exit 2

T0=$(ms_now)
require "PostgreSQL and three signetd nodes start" cluster_up 3
on 1
new_key "$ADMIN_KEY" ra-ec EC-P256
require "export the ra-ec public key" fetch_pem ra-ec 1 "$E2E_TMP/ra-ec.pem"
PEM=$E2E_TMP/ra-ec.pem
new_principal "$ADMIN_KEY" ra-submitter '["signer","approver"]'
SUBMITTER=$P_KEY
declare -A APPR=()
for a in A B C; do
	new_principal "$ADMIN_KEY" "ra-approver-$a" '["approver"]'
	APPR[$a]=$P_KEY
done
api "$ADMIN_KEY" POST /v1/policies '{"project":"ra","slug":"two","key":"ra-ec","approvals_required":2}'
assert_status 201 "create policy ra/two (2 approvals, approvers by role)"
REQT=$(pg_table '%request%' id status)
SIGT=$(pg_table '%signature%' request_id)
require "PostgreSQL has the tables SPEC §6 names (got '$REQT', '$SIGT')" [ -n "$REQT" ] && [ -n "$SIGT" ]
W=$E2E_TMP/races
mkdir -p "$W"

# submit NODE: a request under ra/two by the submitter; sets REQ and DIG
submit() {
	on "$1"
	DIG=$(rand_digest)
	api "$SUBMITTER" POST /v1/sign "$(jq -cn --arg d "$DIG" '{policy:"ra/two",digest:$d,hash_algorithm:"SHA-256"}')"
	require "submit under ra/two on node $1: got $STATUS $RESP" [ "$STATUS" = 202 ]
	REQ=$(jget .request_id)
}

# vote_cfg CFG WHO API-KEY NODE REQ approve|reject TAG: one transfer of a curl config
vote_cfg() {
	local cfg=$1 who=$2 key=$3 node=$4 req=$5 what=$6 tag=$7
	[ -s "$cfg" ] && echo next >>"$cfg"
	printf '%s\n' \
		"url = \"${NODE_URL[node]}/v1/approvals/$req/$what\"" \
		'request = "POST"' \
		"header = \"Authorization: Bearer $key\"" \
		'header = "Content-Type: application/json"' \
		"data-raw = \"{\\\"comment\\\":\\\"race $who on node $node\\\"}\"" \
		"output = \"$W/$tag.json\"" 'max-time = 30' \
		"write-out = \"%{http_code} $tag $who $node\\n\"" >>"$cfg"
}

# code_of TAG: error.code of an answer file ("-" when it has none)
code_of() {
	jq -r '.error.code // "-"' "$W/$1.json" 2>/dev/null || echo "-"
}

# ---- racing approvals
RACE_REQS=()
for ((r = 0; r < 8; r++)); do
	submit $((r % 3 + 1))
	RACE_REQS+=("$REQ $DIG")
done
bad_quorum=0 bad_distinct=0 bad_others=0 bad_self=0 self403=0
for ((r = 0; r < 8; r++)); do
	read -r req dig <<<"${RACE_REQS[r]}"
	cfg=$W/votes.$r.cfg
	: >"$cfg"
	for n in 1 2 3; do
		for a in A B C; do
			vote_cfg "$cfg" "$a" "${APPR[$a]}" "$n" "$req" approve "v$r-$a-$n"
		done
		vote_cfg "$cfg" S "$SUBMITTER" "$n" "$req" approve "v$r-S-$n"
	done
	curl -s --parallel --parallel-immediate --parallel-max 12 --max-time 30 -K "$cfg" >"$W/votes.$r.codes" 2>"$W/curl.err"
	ok200=$(awk '$1 == 200 && $3 != "S"' "$W/votes.$r.codes" | wc -l)
	who200=$(awk '$1 == 200 && $3 != "S" { print $3 }' "$W/votes.$r.codes" | sort -u | wc -l)
	[ "$ok200" = 2 ] || { bad_quorum=$((bad_quorum + 1)); echo "# request $r: $ok200 approvals accepted"; cat "$W/votes.$r.codes"; }
	[ "$who200" = 2 ] || bad_distinct=$((bad_distinct + 1))
	while read -r code tag who node; do
		if [ "$who" = S ]; then
			# Before quorum the submitter's vote is 403; once the request
			# is no longer pending, "any vote after quorum" (409) applies too.
			case "$code $(code_of "$tag")" in
			"403 PERMISSION_DENIED") self403=$((self403 + 1)) ;;
			"409 FAILED_PRECONDITION") ;;
			*)
				bad_self=$((bad_self + 1))
				echo "# $tag (submitter on node $node): $code $(cat "$W/$tag.json")"
				;;
			esac
		elif [ "$code" != 200 ]; then
			case "$code $(code_of "$tag")" in
			"409 CONFLICT" | "409 FAILED_PRECONDITION") ;;
			*)
				bad_others=$((bad_others + 1))
				echo "# $tag (approver $who on node $node): $code $(cat "$W/$tag.json")"
				;;
			esac
		fi
	done <"$W/votes.$r.codes"
done
assert_eq "$bad_quorum" 0 "8 requests x 9 concurrent approvals on 3 nodes: exactly 2 accepted each"
assert_eq "$bad_distinct" 0 "... and the 2 accepted come from 2 different approvers (each approver counted once)"
assert_eq "$bad_others" 0 "... every other approval is 409 (second vote by the same approver, or after quorum)"
assert_eq "$bad_self" 0 "... the submitter's concurrent self-approvals are never accepted (403, or 409 once the request left PENDING_APPROVAL)"
echo "# $self403 of the 24 self-approvals were 403, the others came after quorum"

# self-approvals alone, on all three nodes at once, before any vote: all 403
submit 2
cfg=$W/self.cfg
: >"$cfg"
for n in 1 2 3 1 2 3; do
	vote_cfg "$cfg" S "$SUBMITTER" "$n" "$REQ" approve "self-$n-$RANDOM"
done
curl -s --parallel --parallel-immediate --parallel-max 6 --max-time 30 -K "$cfg" >"$W/self.codes" 2>"$W/curl.err"
bad=0
while read -r code tag _; do
	[ "$code $(code_of "$tag")" = "403 PERMISSION_DENIED" ] || bad=$((bad + 1))
done <"$W/self.codes"
assert_eq "$(grep -c . "$W/self.codes")/$bad" "6/0" "6 concurrent self-approvals on 3 nodes of a pending request: all 403 PERMISSION_DENIED"
api "${APPR[A]}" GET "/v1/approvals/$REQ"
assert_json '"\(.status) \(.approvals) \(.votes | length)"' "PENDING_APPROVAL 0 0" "... and the request is still pending with no vote"

bad_votes=0 bad_signed=0 bad_sig=0
for ((r = 0; r < 8; r++)); do
	read -r req dig <<<"${RACE_REQS[r]}"
	on $((r % 3 + 1))
	api "${APPR[A]}" GET "/v1/approvals/$req"
	[ "$(jget '"\(.approvals) \(.votes | length)"')" = "2 2" ] || {
		bad_votes=$((bad_votes + 1))
		echo "# request $r: $RESP"
	}
	if wait_request "$SUBMITTER" "$req" SIGNED 30; then
		ec_verify "$PEM" "$dig" "$(jget .signature)" || bad_sig=$((bad_sig + 1))
	else
		bad_signed=$((bad_signed + 1))
	fi
	[ "$(psqlq "SELECT count(*) FROM $SIGT WHERE request_id = '$req'")" = 1 ] || bad_signed=$((bad_signed + 1))
done
assert_eq "$bad_votes" 0 "every raced request records 2 approvals and 2 votes"
assert_eq "$bad_signed" 0 "every raced request is SIGNED with exactly one signature row in PostgreSQL"
assert_eq "$bad_sig" 0 "openssl verifies the signatures of the raced requests"

# ---- a rejection racing two approvals
bad_rej=0
for ((r = 0; r < 4; r++)); do
	submit $((r % 3 + 1))
	cfg=$W/rej.$r.cfg
	: >"$cfg"
	vote_cfg "$cfg" A "${APPR[A]}" $(((r + 0) % 3 + 1)) "$REQ" reject "x$r-A"
	vote_cfg "$cfg" B "${APPR[B]}" $(((r + 1) % 3 + 1)) "$REQ" approve "x$r-B"
	vote_cfg "$cfg" C "${APPR[C]}" $(((r + 2) % 3 + 1)) "$REQ" approve "x$r-C"
	curl -s --parallel --parallel-immediate --parallel-max 3 --max-time 30 -K "$cfg" >"$W/rej.$r.codes" 2>"$W/curl.err"
	rej=$(awk '$3 == "A" { print $1 }' "$W/rej.$r.codes")
	apprs=$(awk '$3 != "A" && $1 == 200' "$W/rej.$r.codes" | wc -l)
	refused=$(awk '$1 != 200' "$W/rej.$r.codes" | while read -r c t _; do echo "$c $(code_of "$t")"; done |
		grep -cvE '^409 (CONFLICT|FAILED_PRECONDITION)$')
	api "${APPR[A]}" GET "/v1/approvals/$REQ"
	st=$(jget .status)
	if [ "$rej" = 200 ] && [ "$apprs" -le 1 ] && [ "$st" = REJECTED ] && [ "$refused" = 0 ]; then
		outcome="rejected, $apprs approval(s) first"
	elif [ "$rej" = 409 ] && [ "$apprs" = 2 ] && [ "$st" != REJECTED ] && [ "$refused" = 0 ]; then
		outcome="approved, rejection refused"
	else
		outcome="INCONSISTENT"
		bad_rej=$((bad_rej + 1))
		cat "$W/rej.$r.codes"
		echo "# $RESP"
	fi
	echo "# rejection race $r: $outcome (status $st)"
done
assert_eq "$bad_rej" 0 "4 rejections racing 2 approvals on different nodes: each outcome consistent (the losers get 409)"
assert_eq "$(psqlq "SELECT count(*) FROM $SIGT s JOIN $REQT r ON r.id = s.request_id WHERE r.status <> 'SIGNED'")" 0 \
	"PostgreSQL: no request other than a SIGNED one has a signature row"
assert_eq "$(psqlq "SELECT count(*) FROM $REQT r WHERE r.status = 'SIGNED'
	AND (SELECT count(*) FROM $SIGT s WHERE s.request_id = r.id) <> 1")" 0 \
	"PostgreSQL: every SIGNED request has exactly one signature row"

# ---- racing idempotent duplicates
on 1
new_principal "$ADMIN_KEY" ra-idem '["signer"]'
IDEM=$P_KEY
BEFORE=$(psqlq "SELECT count(*) FROM $REQT")
declare -A IBODY=()
bad_codes=0 bad_ids=0 bad_sigs=0
for mode in sync async; do
	if [ "$mode" = sync ]; then K=8; else K=4; fi
	cfg=$W/idem.$mode.cfg
	: >"$cfg"
	for ((k = 0; k < K; k++)); do
		key="idem-$mode-$k-$RANDOM"
		extra='{}'
		[ "$mode" = async ] && extra='{"async":true}'
		body=$(sign_body ra-ec "$(rand_digest)" SHA-256 "$extra")
		IBODY[$mode.$k]="$key $body"
		for ((c = 0; c < 6; c++)); do
			n=$((c % 3 + 1))
			[ -s "$cfg" ] && echo next >>"$cfg"
			printf '%s\n' \
				"url = \"${NODE_URL[n]}/v1/sign\"" \
				"header = \"Authorization: Bearer $IDEM\"" \
				'header = "Content-Type: application/json"' \
				"header = \"Idempotency-Key: $key\"" \
				"data-raw = \"${body//\"/\\\"}\"" \
				"output = \"$W/i-$mode-$k-$c.json\"" 'max-time = 30' \
				"write-out = \"%{http_code} $mode $k $c\\n\"" >>"$cfg"
		done
	done
	curl -s --parallel --parallel-immediate --parallel-max 48 --max-time 30 -K "$cfg" >"$W/idem.$mode.codes" 2>"$W/curl.err"
	bad_codes=$((bad_codes + $(awk '$1 != 200 && $1 != 202' "$W/idem.$mode.codes" | tee -a "$W/idem.bad" | wc -l)))
	for ((k = 0; k < K; k++)); do
		ids=$(cat "$W/i-$mode-$k-"*.json | jq -r '.request_id // "none"' | sort -u)
		[ "$(grep -c . <<<"$ids")" = 1 ] && [ "$ids" != none ] || {
			bad_ids=$((bad_ids + 1))
			echo "# $mode key $k: request ids: $(tr '\n' ' ' <<<"$ids")"
		}
		sigs=$(cat "$W/i-$mode-$k-"*.json | jq -r 'select(.signature != null) | .signature' | sort -u | grep -c .)
		[ "$sigs" -le 1 ] || bad_sigs=$((bad_sigs + 1))
	done
done
[ -s "$W/idem.bad" ] && sed 's/^/# /' "$W/idem.bad" | head -n 10
assert_eq "$bad_codes" 0 "72 concurrent duplicates (12 Idempotency-Keys x 6, on 3 nodes): all 200 or 202, never 409 or 5xx"
assert_eq "$bad_ids" 0 "... each Idempotency-Key gets one request_id on every node"
assert_eq "$bad_sigs" 0 "... the answers that carry a signature carry the same one"
assert_eq "$(psqlq "SELECT count(*) FROM $REQT")" $((BEFORE + 12)) "PostgreSQL: one request per Idempotency-Key (12 new requests)"
for n in 1 2 3; do
	on "$n"
	read -r key body <<<"${IBODY[sync.0]}"
	api "$IDEM" POST /v1/sign "$(sign_body ra-ec "$(rand_digest)" SHA-256)" -H "Idempotency-Key: $key"
	assert_error 409 CONFLICT "node $n: the same Idempotency-Key with another body"
done
assert_eq "$(psqlq "SELECT count(*) FROM $REQT")" $((BEFORE + 12)) "PostgreSQL: the refused bodies stored nothing"
for ((k = 0; k < 4; k++)); do
	id=$(jq -r .request_id "$W/i-async-$k-0.json")
	assert_request_reaches "$IDEM" "$id" SIGNED "the async idempotent request $k"
	assert_eq "$(psqlq "SELECT count(*) FROM $SIGT WHERE request_id = '$id'")" 1 "... with one signature row"
done

# ---- the same name created on three nodes at once; a key rotated on three nodes at once
# par_post TAG PATH BODY-OR-EMPTY COPIES-PER-NODE: POST to every node at once
# (as the admin); the codes go to $W/TAG.codes ("code node copy")
par_post() {
	local tag=$1 path=$2 body=$3 copies=$4 cfg=$W/$1.cfg n c
	: >"$cfg"
	for ((c = 0; c < copies; c++)); do
		for n in 1 2 3; do
			[ -s "$cfg" ] && echo next >>"$cfg"
			printf '%s\n' "url = \"${NODE_URL[n]}$path\"" 'request = "POST"' \
				"header = \"Authorization: Bearer $ADMIN_KEY\"" 'header = "Content-Type: application/json"' \
				"output = \"$W/$tag.$n.$c.json\"" 'max-time = 30' \
				"write-out = \"%{http_code} $n $c\\n\"" >>"$cfg"
			[ -n "$body" ] && printf '%s\n' "data-raw = \"${body//\"/\\\"}\"" >>"$cfg"
		done
	done
	curl -s --parallel --parallel-immediate --parallel-max 24 -K "$cfg" >"$W/$tag.codes" 2>"$W/curl.err"
}
for round in 1 2 3; do
	par_post "pname$round" /v1/principals "{\"name\":\"ra-same-$round\",\"roles\":[\"auditor\"]}" 2
	assert_eq "$(awk '{ print $1 }' "$W/pname$round.codes" | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" "201:1 409:5 " \
		"round $round: one principal name created 6 times at once on 3 nodes: one 201, five 409"
done
on 2
api "$ADMIN_KEY" GET /v1/principals
assert_json '[.principals[] | select(.name | startswith("ra-same-"))] | length' 3 "each name exists once"
on 1
new_key "$ADMIN_KEY" ra-rot EC-P256
par_post rot /v1/keys/ra-rot/rotate "" 2
ok_rot=$(awk '$1 == 200' "$W/rot.codes" | wc -l)
other_rot=$(awk '$1 != 200 && $1 != 409' "$W/rot.codes" | wc -l)
versions=$(cat "$W"/rot.*.json | jq -r 'select(.current_version != null) | .current_version' | sort -n | tr '\n' ' ')
echo "# 6 concurrent rotations: $ok_rot answered 200 (current_version: $versions)"
assert_eq "$other_rot" 0 "6 rotations of one key at once on 3 nodes: each answers 200 or 409 (rotated concurrently)"
assert_eq "$(tr ' ' '\n' <<<"$versions" | grep -c . )/$(tr ' ' '\n' <<<"$versions" | grep . | sort -u | wc -l)" "$ok_rot/$ok_rot" \
	"... every accepted rotation made a version of its own"
on 3
api "$ADMIN_KEY" GET /v1/keys/ra-rot
assert_json '"\(.current_version) \(.versions | length) \([.versions[].version] | unique | length)"' \
	"$((ok_rot + 1)) $((ok_rot + 1)) $((ok_rot + 1))" "the key has 1 + $ok_rot distinct versions, the last one current"
D=$(rand_digest)
api "$IDEM" POST /v1/sign "$(sign_body ra-rot "$D" SHA-256)"
assert_json .key_version "$((ok_rot + 1))" "node 3 signs with the newest version"
SIG=$(jget .signature)
require "export ra-rot's newest version" fetch_pem ra-rot "$((ok_rot + 1))" "$W/ra-rot.pem"
assert_ec_verifies "$W/ra-rot.pem" "$D" "$SIG" "openssl verifies it with that version's public key"

# ---- the audit chain after the concurrent work, on every node
CHECKED=""
for n in 1 2 3; do
	on "$n"
	api "$ADMIN_KEY" GET /v1/audit/verify
	assert_json .valid true "node $n: GET /v1/audit/verify is valid after the concurrent work"
	c=$(jget .checked)
	[ -n "$CHECKED" ] && assert_eq "$c" "$CHECKED" "node $n checks the same $CHECKED entries"
	CHECKED=$c
done

# ---- tampering with one row in PostgreSQL
AUDT=$(psqlq "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()
	AND table_name LIKE '%audit%' AND column_name LIKE '%prev%' AND table_name IN (SELECT table_name
	FROM information_schema.columns WHERE column_name LIKE '%tenant%') ORDER BY length(table_name) LIMIT 1")
require "PostgreSQL has an %audit% table with a previous-hash column and a tenant column (SPEC §6)" [ -n "$AUDT" ]
ACOL=$(pg_column "$AUDT" action)
require "the audit table $AUDT has an action column" [ -n "$ACOL" ]
CTID=$(psqlq "SELECT ctid FROM $AUDT WHERE action = 'principal.created' ORDER BY ctid DESC LIMIT 1")
require "an audit row to tamper with" [ -n "$CTID" ]
out=$(psqlq "SET session_replication_role = replica;
	UPDATE $AUDT SET action = 'principal.deleted' WHERE ctid = '$CTID' RETURNING ctid" 2>&1)
echo "# tampered: $out"
for n in 1 2 3; do
	on "$n"
	api "$ADMIN_KEY" GET /v1/audit/verify
	assert_json .valid false "node $n: after an UPDATE of one audit row in PostgreSQL, GET /v1/audit/verify is invalid"
	echo "#   first_bad_seq $(jget .first_bad_seq): $(jget .reason)"
done
NEWCTID=$(psqlq "SELECT ctid FROM $AUDT WHERE action = 'principal.deleted' LIMIT 1")
psqlq "SET session_replication_role = replica;
	UPDATE $AUDT SET action = 'principal.created' WHERE ctid = '$NEWCTID'" >/dev/null 2>&1
for n in 1 2 3; do
	on "$n"
	api "$ADMIN_KEY" GET /v1/audit/verify
	assert_json .valid true "node $n: with the row restored, the chain is valid again (the check sees the database)"
done

check_no_url_password
echo "# total $(($(ms_now) - T0)) ms"
e2e_finish
