#!/usr/bin/env bash
# `make deb`: builds siptls_<version>_<arch>.deb and libsiptls-dev with
# dpkg-buildpackage -us -uc -b (no network) in a copy of the tree, so the
# checkout stays clean and dpkg-buildpackage's output (it writes to the
# parent directory) lands in OUT, not next to the checkout.
#   scripts/make-deb.sh [OUT]     (default: build-deb)
# OUT/src keeps the CMake build directory (obj-*) between runs: files are
# copied with their times, so a rebuild compiles only what changed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "${1:-$ROOT/build-deb}" && cd "${1:-$ROOT/build-deb}" && pwd)
SRC=$OUT/src
mkdir -p "$SRC"
# Everything but the kept build directory goes: deleted or renamed source
# files must not linger.
find "$SRC" -mindepth 1 -maxdepth 1 ! -name 'obj-*' -exec rm -rf {} +
cd "$ROOT"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -co --exclude-standard -z |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -xf - -C "$SRC"
else
	tar --exclude='./build*' --exclude='./run' --exclude='./.git' -cf - . |
		tar -xf - -C "$SRC"
fi
rm -f "$OUT"/*.deb "$OUT"/*.buildinfo "$OUT"/*.changes
cd "$SRC"
DEB_BUILD_OPTIONS="parallel=${JOBS:-2} ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b -nc
ls -1 "$OUT"/*.deb
