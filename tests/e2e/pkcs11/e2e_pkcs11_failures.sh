#!/usr/bin/env bash
#
# e2e_pkcs11_failures.sh - the module's login semantics and failure modes
# (SPEC §5, "Login" and "Failure"), driven through p11_drive, a small
# PKCS#11 application that keeps one module loaded across commands:
#  - without credentials the token requires login, shows nothing before it,
#    refuses a wrong API key as the PIN with CKR_PIN_INCORRECT and signs
#    after C_Login with the right one;
#  - an OFFLINE key fails at C_Sign with CKR_KEY_FUNCTION_NOT_PERMITTED and
#    the same process signs again once the key is ONLINE;
#  - a refused connection fails at once; a server that accepts and never
#    answers is abandoned after SIGNET_PKCS11_TIMEOUT with CKR_DEVICE_ERROR;
#  - sessions in several threads sign at the same time.
# Every signature is verified with the openssl CLI.

. "$(dirname "${BASH_SOURCE[0]}")/p11_lib.sh" || exit 2
p11_need python3 python3
if [ -z "${P11_DRIVE:-}" ] || [ ! -x "$P11_DRIVE" ]; then
	echo "$E2E_NAME: set P11_DRIVE to the p11_drive binary" >&2
	exit 2
fi

p11_start
p11_key ec EC-P256
head -c 3000 /dev/urandom >"$W/data.bin"
openssl dgst -sha256 -binary "$W/data.bin" >"$W/d.bin"
DIGEST=$(to_hex "$W/d.bin")

# drive_start [VAR=VALUE...]: p11_drive under these settings as a coprocess.
drive_start() {
	coproc DRIVE { env "$@" "$P11_DRIVE" "$P11_LIB" 2>"$W/drive.err"; }
	DRIVE_IN=${DRIVE[1]}
	DRIVE_OUT=${DRIVE[0]}
	local ready=""
	read -r -t 20 ready <&"$DRIVE_OUT" || true
	require "p11_drive loads the module (got '$ready', $(cat "$W/drive.err"))" [ "$ready" = ready ]
}
# drive COMMAND: send one command, REPLY = the answer line, SECS = seconds taken.
drive() {
	local t0 t1
	t0=$(date +%s%N)
	printf '%s\n' "$1" >&"$DRIVE_IN"
	REPLY=""
	read -r -t 120 REPLY <&"$DRIVE_OUT" || true
	t1=$(date +%s%N)
	SECS=$(((t1 - t0) / 1000000000))
}
# drive_stop: end p11_drive (C_Finalize); it must exit 0 with nothing from
# the sanitizers (leaks, memory errors) in a sanitizer build.
drive_stop() {
	local rc=0
	exec {DRIVE_IN}>&-
	wait "$DRIVE_PID" 2>/dev/null || rc=$?
	assert_eq "$rc" 0 "p11_drive finalizes the module and exits 0"
	assert_not_contains "$(cat "$W/drive.err")" "Sanitizer" "no sanitizer report from p11_drive"
}
# verify_sig HEX DESCRIPTION: the P1363 ECDSA signature verifies under the ec key.
verify_sig() {
	local hex=$1 r s
	r=$(printf '%s' "${hex:0:64}" | sed 's/^\(00\)*//')
	s=$(printf '%s' "${hex:64:64}" | sed 's/^\(00\)*//')
	# DER SEQUENCE { INTEGER r, INTEGER s } from r||s with openssl asn1parse's generator.
	printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "${r:-0}" "${s:-0}" >"$W/sig.cnf"
	openssl asn1parse -genconf "$W/sig.cnf" -out "$W/sig.der" >/dev/null
	assert_ok "$2: verified by openssl" openssl pkeyutl -verify -pubin -inkey "$W/ec.pub.pem" \
		-in "$W/d.bin" -sigfile "$W/sig.der"
}

# ---------------------------------------------------------------- login

