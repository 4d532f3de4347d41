#!/usr/bin/env bash
# Install napari-latent into .venv/, then launch the demo (`demo`) or run the tests (`test`).
#   bash scripts/setup.sh demo            napari with the demo cohort and the shipped demo model
#   bash scripts/setup.sh test [ARGS...]  the test suite under Xvfb (ARGS go to pytest)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-demo}
shift || true

# System libraries napari's Qt/OpenGL stack needs, and Xvfb for a display-less machine.
pkgs=(xvfb xauth libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon-x11-0
      libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-render-util0 libxcb-cursor0
      libxcb-shape0 libxcb-randr0 libxcb-image0)
py=${PYTHON:-$(command -v python3.11 || command -v python3)}
"$py" -c 'import ensurepip, venv' 2>/dev/null || pkgs+=(python3-venv)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "Installing system packages: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

"$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "napari-latent needs Python >= 3.11 ($py is older)"; exit 1; }
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The CPU build of PyTorch first: a bare `torch` requirement would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0"

case "$mode" in
  demo)
    .venv/bin/python -m pip install -q -e ".[all]"
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      echo "No display found: starting napari on a virtual X server (Xvfb)."
      exec xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/napari-latent demo "$@"
    fi
    exec .venv/bin/napari-latent demo "$@"
    ;;
  test)
    .venv/bin/python -m pip install -q -e ".[test]"
    exec xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: bash scripts/setup.sh demo|test [ARGS...]"; exit 2 ;;
esac
