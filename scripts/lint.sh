#!/usr/bin/env bash
# clang-tidy over mason's sources (.clang-tidy). Uses clang 16, which
# understands our C++23, with the compile commands of a clang configuration
# in build-tidy/ (configured here; nothing is built). Non-zero exit on any
# finding.
set -euo pipefail
cd "$(dirname "$0")/.."
tidy=$(command -v clang-tidy-16 || true)
[[ -n "$tidy" ]] || { echo "clang-tidy-16 not found (scripts/setup.sh installs it)" >&2; exit 1; }
cmake -S . -B build-tidy -G Ninja -DCMAKE_CXX_COMPILER=clang++-16 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMASON_TESTS=OFF >/dev/null
find src -name '*.cc' -print0 | sort -z |
  xargs -0 -n 2 -P "$(nproc)" "$tidy" -p build-tidy --quiet 2>&1 |
  grep -v "warnings generated" | tee /tmp/mason-lint.$$ || true
if grep -q "error:\|warning:" /tmp/mason-lint.$$; then
  rm -f /tmp/mason-lint.$$
  echo "lint: clang-tidy findings above" >&2
  exit 1
fi
rm -f /tmp/mason-lint.$$
echo "lint: clang-tidy clean"
