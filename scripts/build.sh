#!/usr/bin/env bash
# Configures and builds mason into build/ (binary: build/mason).
#   scripts/build.sh            everything (mason, and the tests when
#                               GoogleTest is installed)
#   scripts/build.sh mason      just the mason binary (the quick start)
# One configuration for every caller (warnings are errors, always), so
# that building the tests after the quick start reuses its objects.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMASON_WERROR=ON >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build --parallel "$(nproc)" "${targets[@]}"
echo "build: $(pwd)/build/mason"
