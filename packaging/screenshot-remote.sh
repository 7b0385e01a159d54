#!/usr/bin/env bash
# Screenshot of the workbench following a job of its local agent (Run ▸ Run locally with N
# ranks, docs/AGENT.md "From the workbench"), under Xvfb: simulates the demo scan, opens it in
# ptyx-gui, submits it to a loopback ptyx-agent with RANKS ranks, grabs the window once the job's
# snapshot of iteration ITERATIONS is shown, cancels the job and quits.
#
#   packaging/screenshot-remote.sh [OUT.png] [ITERATIONS] [RANKS]   (default docs/images/remote_job.png, 40, 2)
#   PTYX_BUILD=build-dir packaging/screenshot-remote.sh ...           (where the binaries are; default build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/docs/images/remote_job.png}
iterations=${2:-40}
ranks=${3:-2}
build=${PTYX_BUILD:-$here/build}
ptyx=$build/engine/cli/ptyx
gui=$build/app/ptyx-gui
agent=$build/remote/ptyx-agent
for p in "$ptyx" "$gui" "$agent"; do
  [ -x "$p" ] || { echo "screenshot-remote: $p not built (set PTYX_BUILD)" >&2; exit 1; }
done
command -v xvfb-run >/dev/null || { echo "screenshot-remote: needs xvfb-run (xvfb xauth)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The demo's scan (packaging/screenshot.sh, ptyx-dev demo).
"$ptyx" simulate --frames 256 --size 64 --photons 1e6 --seed 7 \
  --probe zoneplate --probe-diameter 100e-6 --focal-distance 0.2083 --defocus 7.2e-3 \
  -o "$work/scan.cxi" >/dev/null
# Settings, agent profiles and the local agent's data directory live in the scratch directory.
export XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data HOME=$work
export PTYX_AGENT_BIN=$agent PTYX_BIN=$ptyx OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader
xvfb-run -a -f "$work/Xauthority" -s "-screen 0 1600x1000x24" \
  env QT_QPA_PLATFORM=xcb PTYX_GUI_NO_DIALOGS=1 "$gui" --screenshot "$out" --run "$iterations" \
  --run-locally "$ranks" --window-size 1500x950 --set algorithm=raar --set beta=0.8 \
  --set probe_init=zoneplate --set aperture_diameter=100e-6 --set focal_distance=0.2083 \
  --set defocus=6e-3 --set snapshot_interval=0.5 "$work/scan.cxi"
