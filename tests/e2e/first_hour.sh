#!/usr/bin/env bash
# What a new user sees, nothing silent: a store where overlayfs cannot be
# used falls back to copies and says so, with the reason and the fix, at
# the top of every build and in `mason du` (and not when copies were
# asked for); a failing RUN's output tail is printed once; layer sizes are
# uncompressed in both `images` and `history`, and kept in the store's
# metadata so that listing images decompresses nothing again; a bad
# MASON_CACHE_MAX_SIZE or SOURCE_DATE_EPOCH is an error naming it.
source "$(dirname "$0")/lib.sh"
import_busybox
ctx=$(context hello <<'DF'
FROM busybox
RUN echo hello >/hello
DF
)

# An overlay mount cannot hold an overlayfs upper directory: a store there
# uses copies.
mkdir -p "$WORK/ovl/l" "$WORK/ovl/u" "$WORK/ovl/w" "$WORK/ovl/m"
mount -t overlay overlay -o "lowerdir=$WORK/ovl/l,upperdir=$WORK/ovl/u,workdir=$WORK/ovl/w" "$WORK/ovl/m"
trap 'umount -l "$WORK/ovl/m" 2>/dev/null || true; cleanup' EXIT
ostore=$WORK/ovl/m/store
"$MASON" --root "$ostore" import "$(busybox_tar)" busybox:latest >/dev/null
for i in 1 2; do
  "$MASON" --root "$ostore" build --progress plain -t hello "$ctx" >/dev/null 2>"$WORK/err$i" ||
    { cat "$WORK/err$i"; fail "build on an overlay store"; }
  [[ $(grep -c "copy snapshotter: overlayfs unusable" "$WORK/err$i") -eq 1 ]] ||
    { cat "$WORK/err$i"; fail "build $i does not say (once) why it uses copies"; }
  grep -q "put the store (--root or MASON_ROOT) on a file system" "$WORK/err$i" || fail "no fix suggested"
done
"$MASON" --root "$ostore" du >"$WORK/du"
grep -q "^snapshotter: copy snapshotter: overlayfs unusable" "$WORK/du" || { cat "$WORK/du"; fail "du does not name the fallback"; }
# Copies asked for: no warning.
"$MASON" --root "$ostore" build --progress plain --snapshotter copy -t hello "$ctx" >/dev/null 2>"$WORK/err3"
grep -q "overlayfs unusable" "$WORK/err3" && fail "warned although copies were asked for"
# A store where overlayfs works says so.
"$MASON" build --progress plain -t hello "$ctx" >/dev/null 2>"$WORK/err4"
grep -q "snapshotter" "$WORK/err4" && { cat "$WORK/err4"; fail "warned on a store that can use overlayfs"; }
[[ $("$MASON" du | tail -1) == "snapshotter: overlay" ]] || fail "du: $("$MASON" du | tail -1)"

# A failing RUN: the error line on the step, the output tail once, in the
# final error with the Dockerfile line.
fctx=$(context fails <<'DF'
FROM busybox
RUN echo the-last-words; exit 3
DF
)
if "$MASON" build --progress plain "$fctx" >/dev/null 2>"$WORK/ferr"; then fail "a failing RUN succeeded"; fi
grep -q '^#[0-9]* ERROR: process "/bin/sh -c echo the-last-words; exit 3" did not complete successfully: exit code: 3$' "$WORK/ferr" ||
  { cat "$WORK/ferr"; fail "no ERROR line on the step"; }
grep -q "^mason: Dockerfile:2: process" "$WORK/ferr" || { cat "$WORK/ferr"; fail "the final error does not name the line"; }
[[ $(grep -c "last output:" "$WORK/ferr") -eq 1 ]] || { cat "$WORK/ferr"; fail "the output tail is printed more than once"; }

# Settings read from the environment are checked, not silently ignored.
if MASON_CACHE_MAX_SIZE=lots "$MASON" build --progress plain "$ctx" >/dev/null 2>"$WORK/env-err"; then
  fail "MASON_CACHE_MAX_SIZE=lots accepted"
fi
grep -q "MASON_CACHE_MAX_SIZE" "$WORK/env-err" || { cat "$WORK/env-err"; fail "error does not name MASON_CACHE_MAX_SIZE"; }
if SOURCE_DATE_EPOCH=yesterday "$MASON" build --progress plain "$ctx" >/dev/null 2>"$WORK/env-err"; then
  fail "SOURCE_DATE_EPOCH=yesterday accepted"
fi
grep -q "SOURCE_DATE_EPOCH" "$WORK/env-err" || { cat "$WORK/env-err"; fail "error does not name SOURCE_DATE_EPOCH"; }

# Sizes: uncompressed in images and history alike, kept in the metadata.
size_images=$("$MASON" images | awk '$1 == "busybox" { print $NF }')
size_history=$("$MASON" history busybox | awk 'NR == 2 { print $(NF-3) }')
[[ -n $size_images && $size_images == "$size_history" ]] ||
  { "$MASON" images; "$MASON" history busybox; fail "images ($size_images) and history ($size_history) disagree"; }
python3 - "$STORE/metadata.db" <<'PY' || fail "layer blobs without a kept uncompressed size"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT digest, unpacked_size FROM blobs WHERE media_type LIKE '%layer%'").fetchall()
assert rows, "no layer blobs"
missing = [d for d, s in rows if s is None]
assert not missing, missing
PY
echo "first_hour: ok"
