#!/usr/bin/env bash
# Installs the Debian 12 packages Ptyx builds and tests with. Idempotent: packages already
# present are skipped, so a second run costs one dpkg query. Run as root (or with sudo).
#
#   packaging/install-deps.sh            # engine + CLI + tests
#   PTYX_DEPS_EXTRA="..." packaging/install-deps.sh   # additional packages
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libhdf5-dev hdf5-tools
  libfftw3-dev
  libeigen3-dev
  libcli11-dev nlohmann-json3-dev
  libpng-dev zlib1g-dev
  libgtest-dev
  # MPI for multi-rank `ptyx recon` and the mpi tests
  libopenmpi-dev openmpi-bin
  # GUI (widgets/, app/): Qt 6 widgets (QOpenGLContext is in Qt GUI), VTK 9 rendering (its Qt
  # module is Qt 5 only, so we host VTK ourselves); Xvfb, xauth and Mesa's software GL for
  # headless GUI tests.
  qt6-base-dev libvtk9-dev libfreetype-dev
  xvfb xauth libgl1-mesa-dri
  # the .deb test (tests/packaging) validates the .desktop file
  desktop-file-utils
  # ptyx-agent (remote/): Qt 6 Core + Network come with qt6-base-dev; the job store is SQLite
  libsqlite3-dev
  # the agent's per-job live stream: the client side (remote/client, the workbench) uses QWebSocket
  qt6-websockets-dev
  # ptyx-agent's slurm launcher tests run real Slurm daemons on this machine (tests/agent/slurm);
  # openssl makes the self-signed certificate of the TLS test
  slurmctld slurmd slurm-client munge openssl
)
# shellcheck disable=SC2206
packages+=(${PTYX_DEPS_EXTRA:-})

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Wait for another apt/dpkg run (a second checkout installing at the same time) instead of failing.
$sudo apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
