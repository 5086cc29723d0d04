#!/usr/bin/env bash
# Installs everything kvfs needs to build, test and benchmark on Debian 12.
set -euo pipefail
packages=(
  build-essential cmake pkg-config git
  libfuse3-dev fuse3 liblmdb-dev lmdb-utils libsodium-dev libcli11-dev libspdlog-dev
  libzstd-dev libgtest-dev libgmock-dev libasio-dev
  attr sqlite3 bindfs rsync python3 util-linux procps psmisc iproute2 man-db
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
