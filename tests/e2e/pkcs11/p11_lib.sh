# shellcheck shell=bash
# shellcheck disable=SC2034  # variables set here are read by the scripts
#
# p11_lib.sh - shared set-up of the PKCS#11 module tests, on top of ../lib.sh:
# a real signetd with a signer principal, keys whose certificate chains are
# issued by a test CA made here with the openssl CLI (from the key's own CSR,
# POST /v1/keys/{id}/csr, uploaded with PUT .../certificate), and helpers
# that run a tool against libsignet-pkcs11.so and check that every
# signature it made is on record as the module's.
#
# Environment: SIGNET_PKCS11_LIB (path of libsignet-pkcs11.so) besides what
# lib.sh needs.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2

if [ -z "${SIGNET_PKCS11_LIB:-}" ] || [ ! -f "$SIGNET_PKCS11_LIB" ]; then
	echo "$E2E_NAME: set SIGNET_PKCS11_LIB to libsignet-pkcs11.so (got '${SIGNET_PKCS11_LIB:-}')" >&2
	exit 2
fi
P11_LIB=$SIGNET_PKCS11_LIB

# p11_need TOOL PACKAGE: the tool must be installed (scripts/install-deps.sh does it).
p11_need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "$E2E_NAME: '$1' is required (apt-get install -y $2, or make deps)" >&2
		exit 2
	fi
}

# Module settings stay out of the environment of the test itself; each
# tool run gets them explicitly through p11_env.
unset SIGNET_URL SIGNET_API_KEY SIGNET_CA_FILE SIGNET_CLIENT_CERT SIGNET_CLIENT_KEY \
	SIGNET_PKCS11_CONFIG SIGNET_PKCS11_ALIASES SIGNET_PKCS11_KEY_TYPES \
	SIGNET_PKCS11_REQUIRE_CERT SIGNET_PKCS11_TIMEOUT SIGNET_PKCS11_TOKEN_LABEL

W=$E2E_TMP/work
mkdir -p "$W"

# p11_start: signetd, an admin and a signer (ADMIN_KEY, SIGNER_KEY, SIGNER_ID).
p11_start() {
	ADMIN_KEY="e2e-admin-$RANDOM-$RANDOM-bootstrap"
	remember_secret "$ADMIN_KEY"
	require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY"
	new_principal "$ADMIN_KEY" p11-signer '["signer"]'
	SIGNER_KEY=$P_KEY
	SIGNER_ID=$P_ID
}

# In a sanitizer build (make sanitize) the module needs the ASan runtime,
# which the tools here were not built with: SIGNET_ASAN_RUNTIME (set by
# CMake then) is preloaded into every program that loads the module.  Leak
# checking stays with p11_drive, which is built with the sanitizers itself.
P11_TOOL_ENV=()
if [ -n "${SIGNET_ASAN_RUNTIME:-}" ]; then
	P11_TOOL_ENV=(LD_PRELOAD="$SIGNET_ASAN_RUNTIME"
		ASAN_OPTIONS=detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:abort_on_error=1
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)
fi

# p11_bare [VAR=VALUE...] -- COMMAND...: run COMMAND, which loads the module,
# with exactly these module settings.
p11_bare() {
	local settings=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		settings+=("$1")
		shift
	done
	shift
	env "${P11_TOOL_ENV[@]}" "${settings[@]}" "$@"
}

# p11_env [VAR=VALUE...] -- COMMAND...: p11_bare with the module configured
# for the signer (override or add settings before the --).
p11_env() {
	p11_bare SIGNET_URL="$BASE_URL" SIGNET_API_KEY="$SIGNER_KEY" "$@"
}

# p11_ca: a test root CA in $W/ca.{key,pem}.
p11_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj "/CN=Signet Test Root CA/O=Signet e2e" -keyout "$W/ca.key" -out "$W/ca.pem" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	cat >"$W/leaf.ext" <<-'EXT'
		basicConstraints=critical,CA:FALSE
		keyUsage=critical,digitalSignature
		extendedKeyUsage=codeSigning
		subjectKeyIdentifier=hash
		authorityKeyIdentifier=keyid
	EXT
}

