#!/usr/bin/env bash
# Checks a built ptyx .deb without installing it system-wide: extracts it with `dpkg -x` into a
# scratch root, runs the extracted programs, and checks the desktop files are in the package.
#   packaging/check-deb.sh build/ptyx_0.1.0_amd64.deb 0.1.0
set -euo pipefail
deb=$1
version=$2
[ -f "$deb" ] || { echo "check-deb: no package at $deb" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"

fail() { echo "check-deb: $*" >&2; exit 1; }

out=$("$root/usr/bin/ptyx-gui" --version) || fail "ptyx-gui --version failed"
[ "$out" = "ptyx-gui $version" ] || fail "ptyx-gui --version printed '$out'"
out=$("$root/usr/bin/ptyx" --version) || fail "ptyx --version failed"
[[ "$out" == *"$version"* ]] || fail "ptyx --version printed '$out'"
[ -x "$root/usr/bin/ptyx-agent" ] || fail "usr/bin/ptyx-agent missing"

contents=$(dpkg -c "$deb")
for f in ./usr/bin/ptyx ./usr/bin/ptyx-gui ./usr/bin/ptyx-agent \
         ./usr/share/applications/ptyx-gui.desktop \
         ./usr/share/icons/hicolor/256x256/apps/ptyx-gui.png \
         ./usr/share/icons/hicolor/scalable/apps/ptyx-gui.svg \
         ./usr/share/mime/packages/ptyx-cxi.xml \
         ./usr/share/ptyx/launch/slurm.sbatch \
         ./usr/share/doc/ptyx/README.md; do
  grep -q " $f\$" <<<"$contents" || fail "$f not in the package"
done

[ "$(dpkg-deb -f "$deb" Package)" = ptyx ] || fail "package name is not ptyx"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "package version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
grep -q libqt6widgets6 <<<"$depends" || fail "Depends lacks libqt6widgets6 (dpkg-shlibdeps?): $depends"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$root/usr/share/applications/ptyx-gui.desktop"
fi
echo "check-deb: $deb ($(stat -c %s "$deb") bytes) extracts and runs: ptyx-gui $version"
