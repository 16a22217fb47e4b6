#!/usr/bin/env bash
#
# edge_secrets.sh - secrets given in the environment leave it (SPEC §8):
# SIGNET_PKCS11_PIN and SIGNET_BOOTSTRAP_API_KEY are not readable in
# /proc/<pid>/environ of a running signetd (their bytes are overwritten, not
# only unset), and the bootstrap key still works.  A generated bootstrap key
# is printed on stdout only when stdout is a terminal (a pty made by
# python3 here); sent to a file it is not printed, and it is always in
# bootstrap-admin.key.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2
command -v python3 >/dev/null || { echo "$E2E_NAME: python3 is required" >&2; exit 2; }

ADMIN_KEY="e2e-secrets-admin-$RANDOM$RANDOM$RANDOM"
PIN="e2e-pin-$RANDOM$RANDOM$RANDOM"
remember_secret "$ADMIN_KEY"
remember_secret "$PIN"
require "signetd starts" start_server "$E2E_TMP/data" SIGNET_BOOTSTRAP_API_KEY="$ADMIN_KEY" \
	SIGNET_PKCS11_PIN="$PIN"
ENVIRON=$(tr '\0' '\n' <"/proc/$SERVER_PID/environ")
assert_ok "/proc/<pid>/environ is readable and holds the other variables" grep -q '^SIGNET_LOG_LEVEL=debug$' <<<"$ENVIRON"
assert_not_contains "$ENVIRON" "$PIN" "the PKCS#11 PIN is not in /proc/<pid>/environ"
assert_not_contains "$ENVIRON" "$ADMIN_KEY" "the bootstrap API key is not in /proc/<pid>/environ"
# The raw bytes too (the values were overwritten where the kernel shows them).
assert_eq "$(grep -caF -- "${PIN:8}" "/proc/$SERVER_PID/environ")" 0 "no part of the PIN is left in the raw environ"
api "$ADMIN_KEY" GET /v1/principals
assert_status 200 "the bootstrap key from the (now wiped) environment works"
stop_server

# ---- the generated bootstrap key: stdout a file
require "signetd starts on an empty data directory, stdout to a file" start_server "$E2E_TMP/data2" \
	SIGNET_BOOTSTRAP_API_KEY=
BOOT=$(tr -d ' \n\r\t' <"$E2E_TMP/data2/bootstrap-admin.key")
remember_secret "$BOOT"
assert_ok "bootstrap-admin.key holds a key" [ -n "$BOOT" ]
assert_eq "$(grep -cF -- "$BOOT" "$SERVER_OUT")" 0 "the key is not printed to a stdout that is a file"
api "$BOOT" GET /v1/principals
assert_status 200 "the key in bootstrap-admin.key works"
stop_server

# ---- stdout a terminal: printed once
TTY_OUT="$E2E_TMP/tty.out"
python3 - "$SIGNETD" "$E2E_TMP/data3" "$E2E_TMP/tty.log" >"$TTY_OUT" 2>&1 <<'PY'
import os, pty, re, select, signal, sys, time
signetd, data, log = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    err = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(err, 2)
    env = dict(os.environ)
    env.pop("SIGNET_BOOTSTRAP_API_KEY", None)
    os.execve(signetd, [signetd, "--listen", "127.0.0.1:0", "--data-dir", data], env)
out = b""
end = time.time() + 30
# The heading line and the key line reach the terminal as two writes (stdout is
# line-buffered there): wait for the key line itself, not just the heading's end.
while time.time() < end and not re.search(rb"\):\r?\n[^\r\n]+\r?\n", out):
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            out += os.read(fd, 4096)
        except OSError:
            break
os.kill(pid, signal.SIGTERM)
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
PY
TTY_KEY=$(tr -d ' \n\r\t' <"$E2E_TMP/data3/bootstrap-admin.key" 2>/dev/null)
remember_secret "$TTY_KEY"
assert_ok "a key was generated in data3/bootstrap-admin.key" [ -n "$TTY_KEY" ]
assert_eq "$(grep -cF -- "$TTY_KEY" "$TTY_OUT")" 1 "the key is printed once when stdout is a terminal"
assert_eq "$(grep -cF -- "$TTY_KEY" "$E2E_TMP/tty.log")" 0 "... and not in the log"
SERVER_LOGS+=("$E2E_TMP/tty.log")
e2e_finish
