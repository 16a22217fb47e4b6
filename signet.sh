#!/bin/sh
# signet.sh - the README's one-command entry point, for a machine that may have
# nothing but a minimal Debian 12 (no make, no compiler, no curl). It installs
# the missing Debian packages, make among them, with scripts/install-deps.sh
# (root or sudo needed when something is missing), then hands over to make,
# which builds in ./build:
#
#   ./signet.sh run     build, then start signetd on its embedded defaults
#                       (http://127.0.0.1:8080, data in ./signet-data) = make run
#   ./signet.sh test    build, then run every test through ctest = make test
#   ./signet.sh TARGET  any other Makefile target (build, test-sanitize, bench, ...)
#
# Exit status: make's; 2 for a usage error. POSIX sh only: bash itself is
# Essential in Debian, so install-deps.sh can rely on it.
set -eu

if [ $# -ne 1 ] || [ -z "$1" ] || [ "${1#-}" != "$1" ]; then
	echo "usage: $0 run|test|TARGET" >&2
	exit 2
fi
cd "$(dirname "$0")"
bash scripts/install-deps.sh
exec make "$1"
