#!/usr/bin/env bash
#
# build-deb.sh OUT-DIR - build the Debian package signet_<version>-1_<arch>.deb
# from this source tree, without debhelper: a Release build with Debian's
# hardening flags (dpkg-buildflags) in OUT-DIR/build, `cmake --install` into
# OUT-DIR/stage with DESTDIR, then the Debian parts (stripped binaries,
# compressed manual pages, copyright, changelog, maintainer scripts,
# conffiles, md5sums, Depends from dpkg-shlibdeps) and dpkg-deb.  Prints the
# path of the package on its last line.
#
# SIGNET_DEB_TARGETS names the CMake targets to build (every one whose
# install() rule the package carries); SIGNET_DEB_MAINTAINER the Maintainer.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$(mkdir -p "${1:-$SRC/build-deb}" && cd "${1:-$SRC/build-deb}" && pwd)
BUILD=$OUT/build
STAGE=$OUT/stage
TARGETS=${SIGNET_DEB_TARGETS:-signetd signet signet-pkcs11}
MAINTAINER=${SIGNET_DEB_MAINTAINER:-Signet maintainers <signet@example.org>}
UPSTREAM=$(sed -n 's/^project(signet VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
VERSION=$UPSTREAM-1
ARCH=$(dpkg --print-architecture)
JOBS=${JOBS:-$(nproc)}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$SRC" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

# ---- build and stage
# shellcheck disable=SC2046  # the targets are words
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
	-DSIGNET_SYSTEMD_UNIT_DIR=/lib/systemd/system \
	-DCMAKE_C_FLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
	-DCMAKE_EXE_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)" \
	-DCMAKE_SHARED_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)" >/dev/null
# shellcheck disable=SC2086
cmake --build "$BUILD" -j "$JOBS" --target $TARGETS
rm -rf "$STAGE"
DESTDIR=$STAGE cmake --install "$BUILD" >/dev/null

# ---- Debian's shape of the tree
find "$STAGE" -type f \( -perm -u+x -o -name '*.so*' \) -exec \
	strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +
find "$STAGE/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +
DOC=$STAGE/usr/share/doc/signet
install -d -m 0755 "$DOC"
install -m 0644 "$SRC/packaging/debian/copyright" "$DOC/copyright"
install -d -m 0755 "$STAGE/usr/share/lintian/overrides"
install -m 0644 "$SRC/packaging/debian/lintian-overrides" "$STAGE/usr/share/lintian/overrides/signet"
{
	printf 'signet (%s) unstable; urgency=medium\n\n' "$VERSION"
	printf '  * Built from the source tree at commit %s.\n\n' \
		"$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	printf ' -- %s  %s\n' "$MAINTAINER" "$(date -R -u -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$DOC/changelog.Debian.gz"
find "$STAGE" -type d -exec chmod 0755 {} +
find "$STAGE" -type f ! -perm -u+x -exec chmod 0644 {} +
find "$STAGE" -type f -perm -u+x -exec chmod 0755 {} +

# ---- control files
install -d -m 0755 "$STAGE/DEBIAN"
for f in postinst prerm postrm; do
	install -m 0755 "$SRC/packaging/debian/$f" "$STAGE/DEBIAN/$f"
done
install -m 0644 "$SRC/packaging/debian/conffiles" "$STAGE/DEBIAN/conffiles"
# dpkg-shlibdeps wants a debian/control beside it; a two-line one will do.
SHL=$OUT/shlibdeps
mkdir -p "$SHL/debian"
printf 'Source: signet\n\nPackage: signet\nArchitecture: any\n' >"$SHL/debian/control"
mapfile -t ELF < <(find "$STAGE/usr" -type f -perm -u+x)
DEPENDS=$(cd "$SHL" && dpkg-shlibdeps -O "${ELF[@]/#/-e}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$DEPENDS" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
	-e "s|@SIZE@|$SIZE|" -e "s|@DEPENDS@|$DEPENDS|" \
	"$SRC/packaging/debian/control.in" >"$STAGE/DEBIAN/control"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
	xargs md5sum) >"$STAGE/DEBIAN/md5sums"
chmod 0644 "$STAGE/DEBIAN/md5sums" "$STAGE/DEBIAN/control"

DEB=$OUT/signet_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
