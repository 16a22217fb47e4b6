#!/usr/bin/env bash
# Install everything Signet needs on Debian 12 (build, run, test). Idempotent.
# Run as root (or with sudo). The list is the one place dependencies are named;
# ./signet.sh runs this first, so it must work on a minimal Debian 12 (no make,
# no compiler, no curl): it needs only bash, dpkg and apt.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libssl-dev openssl
  libmicrohttpd-dev libgnutls28-dev
  libjansson-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev
  libp11-kit-dev softhsm2 opensc
  curl jq xxd ca-certificates python3 python3-aiosmtpd
  # tests/e2e/signhash: the sign-hash document's examples hash with shasum (perl)
  perl
  # tests/e2e/transit: the hvac Vault client drives the Transit dialect
  python3-hvac
  # tests/tools: the independent ML-DSA verifier (npm ci of @noble/post-quantum)
  nodejs npm
  libengine-pkcs11-openssl osslsigncode openjdk-17-jdk-headless sbsigntool systemd-boot-efi
  chromium
  mmdebstrap lintian
  wixl
)
# A package that counts as present when its command is on PATH, whichever
# package brought it (a Node.js from another source ships its own npm, and
# Debian's npm package would conflict with it).
declare -A BY_COMMAND=([nodejs]=node [npm]=npm)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
missing=()
for p in "${PKGS[@]}"; do
  if [ -n "${BY_COMMAND[$p]:-}" ] && command -v "${BY_COMMAND[$p]}" >/dev/null 2>&1; then
    continue
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Other apt users (unattended upgrades, a parallel install) hold the lock for a while: wait.
APT=(apt-get -o DPkg::Lock::Timeout=600)
$SUDO "${APT[@]}" update -qq
$SUDO "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}"
