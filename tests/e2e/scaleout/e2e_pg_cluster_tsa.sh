#!/usr/bin/env bash
#
# e2e_pg_cluster_tsa.sh - time stamps from three nodes on one PostgreSQL
# (SPEC §6: "TSA serials come from one database sequence without per-node
# caching: unique, and increasing in the order requests are served"; the TSA
# key is sealed in the database, so every node stamps with the same
# certificate; no private key in clear in a data directory or the database).
#
# 30 RFC 3161 queries, one after the other, round robin over the nodes: each
# reply's serial is larger than the one before, and openssl ts -verify
# accepts every reply with the one certificate.  60 queries at once over
# the three nodes: 60 distinct serials, all above the sequential ones.
# A signature with timestamp:true on each node carries a token from the same
# TSA.  pg_dump of the database and the data directories hold no PEM
# private key.

. "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh" || exit 2

T0=$(ms_now)
require "PostgreSQL and three signetd nodes start" cluster_up 3
W=$E2E_TMP/tsa
mkdir -p "$W"

shopt -s extglob
# hexnorm SERIAL: "0x00AB" -> "AB" (upper case, no leading zeros)
hexnorm() {
	local a=${1#0x}
	a=${a^^}
	a=${a##+(0)}
	echo "${a:-0}"
}
# hex_gt A B: A > B for hex numbers of any length
hex_gt() {
	local a b
	a=$(hexnorm "$1") b=$(hexnorm "$2")
	if [ "${#a}" -ne "${#b}" ]; then
		[ "${#a}" -gt "${#b}" ]
	else
		[[ "$a" > "$b" ]]
	fi
}
# reply_serial REPLY-FILE [-token_in]
reply_serial() {
	openssl ts -reply -in "$1" ${2:-} -text 2>/dev/null | sed -n 's/^Serial number: //p' | head -n1
}

# ---- one certificate on every node
for n in 1 2 3; do
	code=$(curl -s -o "$W/cert.$n.pem" -w '%{http_code}' "${NODE_URL[n]}/tsa/certificate")
	assert_eq "$code" 200 "node $n: GET /tsa/certificate -> 200"
done
FP1=$(openssl x509 -in "$W/cert.1.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
for n in 2 3; do
	assert_eq "$(openssl x509 -in "$W/cert.$n.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)" "$FP1" \
		"node $n stamps with node 1's TSA certificate"
done
CERT=$W/cert.1.pem

# ---- sequential queries, round robin: serials increase in the order served
openssl rand -out "$W/file.bin" 4096
bad_verify=0 not_increasing=0 prev=""
declare -A SEEN=()
dups=0
for ((k = 0; k < 30; k++)); do
	n=$((k % 3 + 1))
	openssl ts -query -data "$W/file.bin" -sha256 -cert -out "$W/s$k.tsq" 2>/dev/null
	code=$(curl -s -o "$W/s$k.tsr" -w '%{http_code}' -H 'Content-Type: application/timestamp-query' \
		--data-binary "@$W/s$k.tsq" "${NODE_URL[n]}/tsa")
	s=$(reply_serial "$W/s$k.tsr")
	if [ "$code" != 200 ] || [ -z "$s" ]; then
		bad_verify=$((bad_verify + 1))
		echo "# query $k on node $n: HTTP $code, serial '$s'"
		continue
	fi
	if ! openssl ts -verify -in "$W/s$k.tsr" -queryfile "$W/s$k.tsq" -CAfile "$CERT" >/dev/null 2>&1; then
		bad_verify=$((bad_verify + 1))
		echo "# query $k on node $n: openssl ts -verify fails"
	fi
	if [ -n "$prev" ] && ! hex_gt "$s" "$prev"; then
		not_increasing=$((not_increasing + 1))
		echo "# query $k on node $n: serial $s after $prev"
	fi
	[ -n "${SEEN[$(hexnorm "$s")]:-}" ] && dups=$((dups + 1))
	SEEN[$(hexnorm "$s")]=1
	prev=$s
done
assert_eq "$bad_verify" 0 "30 queries round robin over 3 nodes: all granted, openssl ts -verify OK with the one certificate"
assert_eq "$not_increasing" 0 "... each serial larger than the one served before it, whatever the node"
assert_eq "$dups" 0 "... no serial twice"
LAST_SEQ=$prev

# ---- concurrent queries on the three nodes
cfg=$W/par.cfg
: >"$cfg"
for ((k = 0; k < 60; k++)); do
	n=$((k % 3 + 1))
	openssl ts -query -data "$W/file.bin" -sha256 -cert -out "$W/p$k.tsq" 2>/dev/null
	[ -s "$cfg" ] && echo next >>"$cfg"
	printf '%s\n' "url = \"${NODE_URL[n]}/tsa\"" 'header = "Content-Type: application/timestamp-query"' \
		"data-binary = \"@$W/p$k.tsq\"" "output = \"$W/p$k.tsr\"" 'max-time = 30' "write-out = \"%{http_code} $k\\n\"" >>"$cfg"
done
curl -s --parallel --parallel-immediate --parallel-max 30 --max-time 30 -K "$cfg" >"$W/par.codes" 2>"$W/curl.err"
assert_eq "$(awk '$1 == 200' "$W/par.codes" | wc -l)" 60 "60 concurrent queries over the 3 nodes: all HTTP 200"
: >"$W/par.serials"
bad_verify=0 below=0
for ((k = 0; k < 60; k++)); do
	s=$(reply_serial "$W/p$k.tsr")
	hexnorm "${s:-none}" >>"$W/par.serials"
	openssl ts -verify -in "$W/p$k.tsr" -queryfile "$W/p$k.tsq" -CAfile "$CERT" >/dev/null 2>&1 ||
		bad_verify=$((bad_verify + 1))
	[ -n "$s" ] && ! hex_gt "$s" "$LAST_SEQ" && below=$((below + 1))
done
assert_eq "$(sort -u "$W/par.serials" | grep -vc NONE)" 60 "... 60 distinct serials"
assert_eq "$bad_verify" 0 "... openssl ts -verify accepts all 60 with the one certificate"
assert_eq "$below" 0 "... all above the serials served before them"

# ---- timestamp: true on each node
on 1
new_key "$ADMIN_KEY" ts-ec EC-P256
new_principal "$ADMIN_KEY" ts-signer '["signer"]'
SIGNER=$P_KEY
prev=$LAST_SEQ
for n in 1 2 3; do
	on "$n"
	api "$SIGNER" POST /v1/sign "$(sign_body ts-ec "$(rand_digest)" SHA-256 '{"timestamp":true}')"
	assert_status 200 "node $n: sign with timestamp: true"
	jget .timestamp_token | base64 -d >"$W/tok.$n.der" 2>/dev/null
	jget .signature | base64 -d >"$W/sig.$n.bin" 2>/dev/null
	assert_eq "$(openssl ts -verify -in "$W/tok.$n.der" -token_in -data "$W/sig.$n.bin" -CAfile "$CERT" 2>&1 | tail -n1)" \
		"Verification: OK" "node $n: its signature's token verifies with the one TSA certificate"
	s=$(reply_serial "$W/tok.$n.der" -token_in)
	if [ -n "$s" ] && hex_gt "$s" "$prev"; then
		ok "node $n: the token's serial $s continues the sequence"
	else
		fail "node $n: the token's serial continues the sequence" "got '$s' after $prev"
	fi
	prev=${s:-$prev}
done

# ---- no private key in clear: not in the data directories, not in the database
assert_eq "$(grep -rl 'PRIVATE KEY' "${NODE_DATA[1]}" "${NODE_DATA[2]}" "${NODE_DATA[3]}" 2>/dev/null | wc -l)" 0 \
	"no data directory holds a PEM private key"
for n in 1 2 3; do
	assert_fails "node $n: no tsa.key in its data directory" test -e "${NODE_DATA[n]}/tsa.key"
done
if command -v pg_dump >/dev/null 2>&1; then
	PGCONNECT_TIMEOUT=5 pg_dump "$PG_URL" >"$W/dump.sql" 2>"$W/dump.err"
	require "pg_dump of the database works" [ -s "$W/dump.sql" ]
	assert_eq "$(grep -c 'PRIVATE KEY' "$W/dump.sql")" 0 "pg_dump of the database shows no PEM private key"
	rm -f "$W/dump.sql"
else
	skip "pg_dump is not installed: the database was not searched for a clear private key"
fi

check_no_url_password
echo "# total $(($(ms_now) - T0)) ms"
e2e_finish
