#!/usr/bin/env bash
#
# e2e_package.sh - the Debian package on a clean Debian 12 (issue 15, part 4).
#
# Builds signet_*.deb with packaging/build-deb.sh (incrementally, in
# PACKAGE_OUT), lints it with lintian, and makes a clean Debian 12 root with
# mmdebstrap --variant=minbase (the base tarball is cached in PACKAGE_OUT for
# a day).  Inside that root, through chroot: systemd is added (so the unit
# has a system manager to be checked against), `apt install ./signet_*.deb`
# pulls the dependencies, creates the user signet and /var/lib/signet, and
# `systemd-analyze verify` checks the installed unit.  Then signetd starts
# the way the unit starts it - user signet, /etc/signet/signetd.conf, data in
# /var/lib/signet - only on a free port instead of 8080; the packaged
# `signet` creates a key and a signer and signs a file, and openssl on the
# host verifies the signature.  Finally `apt remove` leaves only the conffile
# and `apt purge` removes that too, every packaged file is gone, and the
# signing keys in /var/lib/signet are kept.
#
# Needs root (chroot, mounts), mmdebstrap, lintian, network access to the
# Debian mirror (apt only).  Takes a few minutes: ctest label "package".

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" || exit 2

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
OUT=${PACKAGE_OUT:-$E2E_TMP/deb}
ROOT=$E2E_TMP/root
MOUNTS=()

require "running as root (chroot and mounts)" [ "$(id -u)" = 0 ]
for t in mmdebstrap lintian dpkg-deb chroot; do
	require "$t is installed (scripts/install-deps.sh)" command -v "$t"
done

