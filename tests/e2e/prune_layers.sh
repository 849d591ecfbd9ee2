#!/usr/bin/env bash
# `mason prune` removes the unpacked layers of images that are gone (after
# `mason rmi`), keeps those of images still there and those build cache
# records sit on, and leaves layers alone while a container runs (which
# does not hold up `mason cache prune`).
source "$(dirname "$0")/lib.sh"
import_busybox

# A second image with a layer of its own (busybox plus one file).
cp "$(busybox_tar)" "$WORK/other.tar"
mkdir -p "$WORK/extra" && echo extra >"$WORK/extra/extra.txt"
tar -rf "$WORK/other.tar" -C "$WORK/extra" extra.txt
"$MASON" import "$WORK/other.tar" other:1 >/dev/null
[[ $("$MASON" run --rm other:1 cat /extra.txt) == extra ]] || fail "other image"

ctx=$(context layers <<'DF'
FROM busybox
RUN echo built >/built
DF
)
"$MASON" build -q -t built "$ctx" >/dev/null || fail "build"
layers() { find "$STORE/snapshots" -maxdepth 1 -mindepth 1 | wc -l; }
before=$(layers)
# `mason du` counts them: two image layers (busybox, other:1), build snapshots.
du_count() { "$MASON" du | awk -v k="$1" '$0 ~ "^"k" " { print $3 }'; }
[[ $(du_count "layer snapshots") -eq 2 ]] || { "$MASON" du; fail "du: layer snapshots"; }
[[ $(du_count "build snapshots") -ge 1 ]] || { "$MASON" du; fail "du: build snapshots"; }

# Every image is there: no layer goes.
"$MASON" prune >"$WORK/p1" || fail "prune"
! grep -q "layer snapshot" "$WORK/p1" || { cat "$WORK/p1"; fail "a layer of a present image was pruned"; }

# While a container runs, layers are left alone.
"$MASON" run --rm busybox sh -c 'echo started; sleep 4' >"$WORK/running" &
runner=$!
for _ in $(seq 1 200); do grep -q started "$WORK/running" && break; sleep 0.1; done
grep -q started "$WORK/running" || fail "the container did not start"
"$MASON" rmi other:1 >/dev/null
"$MASON" prune >"$WORK/p2" || fail "prune while running"
grep -q "skipped (a build or a container is running)" "$WORK/p2" || { cat "$WORK/p2"; fail "prune did not wait for the container"; }
# ... while the build cache stays free to prune (a container never holds it up).
timeout 20 "$MASON" cache prune --dry-run >/dev/null || fail "cache prune waited for a running container"
kill -0 $runner 2>/dev/null && wait $runner

# other:1 is gone: its layer goes, busybox's stays (an image and a cache record use it).
"$MASON" prune --dry-run >"$WORK/p3" || fail "prune --dry-run"
[[ $(grep -c "Would delete layer snapshot: sha256:" "$WORK/p3") -eq 1 ]] || { cat "$WORK/p3"; fail "dry run"; }
[[ $(layers) -eq $before ]] || fail "a dry run removed something"
"$MASON" prune >"$WORK/p4" || fail "prune after rmi"
[[ $(grep -c "Deleted layer snapshot: sha256:" "$WORK/p4") -eq 1 ]] || { cat "$WORK/p4"; fail "the layer of the removed image stayed"; }
[[ $(layers) -lt $before ]] || fail "no snapshot directory went"
[[ $(du_count "layer snapshots") -eq 1 ]] || { "$MASON" du; fail "du after prune: layer snapshots"; }
"$MASON" prune >"$WORK/p5" || fail "second prune"
! grep -q "layer snapshot" "$WORK/p5" || { cat "$WORK/p5"; fail "a second prune removed more"; }

# What stays still works: the base runs, the build is answered from the cache.
[[ $("$MASON" run --rm built cat /built) == built ]] || fail "built image after prune"
"$MASON" build --progress plain -t built "$ctx" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "rebuild"; }
grep -q CACHED "$WORK/log" || { cat "$WORK/log"; fail "the rebuild lost its cache"; }

# Without the image and the cache, busybox's layer goes too; a later run unpacks it again.
"$MASON" cache prune >/dev/null || fail "cache prune"
"$MASON" rmi built busybox:latest >/dev/null
"$MASON" prune >"$WORK/p6" || fail "prune everything"
grep -q "Deleted layer snapshot: sha256:" "$WORK/p6" || { cat "$WORK/p6"; fail "busybox's layer stayed"; }
import_busybox
[[ $("$MASON" run --rm busybox echo again) == again ]] || fail "run after the layer was pruned"
echo "prune_layers: ok"