# p11_key ALIAS ALGORITHM [cert]: create a key (K_ID, K_HEX = CKA_ID in hex,
# $W/ALIAS.pub.pem from the API); with "cert", a chain leaf + test CA
# issued from the key's CSR is attached to version 1 ($W/ALIAS.crt).
p11_key() {
	local alias=$1 alg=$2
	new_key "$ADMIN_KEY" "$alias" "$alg"
	K_HEX=${K_ID//-/}
	require "public key of $alias" fetch_pem "$alias" 1 "$W/$alias.pub.pem" "$SIGNER_KEY"
	if [ "${3:-}" = cert ]; then
		api "$ADMIN_KEY" POST "/v1/keys/$alias/csr" "$(jq -cn --arg s "CN=$alias code signing,O=Signet e2e" '{subject:$s}')"
		require "CSR for $alias: $STATUS $RESP" [ "$STATUS" = 200 ]
		jget .csr_pem >"$W/$alias.csr"
		require "the test CA issues $alias" openssl x509 -req -in "$W/$alias.csr" \
			-CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial -days 30 \
			-extfile "$W/leaf.ext" -out "$W/$alias.crt"
		cat "$W/$alias.crt" "$W/ca.pem" >"$W/$alias.chain.pem"
		jq -Rs '{certificate_chain_pem: .}' "$W/$alias.chain.pem" >"$W/$alias.chain.json"
		api "$ADMIN_KEY" PUT "/v1/keys/$alias/versions/1/certificate" "@$W/$alias.chain.json"
		require "upload the chain of $alias: $STATUS $RESP" [ "$STATUS" = 200 ]
	fi
}

# p11_records_check FROM-COUNT DESCRIPTION: every signature the signer made
# after the first FROM-COUNT requests is on record with the module's
# User-Agent as client_type; sets P11_RECORDS to the number of records.
p11_records_check() {
	local from=$1 desc=$2 id bad=0 n=0 ua
	api "$SIGNER_KEY" GET "/v1/requests?limit=1000"
	local ids
	ids=$(jget '[.requests[] | select(.status == "SIGNED")] | sort_by(.created_at) | .['"$from"':] | .[].signature_id')
	for id in $ids; do
		n=$((n + 1))
		api "$SIGNER_KEY" GET "/v1/signatures/$id"
		ua=$(jget .client_type)
		if ! [[ "$ua" =~ ^signet-pkcs11/[0-9]+\.[0-9]+\.[0-9]+\ \([A-Za-z]+\;\ [A-Za-z0-9_]+\)$ ]]; then
			bad=$((bad + 1))
			fail "$desc: record $id carries the module's User-Agent" "client_type: $ua"
		fi
	done
	P11_RECORDS=$n
	if [ "$bad" = 0 ] && [ "$n" -gt 0 ]; then
		ok "$desc: all $n signature records carry client_type signet-pkcs11/<version> (<os>; <arch>)"
	elif [ "$n" = 0 ]; then
		fail "$desc: signature records exist"
	fi
}

# p11_request_count: how many requests the signer has made so far.
p11_request_count() {
	api "$SIGNER_KEY" GET "/v1/requests?limit=1000"
	jget '[.requests[] | select(.status == "SIGNED")] | length'
}

# The OpenSSL pkcs11 engine from libengine-pkcs11-openssl (libp11).
P11_ENGINE=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so

# p11_engine_conf: an OpenSSL configuration in $W/engine.cnf that loads the
# pkcs11 engine with this module; use it as OPENSSL_CONF.
p11_engine_conf() {
	if [ ! -f "$P11_ENGINE" ]; then
		echo "$E2E_NAME: the OpenSSL pkcs11 engine is missing (apt-get install -y libengine-pkcs11-openssl)" >&2
		exit 2
	fi
	cat >"$W/engine.cnf" <<-CNF
		openssl_conf = openssl_init
		[openssl_init]
		engines = engine_section
		[engine_section]
		pkcs11 = pkcs11_section
		[pkcs11_section]
		engine_id = pkcs11
		dynamic_path = $P11_ENGINE
		MODULE_PATH = $P11_LIB
		init = 0
	CNF
}
