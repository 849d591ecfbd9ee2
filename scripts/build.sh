#!/usr/bin/env bash
# Configures and builds mason into build/ (binary: build/mason).
# Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
# Warnings are errors in the test suite and CI (scripts/test.sh sets it).
werror="${MASON_WERROR:-OFF}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMASON_WERROR="$werror" "$@" >/dev/null
cmake --build build --parallel "$(nproc)"
echo "build: $(pwd)/build/mason"
