#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ and runs each for
# a bounded time on a seed corpus (our test Dockerfiles and, when present,
# the reference conformance Dockerfiles, read in place). Exits non-zero on
# any crash, hang (>10 s for one input), leak or sanitizer report. A fixed
# seed keeps the suite reproducible; run the fuzzers longer by hand with
# other seeds to explore.
# usage: run.sh SOURCE_DIR BUILD_DIR SECONDS_PER_FUZZER
set -euo pipefail
src=$1 out=$2 seconds=${3:-30}
cxx=$(command -v clang++-16 || true)
if [[ -z "$cxx" ]]; then
  echo "clang++-16 not found (scripts/setup.sh installs it)" >&2
  exit 1
fi
cmake -S "$src" -B "$out" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMASON_TESTS=OFF -DMASON_FUZZ=ON >/dev/null
cmake --build "$out" --target dockerfile_fuzz shell_fuzz tar_fuzz >/dev/null

corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
mkdir -p "$corpus/dockerfile" "$corpus/shell" "$corpus/tar" "$corpus/tree/d"
n=0
conf=${MASON_CONFORMANCE_DIR:-$src/../shared/conformance}
while IFS= read -r -d '' f; do
  cp "$f" "$corpus/dockerfile/seed$n"; n=$((n + 1))
done < <(find "$src/tests/data" "$src/examples" "$conf" -name 'Dockerfile*' -type f -print0 2>/dev/null)
printf '\0${A:-x}"$A"\x27b\x27' >"$corpus/shell/seed0"
printf '\3<<-"EOF" ${P//:/ } ${A%%%%*}' >"$corpus/shell/seed1"
# Tar seeds: one small tree in every tar dialect, plain and compressed.
printf 'data' >"$corpus/tree/d/f" && ln -s ../escape "$corpus/tree/d/l" && : >"$corpus/tree/.wh.gone"
for fmt in gnu posix ustar v7; do
  tar -C "$corpus/tree" --format=$fmt -cf "$corpus/tar/$fmt.tar" . 2>/dev/null || true
done
gzip -c "$corpus/tar/posix.tar" >"$corpus/tar/posix.tar.gz"
command -v zstd >/dev/null && zstd -q -c "$corpus/tar/posix.tar" >"$corpus/tar/posix.tar.zst" || true
echo "fuzz: $n seed Dockerfiles, ${seconds}s per fuzzer"

for f in dockerfile_fuzz shell_fuzz tar_fuzz; do
  dir=$corpus/${f%_fuzz}
  dict=$src/tests/fuzz/${f%_fuzz}.dict
  [[ -f $dict ]] || dict=$src/tests/fuzz/dockerfile.dict
  TMPDIR=$corpus "$out/tests/fuzz/$f" -seed=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -dict="$dict" -print_final_stats=1 \
    -artifact_prefix="$out/$f-" "$dir" 2>&1 | tail -n 12
  rc=${PIPESTATUS[0]}
  if [[ $rc -ne 0 ]]; then
    echo "fuzz: $f failed (exit $rc); reproducer in $out/$f-*" >&2
    exit 1
  fi
done
echo "fuzz: no crash, hang or sanitizer report"
