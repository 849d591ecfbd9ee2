#!/usr/bin/env bash
# The whole test suite: setup, build (warnings are errors), ctest, and the
# conformance counts. Exit status is ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
MASON_WERROR=ON scripts/build.sh
rm -f build/conformance-summary.txt
set +e
(cd build && ctest --output-on-failure --timeout 600 -j "$(nproc)")
rc=$?
set -e
echo
echo "== conformance (reference vectors from ${MASON_CONFORMANCE_DIR:-../shared/conformance}) =="
if [[ -f build/conformance-summary.txt ]]; then
  sort build/conformance-summary.txt
else
  echo "no conformance results recorded"
fi
exit $rc
