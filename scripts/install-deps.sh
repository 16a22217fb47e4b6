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
  # the PostgreSQL store (libpq) and the throwaway cluster its tests start
  libpq-dev postgresql-15 postgresql-client-15
  libp11-kit-dev softhsm2 opensc
  curl jq xxd ca-certificates python3 python3-aiosmtpd
  # tests/e2e/signhash: the sign-hash document's examples hash with shasum (perl)
  perl
  # tests/e2e/transit: the hvac Vault client drives the Transit dialect
  python3-hvac
  # tests/tools: the independent ML-DSA verifier (npm ci of @noble/post-quantum)
  nodejs npm
  libengine-pkcs11-openssl openjdk-17-jdk-headless sbsigntool systemd-boot-efi
  chromium
  mmdebstrap lintian
  wixl
)
# A package that counts as present when its command is on PATH, whichever
# package brought it (a Node.js from another source ships its own npm, and
# Debian's npm package would conflict with it).
declare -A BY_COMMAND=([nodejs]=node [npm]=npm)
# Packages taken from bookworm-backports (Debian's own archive, same mirror),
# each with the lowest version the project needs:
#   osslsigncode 2.9 signs PowerShell scripts and MSI files; bookworm's 2.5
#   does not sign scripts and passes its -pkcs11engine path as the engine id,
#   so libp11's engine refuses to load ("bad engine id").
declare -A BACKPORTS=([osslsigncode]=2.9)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
missing=()
for p in "${PKGS[@]}"; do
  if [ -n "${BY_COMMAND[$p]:-}" ] && command -v "${BY_COMMAND[$p]}" >/dev/null 2>&1; then
    continue
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
backports=()
for p in "${!BACKPORTS[@]}"; do
  v=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null | sed -n 's/^install ok installed //p' || true)
  if [ -z "$v" ] || dpkg --compare-versions "$v" lt "${BACKPORTS[$p]}"; then
    backports+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ] && [ ${#backports[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Other apt users (unattended upgrades, a parallel install) hold the lock for a while: wait.
# Configuration files already on the machine are kept (dpkg's and ucf's), without a question.
APT=(env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 apt-get -o DPkg::Lock::Timeout=600
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
# The PostgreSQL server is here only for the throwaway clusters the tests start
# (tests/tools/pg-cluster.sh). Debian would create a "main" cluster on install
# and start it on port 5432 (in a chroot it would outlive the install), so on a
# machine that has no PostgreSQL configuration yet, say no first; the package
# keeps this file (ucf, UCF_FORCE_CONFFOLD above). An existing one is left alone.
if [[ " ${missing[*]} " == *" postgresql-15 "* ]] &&
  [ ! -e /etc/postgresql-common/createcluster.conf ] && [ ! -d /etc/postgresql ]; then
  echo "install-deps: no PostgreSQL main cluster (create_main_cluster = false)"
  $SUDO mkdir -p /etc/postgresql-common
  printf '%s\n' '# Written by signet scripts/install-deps.sh: the tests make their own clusters.' \
    'create_main_cluster = false' | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
if [ ${#backports[@]} -gt 0 ] &&
  ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "install-deps: adding bookworm-backports (deb.debian.org) for ${backports[*]}"
  printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' \
    'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
    $SUDO tee /etc/apt/sources.list.d/signet-bookworm-backports.sources >/dev/null
fi
$SUDO "${APT[@]}" update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ${#backports[@]} -gt 0 ]; then
  echo "install-deps: installing ${backports[*]} from bookworm-backports"
  $SUDO "${APT[@]}" install -y -qq --no-install-recommends -t bookworm-backports "${backports[@]}"
fi
