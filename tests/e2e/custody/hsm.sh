# shellcheck shell=bash
#
# hsm.sh - helpers for the custody tests: a SoftHSM2 token of the test's
# own, signetd started against it, and the token's objects as pkcs11-tool
# (OpenSC, not Signet) lists them.  Sourced after ../lib.sh.
#
# Needs: softhsm2-util (softhsm2), pkcs11-tool (opensc) and the SoftHSM2
# module.  A missing tool fails the test with a message (exit 2), as lib.sh
# does for curl/jq/openssl: these tests must not vanish silently.

HSM_MODULE=${SIGNET_TEST_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

for tool in softhsm2-util pkcs11-tool; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$E2E_NAME: '$tool' is required (apt-get install -y softhsm2 opensc)" >&2
		exit 2
	fi
done
if [ ! -r "$HSM_MODULE" ]; then
	echo "$E2E_NAME: the SoftHSM2 module $HSM_MODULE is missing (apt-get install -y softhsm2)" >&2
	exit 2
fi

HSM_DIR=""
HSM_LABEL=""
HSM_PIN=""
HSM_PIN_FILE=""

# hsm_init LABEL: a fresh token in $E2E_TMP/hsm with a random user PIN
# (HSM_PIN, also in HSM_PIN_FILE, mode 0600) and SO PIN.  Exports
# SOFTHSM2_CONF, which signetd and pkcs11-tool inherit.
hsm_init() {
	HSM_LABEL=$1
	HSM_DIR=$E2E_TMP/hsm
	mkdir -p "$HSM_DIR/tokens"
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$HSM_DIR" >"$HSM_DIR/softhsm2.conf"
	export SOFTHSM2_CONF=$HSM_DIR/softhsm2.conf
	# Distinctive, so a grep of the logs cannot match by accident.
	HSM_PIN="pin$RANDOM${RANDOM}x$RANDOM"
	HSM_PIN_FILE=$HSM_DIR/user.pin
	(umask 077 && printf '%s\n' "$HSM_PIN" >"$HSM_PIN_FILE")
	softhsm2-util --init-token --free --label "$HSM_LABEL" --pin "$HSM_PIN" \
		--so-pin "so$RANDOM$RANDOM" >"$HSM_DIR/init.log" 2>&1
}

# start_hsm_server DATA-DIR [VAR=VALUE...]: signetd with the token, the PIN
# from the file (pass SIGNET_PKCS11_PIN=... and SIGNET_PKCS11_PIN_FILE= to
# use the environment instead).
start_hsm_server() {
	local data=$1
	shift
	start_server "$data" SIGNET_PKCS11_MODULE="$HSM_MODULE" SIGNET_PKCS11_TOKEN="$HSM_LABEL" \
		SIGNET_PKCS11_PIN_FILE="$HSM_PIN_FILE" "$@"
}

# hsm_objects: one line per object in the token, "CLASS|LABEL|ACCESS",
# CLASS being Private, Public, ... as pkcs11-tool names it.  Logged in, so
# private objects are listed too.  Fails when pkcs11-tool fails.
hsm_objects() {
	local out
	out=$(pkcs11-tool --module "$HSM_MODULE" --token-label "$HSM_LABEL" --login --pin "$HSM_PIN" \
		--list-objects 2>"$HSM_DIR/pkcs11-tool.err") || return 1
	awk '
		/^[A-Z][A-Za-z ]*[Oo]bject/ {
			if (n++) print cls "|" lbl "|" acc
			cls = $1; lbl = ""; acc = ""; next
		}
		/^ +label:/ { sub(/^ +label: +/, ""); lbl = $0; next }
		/^ +Access:/ { sub(/^ +Access: +/, ""); acc = $0; next }
		END { if (n) print cls "|" lbl "|" acc }
	' <<<"$out"
}

# hsm_pub_fingerprint LABEL: SHA-256 of the SPKI DER of the token's public
# key object with that label, as pkcs11-tool exports it (RSA and EC; this
# OpenSC cannot export EdDSA keys, see hsm_ec_point).
hsm_pub_fingerprint() {
	local f=$HSM_DIR/pub.$RANDOM.der
	pkcs11-tool --module "$HSM_MODULE" --token-label "$HSM_LABEL" --read-object --type pubkey \
		--label "$1" -o "$f" >/dev/null 2>&1 || { echo "pkcs11-tool-failed"; return; }
	openssl pkey -pubin -inform DER -in "$f" -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -d' ' -f1
}

# hsm_ec_point LABEL: the hex CKA_EC_POINT of the public key object with
# that label (a DER OCTET STRING around the point).
hsm_ec_point() {
	pkcs11-tool --module "$HSM_MODULE" --token-label "$HSM_LABEL" --list-objects --type pubkey 2>/dev/null |
		awk -v l="$1" '
			/^[A-Z]/ { pt = "" }
			/^ +EC_POINT:/ { pt = $2 }
			/^ +label:/ { sub(/^ +label: +/, ""); if ($0 == l) { print pt; exit } }'
}

# hsm_count [CLASS] [LABEL-PREFIX]: how many objects (of CLASS, whose
# label starts with LABEL-PREFIX) the token holds; "error" if it cannot say.
hsm_count() {
	local cls=${1:-} pfx=${2:-} list
	list=$(hsm_objects) || { echo error; return; }
	awk -F'|' -v c="$cls" -v p="$pfx" '
		(c == "" || $1 == c) && (p == "" || index($2, p) == 1) { n++ }
		END { print n + 0 }' <<<"$list"
}

# The PIN must appear in no output of any signetd of this run (stderr is
# the log, stdout carries the bootstrap key on a first start).
check_pin_not_logged() {
	local f hits=""
	[ -n "$HSM_PIN" ] || return 0
	for f in "$E2E_TMP"/signetd.*.log "$E2E_TMP"/signetd.*.out; do
		[ -f "$f" ] || continue
		if grep -qF -- "$HSM_PIN" "$f"; then
			hits+=" $(basename "$f")"
		fi
	done
	if [ -z "$hits" ]; then
		ok "the token PIN appears in no signetd stderr/stdout of this run"
	else
		fail "the token PIN must never be logged" "found in:$hits"
	fi
}

# sign_req API-KEY KEY-ID HASH DIGEST-FILE [EXTRA-JSON]: POST /v1/sign of a
# binary digest; sets STATUS/RESP (lib.sh api), SIG_B64, SIG_ID, SIG_VERSION.
sign_req() {
	api "$1" POST /v1/sign "$(sign_body "$2" "$(b64 "$4")" "$3" "${5:-{\}}")"
	SIG_B64="" SIG_ID="" SIG_VERSION=""
	if [ "$STATUS" = 200 ]; then
		jfield signature SIG_B64
		jfield signature_id SIG_ID
		jfield key_version SIG_VERSION
	fi
}

# spki_ec_point PEM POINT-BYTES: the CKA_EC_POINT a token should hold for
# this EC or Ed25519 public key: DER OCTET STRING around the last
# POINT-BYTES bytes of the SPKI (the key in its BIT STRING).
spki_ec_point() {
	local hex len=$2 pt
	hex=$(openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | to_hex)
	pt=${hex: -$((len * 2))}
	if [ "$len" -lt 128 ]; then
		printf '04%02x%s\n' "$len" "$pt"
	else
		printf '0481%02x%s\n' "$len" "$pt"
	fi
}

# hex_to_b64: each input line of hex becomes a line of standard base64
# (one awk for many values, instead of a base64 process per value).
hex_to_b64() {
	awk 'BEGIN {
		a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		for (i = 0; i < 16; i++) h[substr("0123456789abcdef", i + 1, 1)] = i
	}
	{
		n = length($0) / 2; out = ""
		for (i = 0; i < n; i++) b[i] = h[substr($0, 2 * i + 1, 1)] * 16 + h[substr($0, 2 * i + 2, 1)]
		for (i = 0; i < n; i += 3) {
			v = b[i] * 65536 + (i + 1 < n ? b[i + 1] * 256 : 0) + (i + 2 < n ? b[i + 2] : 0)
			out = out substr(a, int(v / 262144) % 64 + 1, 1) substr(a, int(v / 4096) % 64 + 1, 1)
			out = out (i + 1 < n ? substr(a, int(v / 64) % 64 + 1, 1) : "=")
			out = out (i + 2 < n ? substr(a, v % 64 + 1, 1) : "=")
		}
		print out
	}'
}

# b64_write BASE64 FILE: decode standard base64 into FILE in bash alone
# (printf %b), for loops where a base64 process per value costs too much.
B64_ALPHABET=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
declare -A B64_VAL
for ((_i = 0; _i < 64; _i++)); do B64_VAL[${B64_ALPHABET:_i:1}]=$_i; done
b64_write() {
	local s=${1%%=*} esc="" x i k v n ch
	n=${#s}
	for ((i = 0; i < n; i += 4)); do
		v=0
		for ((k = 0; k < 4; k++)); do
			ch=${s:i+k:1}
			v=$(((v << 6) | ${B64_VAL[${ch:-A}]:-0}))
		done
		printf -v x '\\x%02x' $(((v >> 16) & 255))
		esc+=$x
		if ((i + 2 < n)); then printf -v x '\\x%02x' $(((v >> 8) & 255)); esc+=$x; fi
		if ((i + 3 < n)); then printf -v x '\\x%02x' $((v & 255)); esc+=$x; fi
	done
	printf '%b' "$esc" >"$2"
}
