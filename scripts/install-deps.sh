#!/usr/bin/env bash
# Install everything Signet needs on Debian 12 (build, run, test). Idempotent.
# Run as root (or with sudo). The list is the one place dependencies are named.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libssl-dev openssl
  libmicrohttpd-dev libgnutls28-dev
  libjansson-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev
  libp11-kit-dev softhsm2 opensc
  curl jq xxd ca-certificates python3
  libengine-pkcs11-openssl osslsigncode openjdk-17-jdk-headless sbsigntool systemd-boot-efi
  wixl
)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
