#!/usr/bin/env bash
# The build cache, both ways: what must rerun reruns (and says why), what
# must not is CACHED, and a hit never gives another image than running
# would. Rules: a changed file invalidates from the first COPY selecting
# it; a changed build arg from its first use; a changed base everything;
# same content rewritten, ignored files and unselected files are hits; a
# mode change is a miss; --no-cache and --no-cache-filter; cache mounts
# persist across builds and are never in layers; `mason cache ls|prune`.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$(context main <<'DF'
FROM busybox AS base
ARG VERSION=1
WORKDIR /src
COPY deps.txt .
RUN cat deps.txt > deps.out
COPY src/ ./src/
RUN echo "v$VERSION" > version && cat src/* > app.out

FROM busybox AS other
COPY other.txt /other.txt
RUN cp /other.txt /other

FROM scratch
COPY --from=base /src/app.out /src/version /
COPY --from=other /other /
DF
)
mkdir -p "$ctx/src"
echo deps >"$ctx/deps.txt"
echo 'int main;' >"$ctx/src/a.c"
echo 'int b;' >"$ctx/src/b.c"
echo other >"$ctx/other.txt"
echo '*.log' >"$ctx/.dockerignore"

# build [flags...]: runs a build; STEPS holds "<step> CACHED|RAN" per
# snapshot step, WHY the miss explanations, IID the image ID.
build() {
  "$MASON" build --progress plain --iidfile "$WORK/iid" -t cached "$@" "$ctx" >"$WORK/log" 2>&1 ||
    { cat "$WORK/log"; fail "build $*"; }
  IID=$(cat "$WORK/iid")
  STEPS=$(python3 - "$WORK/log" <<'PY'
import re, sys
names, cached = {}, set()
for line in open(sys.argv[1]):
    m = re.match(r"#(\d+) (\[(?:base|other|stage-2) \d+/\d+\] (?:RUN|COPY|WORKDIR).*)", line)
    if m: names[m.group(1)] = m.group(2).split("] ", 1)[1]
    m = re.match(r"#(\d+) CACHED", line)
    if m: cached.add(m.group(1))
for v, n in names.items():
    print(f"{n} {'CACHED' if v in cached else 'RAN'}")
PY
)
  WHY=$(grep -o 'cache miss: .*' "$WORK/log" || true)
}
# expect_ran "substring"...: exactly these steps ran, all others were CACHED.
expect_ran() {
  local ran
  ran=$(echo "$STEPS" | { grep ' RAN$' || true; } | sed 's/ RAN$//' | sort)
  local want=""
  for s in "$@"; do want+="$s"$'\n'; done
  want=$(printf '%s' "$want" | sed '/^$/d' | sort)
  [[ "$ran" == "$want" ]] || { echo "$STEPS"; echo "--- why:"; echo "$WHY"; fail "ran: [$ran] expected: [$want]"; }
}
ALL_STEPS=("WORKDIR /src" "COPY deps.txt ." "RUN cat deps.txt > deps.out" "COPY src/ ./src/"
  'RUN echo "v$VERSION" > version && cat src/* > app.out' "COPY other.txt /other.txt"
  "RUN cp /other.txt /other" "COPY --from=base /src/app.out /src/version /" "COPY --from=other /other /")
content() { "$MASON" run --rm --entrypoint /bin/cat "$1" /app.out 2>/dev/null || true; }
listing() { "$MASON" save "$1" -o "$WORK/img.tar" && fs_listing "$WORK/img.tar"; }

build
expect_ran "${ALL_STEPS[@]}"
first=$IID
first_listing=$(listing cached)

# Unchanged: everything CACHED, the same image (ID included).
build
expect_ran
[[ $IID == "$first" ]] || fail "an unchanged rebuild gave another image: $first vs $IID"

# One source file: from the first COPY that selects it; the other stage is untouched.
echo 'int main(void){return 0;}' >"$ctx/src/a.c"
build
expect_ran "COPY src/ ./src/" 'RUN echo "v$VERSION" > version && cat src/* > app.out' \
  "COPY --from=base /src/app.out /src/version /" "COPY --from=other /other /"
echo "$WHY" | grep -q "cache miss: file changed: src/a.c" || { echo "$WHY"; fail "miss reason for a.c"; }
[[ $IID != "$first" ]] || fail "a changed source gave the old image"
changed=$IID
"$MASON" save cached -o "$WORK/c.tar"
tar -xOf "$WORK/c.tar" >/dev/null # readable
fs_listing "$WORK/c.tar" >"$WORK/c.fs"
grep -q '^/app.out ' "$WORK/c.fs" || fail "no app.out in the image"

# The same bytes written again (new mtime), and ignored or unselected files: hits.
sleep 1.1
echo 'int main(void){return 0;}' >"$ctx/src/a.c"
echo noise >"$ctx/build.log"
echo unrelated >"$ctx/README"
build
expect_ran
[[ $IID == "$changed" ]] || fail "rewriting the same content changed the image"

# A mode change is a miss.
chmod 0755 "$ctx/src/b.c"
build
expect_ran "COPY src/ ./src/" 'RUN echo "v$VERSION" > version && cat src/* > app.out' \
  "COPY --from=base /src/app.out /src/version /" "COPY --from=other /other /"
chmod 0644 "$ctx/src/b.c"
build # back to a known record: all cached again
expect_ran

# A build arg: from its first use (the RUNs after the ARG see it).
build --build-arg VERSION=2
expect_ran "RUN cat deps.txt > deps.out" "COPY src/ ./src/" \
  'RUN echo "v$VERSION" > version && cat src/* > app.out' \
  "COPY --from=base /src/app.out /src/version /" "COPY --from=other /other /"
echo "$WHY" | grep -q "cache miss: build arg changed: VERSION" || { echo "$WHY"; fail "miss reason for VERSION"; }
build --build-arg VERSION=1 # the earlier records are still there
expect_ran

# --no-cache runs everything; the next build uses what it made.
build --no-cache
expect_ran "${ALL_STEPS[@]}"
grep -q "cache disabled: --no-cache" "$WORK/log" || fail "no --no-cache reason"
build
expect_ran

# --no-cache-filter: only that stage reruns, and what used its old result too.
echo other2 >"$ctx/other.txt" # changed, but other's COPY would see it anyway
build
build --no-cache-filter other
expect_ran "COPY other.txt /other.txt" "RUN cp /other.txt /other" "COPY --from=other /other /"
build
expect_ran
set +e
"$MASON" build --progress plain --no-cache-filter nosuch "$ctx" 2>"$WORK/err"; rc=$?
set -e
[[ $rc -ne 0 ]] && grep -q "no-cache-filter nosuch: no such stage" "$WORK/err" || { cat "$WORK/err"; fail "unknown --no-cache-filter stage"; }

# A changed base image: everything above it reruns.
ctx2=$(context base <<'DF'
FROM mybase
COPY deps.txt /deps.txt
RUN cat /deps.txt > /out
DF
)
echo deps >"$ctx2/deps.txt"
"$MASON" tag busybox mybase
"$MASON" build --progress plain -t b1 "$ctx2" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "base build"; }
"$MASON" build --progress plain -t b1 "$ctx2" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "base build"; }
[[ $(grep -c CACHED "$WORK/log") -eq 2 ]] || { cat "$WORK/log"; fail "base rebuild not cached"; }
"$MASON" build -q -t mybase - <<'DF' >/dev/null || fail "new base"
FROM busybox
RUN echo new >/new-in-base
DF
"$MASON" build --progress plain -t b1 "$ctx2" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "base build"; }
! grep -q CACHED "$WORK/log" || { cat "$WORK/log"; fail "a new base still hit the cache"; }
grep -q "cache miss: base changed" "$WORK/log" || { cat "$WORK/log"; fail "miss reason for the base"; }
"$MASON" run --rm b1 cat /new-in-base | grep -q new || fail "built on the old base"

# Cache mounts persist across builds (even --no-cache) and are never in layers.
ctx3=$(context mounts <<'DF'
FROM busybox
RUN --mount=type=cache,id=counter,target=/cache sh -c 'echo x >> /cache/count; wc -l < /cache/count > /n'
DF
)
for _ in 1 2; do
  "$MASON" build --no-cache -q -t m1 "$ctx3" >/dev/null || fail "cache mount build"
done
[[ $("$MASON" run --rm m1 cat /n | tr -d ' ') == 2 ]] || fail "the cache mount did not persist"
"$MASON" save m1 -o "$WORK/m1.tar"
fs_listing "$WORK/m1.tar" >"$WORK/m1.fs"
! grep -q '^/cache/count' "$WORK/m1.fs" || fail "the cache mount's content is in a layer"
"$MASON" cache ls >"$WORK/ls" || fail "cache ls"
grep -q "RUN --mount=type=cache" "$WORK/ls" && grep -q '^counter ' "$WORK/ls" || { cat "$WORK/ls"; fail "cache ls content"; }

# Export and import: an empty store skips the work another store did.
ctx4=$(context transfer <<'DF'
FROM busybox AS compile
COPY src.txt /src.txt
RUN sleep 1 && tr a-z A-Z < /src.txt > /bin.out
FROM busybox AS test
RUN echo tested > /tested
FROM scratch AS final
COPY --from=compile /bin.out /bin.out
DF
)
echo hello >"$ctx4/src.txt"
start_registry
"$MASON" build --progress plain --iidfile "$WORK/t1" --target final \
  --cache-to "type=registry,ref=$REGISTRY/cache/app:buildcache,mode=max" \
  --cache-to "type=local,dest=$WORK/cachedir,mode=max" "$ctx4" >"$WORK/log" 2>&1 ||
  { cat "$WORK/log"; fail "--cache-to"; }
"$MASON" build --progress plain --target test --cache-to "type=local,dest=$WORK/cachedir" "$ctx4" \
  >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "--cache-to (second target)"; }
python3 - "$WORK/cachedir/index.json" <<'PY' || fail "one target's cache overwrote the other's"
import json, sys
tags = sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in json.load(open(sys.argv[1]))["manifests"])
assert tags == ["final", "test"], tags
PY
for from in "$REGISTRY/cache/app:buildcache" "type=local,src=$WORK/cachedir,tag=final"; do
  export MASON_ROOT=$WORK/empty-$RANDOM
  import_busybox
  "$MASON" build --progress plain --iidfile "$WORK/t2" --target final --cache-from "$from" "$ctx4" \
    >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "--cache-from $from"; }
  grep -q "RUN sleep 1" "$WORK/log" && [[ $(grep -c CACHED "$WORK/log") -eq 3 ]] ||
    { cat "$WORK/log"; fail "--cache-from $from did not skip the compile"; }
  [[ $(cat "$WORK/t2") == $(cat "$WORK/t1") ]] || fail "--cache-from $from gave another image"
done
# With --cache-from, a base is unpacked and imported layers applied only
# when a step needs the files: above, busybox was never unpacked. A step
# that misses after imported ones gets them applied first, and so does a
# stage another stage reads from.
export MASON_ROOT=$WORK/empty-later
import_busybox
"$MASON" build --progress plain --target final --cache-from "$REGISTRY/cache/app:buildcache" "$ctx4" \
  >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "--cache-from, nothing changed"; }
! grep -q "applying" "$WORK/log" || { cat "$WORK/log"; fail "imported layers applied though no step read them"; }
[[ $("$MASON" du | awk '/^layer snapshots / { print $3 }') -eq 0 ]] || { "$MASON" du; fail "busybox was unpacked"; }
cp "$ctx4/Dockerfile" "$WORK/Dockerfile.later"
echo 'COPY --from=compile /src.txt /again.txt' >>"$WORK/Dockerfile.later"
"$MASON" build --progress plain -t later -f "$WORK/Dockerfile.later" --target final \
  --cache-from "$REGISTRY/cache/app:buildcache" "$ctx4" >"$WORK/log" 2>&1 ||
  { cat "$WORK/log"; fail "--cache-from, a step added"; }
grep -q "applying 2 cached layer(s)" "$WORK/log" || { cat "$WORK/log"; fail "compile's layers were not applied"; }
"$MASON" save later -o "$WORK/later.tar"
fs_listing "$WORK/later.tar" >"$WORK/later.fs"
grep -q '^/again.txt ' "$WORK/later.fs" && grep -q '^/bin.out ' "$WORK/later.fs" ||
  { cat "$WORK/later.fs"; fail "the later image lacks a file"; }
export MASON_ROOT=$STORE
# The CI warm build: a fresh store, the bases in a registry, --cache-from a
# registry cache, nothing changed. The base is resolved, not pulled; only
# the layers the exported image holds are fetched; nothing is unpacked.
"$MASON" tag busybox "$REGISTRY/lib/busybox:1"
"$MASON" push -q "$REGISTRY/lib/busybox:1" >/dev/null || fail "push busybox"
ctx5=$(context ci <<DF
FROM $REGISTRY/lib/busybox:1 AS compile
COPY src.txt /src.txt
RUN tr a-z A-Z < /src.txt > /bin.out && head -c 300000 /dev/urandom > /noise
FROM scratch AS final
COPY --from=compile /bin.out /bin.out
DF
)
echo ci >"$ctx5/src.txt"
export MASON_ROOT=$WORK/ci-cold
"$MASON" build --progress plain --iidfile "$WORK/ci1" -t "$REGISTRY/ci/app:1" --push \
  --cache-to "type=registry,ref=$REGISTRY/ci/app:cache,mode=max" "$ctx5" >"$WORK/log" 2>&1 ||
  { cat "$WORK/log"; fail "CI cold build"; }
grep -q "pulling the layers of $REGISTRY/lib/busybox:1" "$WORK/log" || { cat "$WORK/log"; fail "the base was not pulled for its RUN"; }
export MASON_ROOT=$WORK/ci-warm
"$MASON" build --progress plain --iidfile "$WORK/ci2" -t "$REGISTRY/ci/app:1" --push \
  --cache-from "type=registry,ref=$REGISTRY/ci/app:cache" "$ctx5" >"$WORK/log" 2>&1 ||
  { cat "$WORK/log"; fail "CI warm build"; }
[[ $(grep -c CACHED "$WORK/log") -eq 3 ]] || { cat "$WORK/log"; fail "CI warm build: a step ran"; }
[[ $(cat "$WORK/ci2") == $(cat "$WORK/ci1") ]] || fail "CI warm build gave another image"
! grep -q "pulling the layers" "$WORK/log" || { cat "$WORK/log"; fail "CI warm build pulled the base"; }
grep -q '^image sha256:[0-9a-f]* *>=' "$WORK/log" || { cat "$WORK/log"; fail "CI warm build: a size counted compressed is not marked"; }
big=$(find "$MASON_ROOT/blobs" -type f -size +100k | wc -l)
[[ $big -eq 0 ]] || { cat "$WORK/log"; ls -lR "$MASON_ROOT/blobs"; fail "CI warm build fetched layers the image does not hold"; }
! "$MASON" images | grep -q "lib/busybox" || fail "CI warm build stored the base it did not pull"
[[ $("$MASON" du | awk '/^layer snapshots / { print $3 }') -eq 0 ]] || { "$MASON" du; fail "CI warm build unpacked something"; }
"$MASON" save "$REGISTRY/ci/app:1" -o "$WORK/ci.tar" || fail "the CI warm build's image is incomplete"
grep -q '^/bin.out ' <(fs_listing "$WORK/ci.tar") || fail "the saved image lacks /bin.out"
# A step added over the base: now the base's layers are pulled and unpacked.
echo 'RUN echo more > /more' >>"$ctx5/Dockerfile"
sed -i 's/^FROM scratch AS final$/FROM compile AS final/' "$ctx5/Dockerfile"
"$MASON" build --progress plain -t "$REGISTRY/ci/app:2" \
  --cache-from "type=registry,ref=$REGISTRY/ci/app:cache" "$ctx5" >"$WORK/log" 2>&1 ||
  { cat "$WORK/log"; fail "CI warm build, a step added"; }
grep -q "pulling the layers of $REGISTRY/lib/busybox:1" "$WORK/log" && grep -q "applying 2 cached layer(s)" "$WORK/log" ||
  { cat "$WORK/log"; fail "CI warm build, a step added: base not pulled or layers not applied"; }
[[ $("$MASON" run --rm "$REGISTRY/ci/app:2" cat /more /bin.out) == $'more\nCI' ]] || fail "the image over the pulled base"
# Sizes: layers unpacked here are counted exactly (unpacking keeps their
# size); the warm build's, never unpacked, were counted compressed (">=").
grep -q '^image sha256:[0-9a-f]* *[0-9.]*[kMG]*B$' "$WORK/log" || { cat "$WORK/log"; fail "the image size is not exact"; }
export MASON_ROOT=$STORE
# A damaged cache is not used (the step runs), never trusted.
export MASON_ROOT=$WORK/damaged
import_busybox
for blob in "$WORK"/cachedir/blobs/sha256/*; do
  # (the listing is read whole: `tar | grep -q` under pipefail fails at
  # random when grep exits before tar has written everything)
  listing=$(tar -tzf "$blob" 2>/dev/null || true)
  if grep -q bin.out <<<"$listing"; then
    python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" "$blob"
  fi
done
"$MASON" build --progress plain --target final --cache-from "type=local,src=$WORK/cachedir" "$ctx4" \
  >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "build with a damaged cache"; }
grep -q "imported cache not used" "$WORK/log" || { cat "$WORK/log"; fail "the damaged layer was not refused"; }
# (both layers holding bin.out were damaged: only COPY src.txt is a hit)
[[ $(grep -c CACHED "$WORK/log") -eq 1 ]] || { cat "$WORK/log"; fail "a damaged step was taken from the cache"; }
export MASON_ROOT=$STORE

# A context file changed while the step that reads it runs: the result is
# not recorded under the old content's key.
ctx5=$(context racy <<'DF'
FROM busybox
RUN --mount=type=bind,source=f,target=/f --mount=type=cache,id=signal,target=/signal \
    sh -c 'touch /signal/started; sleep 2; cat /f > /out'
DF
)
echo v1 >"$ctx5/f"
# Rewrite f once the step runs (it says so through its cache mount).
( for _ in $(seq 1 200); do
    ls "$STORE"/cache-mounts/*/started >/dev/null 2>&1 && break
    sleep 0.05
  done
  echo v2 >"$ctx5/f" ) &
