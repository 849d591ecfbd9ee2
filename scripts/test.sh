#!/usr/bin/env bash
# The whole test suite: setup (with the test world), build (warnings are
# errors, the quick start's configuration), ctest, and the conformance
# counts. Exit status is ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
scripts/build.sh
rm -f build/conformance-summary.txt
set +e
(cd build && ctest --output-on-failure --timeout 600 -j "$(nproc)")
rc=$?
set -e
echo
conf=${MASON_CONFORMANCE_DIR:-../shared/conformance}
echo "== conformance (reference vectors from $conf) =="
if [[ -f build/conformance-summary.txt ]]; then
  sort build/conformance-summary.txt
elif [[ ! -d $conf ]]; then
  echo "SKIPPED: $conf does not exist (put the reference vectors there or set MASON_CONFORMANCE_DIR)"
else
  echo "no conformance results recorded"
fi
exit $rc