umount_all() {
	local m
	for ((m = ${#MOUNTS[@]} - 1; m >= 0; m--)); do
		umount -l "${MOUNTS[m]}" 2>/dev/null
	done
	MOUNTS=()
}
# lib.sh's EXIT trap removes E2E_TMP: unmount first, and stop signetd in the root.
trap 'stop_server_quietly; umount_all; e2e_cleanup' EXIT

# ---- build and lint the package
DEB=$(JOBS=${JOBS:-2} nice bash "$SRC/packaging/build-deb.sh" "$OUT" 2>"$E2E_TMP/build-deb.err" | tail -n 1)
require "packaging/build-deb.sh builds the package: $(tail -n 5 "$E2E_TMP/build-deb.err")" [ -f "$DEB" ]
ok "built $(basename "$DEB")"
LINT=$(lintian --fail-on error,warning "$DEB" 2>&1 | grep -v 'running with root privileges')
assert_eq "$(printf '%s' "$LINT" | grep -c '^[EW]:')" 0 "lintian reports no error or warning ($LINT)"
CONTENTS=$(dpkg-deb -c "$DEB")
for f in ./usr/sbin/signetd ./usr/bin/signet ./lib/systemd/system/signetd.service \
	./etc/signet/signetd.conf ./usr/share/man/man8/signetd.8.gz ./usr/share/man/man1/signet.1.gz \
	"./usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/pkcs11/libsignet-pkcs11.so"; do
	assert_contains "$CONTENTS" "$f" "the package holds $f"
done
assert_eq "$(dpkg-deb -f "$DEB" Package)" signet "the package is called signet"
assert_contains "$(dpkg-deb -f "$DEB" Depends)" "libmicrohttpd12" "Depends come from dpkg-shlibdeps"
assert_eq "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles)" "/etc/signet/signetd.conf" \
	"/etc/signet/signetd.conf is a conffile"
for page in usr/share/man/man8/signetd.8.gz usr/share/man/man1/signet.1.gz; do
	dpkg-deb --fsys-tarfile "$DEB" | tar -xO "./$page" | gunzip >"$E2E_TMP/page"
	WARN=$(LC_ALL=C.UTF-8 MANROFFSEQ='' man --warnings -l "$E2E_TMP/page" 2>&1 >/dev/null)
	assert_eq "$WARN" "" "man renders $page without a warning"
done

# ---- a clean Debian 12 root
BASE=$OUT/bookworm-minbase.tar
if [ ! -s "$BASE" ] || [ -n "$(find "$BASE" -mmin +1440)" ]; then
	require "mmdebstrap makes a minimal Debian 12 root" \
		nice mmdebstrap --quiet --variant=minbase --mode=root --format=tar bookworm "$BASE.new"
	mv "$BASE.new" "$BASE"
fi
mkdir -p "$ROOT"
require "unpack the Debian 12 root" tar -xf "$BASE" -C "$ROOT"
assert_eq "$(cut -d. -f1 "$ROOT/etc/debian_version")" 12 "the root is Debian 12"
assert_fails "the root has no signet yet" test -e "$ROOT/usr/sbin/signetd"
for m in proc sys dev; do
	mkdir -p "$ROOT/$m"
	case $m in
	proc) mount -t proc proc "$ROOT/proc" ;;
	*) mount --rbind "/$m" "$ROOT/$m" && mount --make-rslave "$ROOT/$m" ;;
	esac
	MOUNTS+=("$ROOT/$m")
done
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
require "apt-get update in the root" in_root apt-get update -qq
require "systemd is installed in the root (for the unit check)" \
	in_root apt-get install -y -qq --no-install-recommends systemd >"$E2E_TMP/apt-systemd.log" 2>&1

# ---- apt install ./signet_*.deb
cp "$DEB" "$ROOT/tmp/"
in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$DEB")" >"$E2E_TMP/apt-install.log" 2>&1
assert_eq "$?" 0 "apt install ./$(basename "$DEB") succeeds in the clean root"
assert_eq "$(in_root dpkg-query -W -f '${Status}' signet)" "install ok installed" "dpkg has signet installed"
assert_match "$(in_root id signet)" "uid=[0-9]+\(signet\) gid=[0-9]+\(signet\)" "the package made the system user signet"
assert_match "$(in_root getent passwd signet)" ":/var/lib/signet:/usr/sbin/nologin$" "signet has no login shell"
# Names are the root's (its passwd), not the host's: ask inside.
assert_eq "$(in_root stat -c '%U:%G %a' /var/lib/signet)" "signet:signet 700" "/var/lib/signet belongs to signet, mode 0700"
assert_ok "the unit is enabled (multi-user.target wants it)" \
	test -L "$ROOT/etc/systemd/system/multi-user.target.wants/signetd.service"
VERIFY=$(in_root systemd-analyze verify --man=no /lib/systemd/system/signetd.service 2>&1)
assert_eq "$?:$VERIFY" "0:" "systemd-analyze verify accepts the installed unit"
UNIT=$ROOT/lib/systemd/system/signetd.service
for opt in User=signet StateDirectory=signet ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes \
	PrivateTmp=yes PrivateDevices=yes MemoryDenyWriteExecute=yes "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
	"CapabilityBoundingSet=$" "SystemCallFilter=@system-service" \
	"ExecStart=/usr/sbin/signetd --config /etc/signet/signetd.conf"; do
	assert_ok "the unit sets ${opt%$}" grep -Eq "^$opt" "$UNIT"
done

# ---- signetd as the unit runs it: user signet, the packaged config and data directory
SERVER_LOG=$E2E_TMP/signetd-root.log
SERVER_OUT=$E2E_TMP/signetd-root.out
SERVER_LOGS+=("$SERVER_LOG")
chroot --userspec=signet:signet "$ROOT" env -i SIGNET_LISTEN=127.0.0.1:0 \
	/usr/sbin/signetd --config /etc/signet/signetd.conf >"$SERVER_OUT" 2>"$SERVER_LOG" &
SERVER_PID=$!
for ((i = 0; i < 200; i++)); do
	SERVER_PORT=$(grep -o 'listening on http://[^ ]* (port [0-9]*)' "$SERVER_LOG" 2>/dev/null | sed 's/.*(port \([0-9]*\))/\1/')
	[ -n "$SERVER_PORT" ] && break
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.05
done
require "signetd starts in the root as user signet: $(tail -n 3 "$SERVER_LOG")" [ -n "$SERVER_PORT" ]
BASE_URL=http://127.0.0.1:$SERVER_PORT
assert_contains "$(cat "$SERVER_LOG")" "data in /var/lib/signet" "it uses the packaged data directory"
assert_eq "$(ps -o uid= -p "$SERVER_PID" | tr -d ' ')" "$(in_root id -u signet)" "the server runs as user signet"
require "signetd answers /healthz" curl -sf -o /dev/null "$BASE_URL/healthz"
ADMIN_KEY=$(cat "$ROOT/var/lib/signet/bootstrap-admin.key")
remember_secret "$ADMIN_KEY"
for f in signet.db master.key bootstrap-admin.key; do
	assert_eq "$(in_root stat -c '%U %a' "/var/lib/signet/$f")" "signet 600" "/var/lib/signet/$f: signet, 0600"
done
api "" GET /portal/
assert_status 200 "the installed signetd serves the portal"

# The packaged CLI, inside the root, against it.
cli() { chroot "$ROOT" env -i SIGNET_URL="$BASE_URL" SIGNET_API_KEY="$1" /usr/bin/signet "${@:2}"; }
assert_ok "signet keys create, as the bootstrap admin" cli "$ADMIN_KEY" keys create --alias release --algorithm EC-P256
EXPORT=$(cli "$ADMIN_KEY" principals create --name ci --role signer | grep '^export SIGNET_API_KEY=')
CI_KEY=$(eval "$EXPORT" && printf %s "$SIGNET_API_KEY")
remember_secret "$CI_KEY"
assert_match "$CI_KEY" "^sg_" "signet principals create hands over the signer's key"
echo "release 1.0" >"$ROOT/tmp/app.tar.gz"
SIGN_OUT=$(cd "$ROOT/tmp" && chroot "$ROOT" sh -c 'cd /tmp && exec "$@"' sh env -i SIGNET_URL="$BASE_URL" \
	SIGNET_API_KEY="$CI_KEY" /usr/bin/signet sign-file app.tar.gz --key release 2>&1)
assert_contains "$SIGN_OUT" "signed app.tar.gz" "the packaged signet signs a file through the packaged signetd"
cli "$CI_KEY" keys public-key release --out /tmp/release.pem
assert_ok "openssl (on the host) verifies that signature with the key's public half" \
	openssl dgst -sha256 -verify "$ROOT/tmp/release.pem" -signature "$ROOT/tmp/app.tar.gz.sig" "$ROOT/tmp/app.tar.gz"
echo tampered >>"$ROOT/tmp/app.tar.gz"
assert_fails "and refuses it for a changed file" \
	openssl dgst -sha256 -verify "$ROOT/tmp/release.pem" -signature "$ROOT/tmp/app.tar.gz.sig" "$ROOT/tmp/app.tar.gz"
stop_server
assert_eq "$SERVER_EXIT" 0 "signetd stops cleanly on SIGTERM"

# ---- apt remove, then purge
FILES=$(in_root dpkg -L signet | grep -v '^/\.$')
in_root apt-get remove -y -qq signet >"$E2E_TMP/apt-remove.log" 2>&1
assert_eq "$?" 0 "apt remove signet succeeds"
assert_eq "$(in_root dpkg-query -W -f '${Status}' signet 2>/dev/null)" "deinstall ok config-files" \
	"after remove only the configuration is left"
assert_fails "signetd is gone" test -e "$ROOT/usr/sbin/signetd"
assert_ok "the conffile stays until purge" test -f "$ROOT/etc/signet/signetd.conf"
in_root apt-get purge -y -qq signet >"$E2E_TMP/apt-purge.log" 2>&1
assert_eq "$?" 0 "apt purge signet succeeds"
assert_eq "$(in_root dpkg-query -W -f '${Status}' signet 2>/dev/null)" "" "dpkg no longer knows signet"
LEFT=""
while IFS= read -r f; do
	if [ ! -d "$ROOT$f" ] && { [ -e "$ROOT$f" ] || [ -L "$ROOT$f" ]; }; then
		LEFT+="$f "
	fi
done <<<"$FILES"
assert_eq "$LEFT" "" "no file of the package is left after purge"
assert_fails "/etc/signet is gone" test -e "$ROOT/etc/signet"
assert_fails "no unit symlink is left" test -e "$ROOT/etc/systemd/system/multi-user.target.wants/signetd.service"
assert_ok "the signing keys in /var/lib/signet are kept (deleting them cannot be undone)" \
	test -f "$ROOT/var/lib/signet/master.key"
assert_contains "$(cat "$E2E_TMP/apt-purge.log")" "remove it by hand" "purge says where the keys are"
e2e_finish
