#!/usr/bin/env bash
# Installs the system packages facecam needs to build, run and test, if any
# are missing. Uses sudo when not root. Debian/Ubuntu (apt) only.
set -euo pipefail

build_packages=(libopencv-dev libopencv-contrib-dev libclang-dev clang opencv-data pkg-config)
# Window system libraries for the GUI, Xvfb and a CPU renderer for its tests.
gui_packages=(xvfb libgl1-mesa-dri mesa-vulkan-drivers libvulkan1 libwayland-dev libxkbcommon-dev libxkbcommon-x11-0)

wanted=("${build_packages[@]}" "${gui_packages[@]}")
missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "facecam needs these packages, and this system has no apt-get to install them:" >&2
    echo "  ${missing[*]}" >&2
    echo "Install OpenCV 4 with its contrib 'face' module, libclang and pkg-config with your package manager." >&2
    exit 1
  fi
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "Installing ${missing[*]} needs root, and sudo is not available. Run as root: apt-get install ${missing[*]}" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  echo "Installing system packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed. Install Rust with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
