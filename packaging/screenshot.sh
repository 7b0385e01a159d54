#!/usr/bin/env bash
# Screenshot of the main window during a live run, under Xvfb: simulates a scan, opens it in
# ptyx-gui, runs ITERATIONS iterations, grabs the window (QWidget::grab) and saves a PNG.
#
#   packaging/screenshot.sh [OUT.png] [ITERATIONS]      (default docs/images/main_window.png, 30)
#   PTYX_BUILD=build-dir packaging/screenshot.sh ...      (where ptyx and ptyx-gui are; default build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/docs/images/main_window.png}
iterations=${2:-30}
build=${PTYX_BUILD:-$here/build}
ptyx=$build/engine/cli/ptyx
gui=$build/app/ptyx-gui
for p in "$ptyx" "$gui"; do
  [ -x "$p" ] || { echo "screenshot: $p not built (set PTYX_BUILD)" >&2; exit 1; }
done
command -v xvfb-run >/dev/null || { echo "screenshot: needs xvfb-run (xvfb xauth)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The demo's scan and settings (ptyx-dev demo): 256 frames of 64 x 64, Fermat spiral, defocused
# 100 um zone plate, 1e6 photons per frame; RAAR from the nominal optics with the defocus 17 % off.
"$ptyx" simulate --frames 256 --size 64 --photons 1e6 --seed 7 \
  --probe zoneplate --probe-diameter 100e-6 --focal-distance 0.2083 --defocus 7.2e-3 \
  -o "$work/scan.cxi" >/dev/null
# Settings and window layout are remembered between launches: start from a clean profile.
export XDG_CONFIG_HOME=$work/config HOME=$work
xvfb-run -a -f "$work/Xauthority" -s "-screen 0 1600x1000x24" \
  env QT_QPA_PLATFORM=xcb PTYX_GUI_NO_DIALOGS=1 "$gui" --screenshot "$out" --run "$iterations" \
  --window-size 1500x950 --set algorithm=raar --set beta=0.8 --set probe_init=zoneplate \
  --set aperture_diameter=100e-6 --set focal_distance=0.2083 --set defocus=6e-3 \
  --set snapshot_interval=0.1 "$work/scan.cxi"
