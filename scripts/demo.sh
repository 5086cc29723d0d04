#!/usr/bin/env bash
# The main job: installs what kvfs needs, builds it, creates a demo store, mounts it,
# and uses it the way a person would. Leaves the store mounted so you can explore.
# Usage: scripts/demo.sh [MOUNTPOINT]      (default: ~/kvfs-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

kvfs=$PWD/build/tools/kvfs
store=${KVFS_DEMO_STORE:-$HOME/.local/share/kvfs/demo}
mnt=${1:-$HOME/kvfs-demo}
mkdir -p "$mnt"
if mountpoint -q "$mnt"; then "$kvfs" umount "$mnt"; fi
[ -d "$store/db" ] || "$kvfs" init "$store"

run() { echo "\$ $*"; "$@"; }
run "$kvfs" mount "$store" "$mnt"
echo "hello from kvfs" > "$mnt/hello"; echo "\$ echo 'hello from kvfs' > $mnt/hello"
run cat "$mnt/hello"
run mkdir -p "$mnt/dotfiles"
echo "export EDITOR=vi" >> "$mnt/dotfiles/bashrc"; echo "\$ echo 'export EDITOR=vi' >> $mnt/dotfiles/bashrc"
run ls -l "$mnt" "$mnt/dotfiles"
run "$kvfs" --store "$store" get dotfiles/bashrc
run "$kvfs" --store "$store" set greeting "set from the CLI"
run cat "$mnt/greeting"
run "$kvfs" --store "$store" stat hello
echo
echo "The store is mounted at $mnt. Unmount it with:  $kvfs umount $mnt"