changer=$!
"$MASON" build --progress plain -t racy "$ctx5" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "racy build"; }
wait "$changer"
grep -q "the build context changed while the step ran" "$WORK/log" || { cat "$WORK/log"; fail "no racy warning"; }
echo v1 >"$ctx5/f"
"$MASON" build --progress plain -t racy "$ctx5" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "racy rebuild"; }
[[ $("$MASON" run --rm racy cat /out) == v1 ]] || fail "v1's key gave another content"

# Concurrent builds sharing the store (and the cache) stay correct.
for n in 1 2 3; do
  c=$(context par$n <<DF
FROM busybox
COPY deps.txt /deps.txt
RUN echo build-$n >/who && cat /deps.txt >>/who
DF
)
  echo "shared" >"$c/deps.txt"
done
pids=()
for n in 1 2 3; do
  "$MASON" build -q -t par$n "$WORK/ctx-par$n" >"$WORK/par$n.log" 2>&1 & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent build failed"; done
for n in 1 2 3; do
  [[ $("$MASON" run --rm par$n cat /who | head -1) == build-$n ]] || fail "concurrent build $n gave another image"
done

# The automatic size limit: past it, the least recently used records go.
MASON_CACHE_MAX_SIZE=1 "$MASON" build --progress plain -t par1 "$WORK/ctx-par1" >"$WORK/log" 2>&1 ||
  { cat "$WORK/log"; fail "build with a tiny cache limit"; }
grep -q "pruning the build cache" "$WORK/log" || { cat "$WORK/log"; fail "no automatic prune past the limit"; }
[[ $("$MASON" run --rm par1 cat /who | head -1) == build-1 ]] || fail "the image broke with the prune"

# Prune: records, their snapshots and cache mounts go; builds start over and still work.
"$MASON" cache prune --dry-run | grep -q "Would remove" || fail "prune --dry-run"
"$MASON" cache prune --keep-storage 1GB | grep -q "Removed: 0 records" || fail "--keep-storage 1GB removed records"
"$MASON" cache prune >"$WORK/prune" || fail "cache prune"
grep -q "Total reclaimed space" "$WORK/prune" || { cat "$WORK/prune"; fail "prune report"; }
[[ -z $(ls "$STORE/cache-mounts") ]] || fail "cache mounts left after prune"
"$MASON" cache ls | grep -q "Total: 0B in 0 records" || fail "records left after prune"
build
expect_ran "${ALL_STEPS[@]}"
[[ $(listing cached) == "$(listing cached)" ]]
echo "build_cache: ok"
