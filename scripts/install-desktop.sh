#!/usr/bin/env bash
# Installs facecam for the current user: the binary into ~/.local/bin, the
# icon and the .desktop file where desktop menus look for them.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${PREFIX:-$HOME/.local}"
data="${XDG_DATA_HOME:-$HOME/.local/share}"

scripts/install-deps.sh
cargo install --locked --path . --root "$prefix"
install -Dm644 assets/facecam.png "$data/icons/hicolor/256x256/apps/facecam.png"
install -Dm644 assets/facecam.svg "$data/icons/hicolor/scalable/apps/facecam.svg"
# The menu may not have ~/.local/bin on its PATH: point at the binary itself.
mkdir -p "$data/applications"
sed "s|^Exec=facecam|Exec=$prefix/bin/facecam|" assets/facecam.desktop > "$data/applications/facecam.desktop"
if command -v update-desktop-database >/dev/null; then
    update-desktop-database "$data/applications" || true
fi
echo "Installed: $prefix/bin/facecam and the facecam entry in your desktop menu"