drive_start SIGNET_URL="$BASE_URL"
drive flags
flags=${REPLY#CKR_OK 0x}
assert_eq "$(((16#$flags & 0x4) != 0))" 1 "without credentials the token sets CKF_LOGIN_REQUIRED"
drive keys
assert_eq "$REPLY" "CKR_OK 0" "nothing is found before login"
drive "login wrong-$SIGNER_KEY"
assert_eq "$REPLY" CKR_PIN_INCORRECT "C_Login with a wrong API key -> CKR_PIN_INCORRECT"
drive keys
assert_eq "$REPLY" "CKR_OK 0" "still nothing is found after the failed login"
before=$(p11_request_count)
drive "login $SIGNER_KEY"
assert_eq "$REPLY" CKR_OK "C_Login(CKU_USER, <api key>) authenticates"
drive "login $SIGNER_KEY"
assert_eq "$REPLY" CKR_USER_ALREADY_LOGGED_IN "a second C_Login says the user is logged in"
drive keys
assert_eq "$REPLY" "CKR_OK 1" "after login the signer's key is found"
drive "sign ec $DIGEST"
assert_match "$REPLY" "^CKR_OK [0-9a-f]{128}$" "C_Sign after login returns 64 bytes (P-256 r||s)"
verify_sig "${REPLY#CKR_OK }" "the signature made after C_Login"
drive_stop
assert_eq "$(p11_request_count)" "$((before + 1))" "the failed login signed nothing; the good one signed once"

# ---------------------------------------------------------------- OFFLINE and back

drive_start SIGNET_URL="$BASE_URL" SIGNET_API_KEY="$SIGNER_KEY"
drive flags
flags=${REPLY#CKR_OK 0x}
assert_eq "$(((16#$flags & 0x4) != 0))" 0 "with an API key configured the token does not set CKF_LOGIN_REQUIRED"
drive "sign ec $DIGEST"
assert_match "$REPLY" "^CKR_OK " "the ONLINE key signs without C_Login"
api "$ADMIN_KEY" PATCH /v1/keys/ec '{"status":"OFFLINE"}'
assert_status 200 "take the key OFFLINE"
drive "sign ec $DIGEST"
assert_eq "$REPLY" "CKR_KEY_FUNCTION_NOT_PERMITTED" "C_Sign with an OFFLINE key -> CKR_KEY_FUNCTION_NOT_PERMITTED"
api "$ADMIN_KEY" PATCH /v1/keys/ec '{"status":"ONLINE"}'
assert_status 200 "bring the key ONLINE again"
drive "sign ec $DIGEST"
assert_match "$REPLY" "^CKR_OK [0-9a-f]{128}$" "the same process signs again once the key is ONLINE"
verify_sig "${REPLY#CKR_OK }" "the signature after recovery"
drive "threads 8 ec $DIGEST"
assert_eq "$REPLY" "ok 32" "8 threads with a session each sign 4 times at once: 32 signatures"
drive_stop

# ---------------------------------------------------------------- unreachable services

# A port nobody listens on: bind one, note it, close it.
DEAD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
drive_start SIGNET_URL="http://127.0.0.1:$DEAD_PORT" SIGNET_API_KEY="$SIGNER_KEY"
drive "sign ec $DIGEST"
assert_eq "$REPLY" "CKR_DEVICE_ERROR" "a refused connection -> CKR_DEVICE_ERROR"
assert_eq "$((SECS <= 2))" 1 "a refused connection fails at once (${SECS} s)"
drive_stop

# A server that accepts connections and never answers.
cat >"$W/mute.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
PY
python3 "$W/mute.py" >"$W/mute.port" 2>/dev/null &
MUTE_PID=$!
MUTE_PORT=""
for ((i = 0; i < 100; i++)); do
	{ read -r MUTE_PORT <"$W/mute.port"; } 2>/dev/null || true
	[ -n "$MUTE_PORT" ] && break
	sleep 0.1
done
require "the silent server listens" [ -n "$MUTE_PORT" ]
drive_start SIGNET_URL="http://127.0.0.1:$MUTE_PORT" SIGNET_API_KEY="$SIGNER_KEY" SIGNET_PKCS11_TIMEOUT=2
drive "sign ec $DIGEST"
assert_eq "$REPLY" "CKR_DEVICE_ERROR" "a server that never answers -> CKR_DEVICE_ERROR"
assert_eq "$((SECS >= 1 && SECS <= 6))" 1 "it is abandoned after the 2 s timeout, not before and never hanging (${SECS} s)"
drive_stop
kill "$MUTE_PID" 2>/dev/null
wait "$MUTE_PID" 2>/dev/null

# ---------------------------------------------------------------- configuration errors

# cfg_error DESCRIPTION EXPECTED-TEXT VAR=VALUE...: C_Initialize fails and says why.
cfg_error() {
	local desc=$1 want=$2 out
	shift 2
	out=$(env "$@" "$P11_DRIVE" "$P11_LIB" 2>&1)
	assert_contains "$out" "init 0x5" "$desc: C_Initialize fails with CKR_GENERAL_ERROR"
	assert_not_contains "$out" "Sanitizer" "$desc: no sanitizer report"
	assert_match "$out" "signet-pkcs11: .*$want" "$desc: stderr says '$want'"
}
cfg_error "no SIGNET_URL" "no service URL" SIGNET_API_KEY="$SIGNER_KEY"
cfg_error "SIGNET_URL without a scheme" "SIGNET_URL must start with http:// or https://" \
	SIGNET_URL="127.0.0.1:1"
cfg_error "a timeout that is not a number" "SIGNET_PKCS11_TIMEOUT must be a whole number" \
	SIGNET_URL="$BASE_URL" SIGNET_PKCS11_TIMEOUT=soon
cfg_error "an unknown key type" "unknown key type 'dsa'" SIGNET_URL="$BASE_URL" SIGNET_PKCS11_KEY_TYPES=rsa,dsa
cfg_error "a client certificate without its key" "SIGNET_CLIENT_CERT and SIGNET_CLIENT_KEY go together" \
	SIGNET_URL="$BASE_URL" SIGNET_CLIENT_CERT=/nonexistent.pem
printf '# signet\nSIGNET_URL=%s\nSIGNET_APIKEY=typo\n' "$BASE_URL" >"$W/typo.conf"
cfg_error "a configuration file with an unknown key" "typo\\.conf:3: unknown key 'SIGNET_APIKEY'" \
	SIGNET_PKCS11_CONFIG="$W/typo.conf"
cfg_error "a configuration file that does not exist" "cannot read SIGNET_PKCS11_CONFIG file" \
	SIGNET_PKCS11_CONFIG="$W/missing.conf"

p11_records_check 0 "p11_drive"

e2e_finish
