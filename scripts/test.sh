#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds kvfs twice (plain, and with
# AddressSanitizer + UndefinedBehaviorSanitizer) and runs every test in both builds.
# Usage: scripts/test.sh            (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

build_and_test() {
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  # Unit tests run in parallel (temp dirs, ephemeral ports); mount and package tests
  # one at a time, since they share /sbin/mount.kvfs and the package database.
  ctest --test-dir "$dir" --output-on-failure --timeout 900 -j"$jobs" -LE 'integration|packaging'
  ctest --test-dir "$dir" --output-on-failure --timeout 900 -j1 -L 'integration|packaging'
}

echo "== plain build =="
build_and_test build
echo "== sanitizer build (ASan + UBSan) =="
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
build_and_test build-asan -DKVFS_SANITIZE=ON

echo "== fuzzers (libFuzzer, bounded time) =="
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DKVFS_FUZZ=ON -DKVFS_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fuzzers=(fuzz_messages fuzz_object fuzz_frame fuzz_records)
cmake --build build-fuzz -j"$jobs" --target "${fuzzers[@]}"
fuzz_seconds=${KVFS_FUZZ_SECONDS:-30}
for f in "${fuzzers[@]}"; do
  mkdir -p "build-fuzz/corpus/$f"
  timeout $((fuzz_seconds + 60)) "build-fuzz/tests/fuzz/$f" -max_total_time="$fuzz_seconds" \
    -rss_limit_mb=2048 "build-fuzz/corpus/$f" 2>&1 | tail -n 1
done
echo "fuzz: ${#fuzzers[@]} passed, 0 failed"
