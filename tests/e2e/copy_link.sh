#!/usr/bin/env bash
# COPY/ADD --link as BuildKit builds it: the files are copied onto an empty
# root and that layer is put over the stage. The layer holds the parent
# directories the copy made (owned by --chown's ids, mode 0755), which
# replace the stage's own (also a symlink on the way); it depends on
# nothing below it, so a changed base reuses it (same blob) without
# copying again, locally and through --cache-to/--cache-from. --chmod
# makes it a plain COPY, as BuildKit. A --chown name is an error (BuildKit
# fails too: the empty root has no /etc/passwd). The expected entries were
# read from BuildKit v0.24's images of the same Dockerfile.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$(context link <<'DF'
FROM busybox AS build
RUN mkdir -p /out/bin && echo bin > /out/bin/app && chmod 755 /out/bin/app
FROM busybox
RUN mkdir -p /app /usr/local /opt && chown 1000:1000 /app && chmod 700 /app && ln -s /opt /usr/local/lib
COPY --link --chown=123:456 a.txt /app/
COPY --link --from=build /out/bin/app /usr/local/lib/app
COPY --link b/ /deep/er/
COPY --link --chmod=600 a.txt /chm/
RUN ls -ldn /app /usr/local/lib > /listing
DF
)
echo hello >"$ctx/a.txt"
mkdir -p "$ctx/b/inner" && echo bee >"$ctx/b/inner/f"

# layer ARCHIVE N WHAT: of layer N (an index into the manifest's layers,
# -1 the last) of an OCI archive, WHAT is "entries" (one "path type mode
# uid:gid" line per entry, sorted), "digest", or "cat PATH" (a file's text).
layer() {
  python3 - "$@" <<'PY'
import gzip, io, json, sys, tarfile
t = tarfile.open(sys.argv[1])
blob = lambda d: t.extractfile("blobs/" + d.replace(":", "/")).read()
m = json.loads(blob(json.load(t.extractfile("index.json"))["manifests"][0]["digest"]))
desc = m["layers"][int(sys.argv[2])]
if sys.argv[3] == "digest":
    sys.exit(print(desc["digest"]))
data = blob(desc["digest"])
tar = tarfile.open(fileobj=io.BytesIO(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data))
if sys.argv[3] == "cat":
    sys.exit(print(tar.extractfile(sys.argv[4]).read().decode(), end=""))
kinds = {tarfile.DIRTYPE: "d", tarfile.SYMTYPE: "l", tarfile.REGTYPE: "f"}
for e in sorted(tar.getmembers(), key=lambda e: e.name):
    print(e.name.strip("/"), kinds.get(e.type, "?"), oct(e.mode)[2:], f"{e.uid}:{e.gid}")
PY
}
layer_digest() { layer "$1" "$2" digest; }
build() { # build OUT [flags...]
  local out=$1
  shift
  "$MASON" build --progress plain -o "type=oci,dest=$out" "$@" "$ctx" >"$WORK/log" 2>&1 ||
    { cat "$WORK/log"; fail "build $*"; }
}
expect_layer() { # expect_layer ARCHIVE N (expected entries on stdin)
  diff <(layer "$1" "$2" entries) - || fail "layer $2 of $1 differs from BuildKit's (above)"
}

build "$WORK/one.tar"
# Layers: busybox, RUN, then one per --link step: each exactly the copy
# onto an empty root, parents included, owned by --chown's ids.
expect_layer "$WORK/one.tar" 2 <<'EOF'
app d 755 123:456
app/a.txt f 644 123:456
EOF
expect_layer "$WORK/one.tar" 3 <<'EOF'
usr d 755 0:0
usr/local d 755 0:0
usr/local/lib d 755 0:0
usr/local/lib/app f 755 0:0
EOF
expect_layer "$WORK/one.tar" 4 <<'EOF'
deep d 755 0:0
deep/er d 755 0:0
deep/er/inner d 755 0:0
deep/er/inner/f f 644 0:0
EOF
# The stage's own /app (1000:1000, 0700) and the /usr/local/lib symlink
# are replaced by the layer's, for the RUN after them as in the image.
fs_listing "$WORK/one.tar" >"$WORK/one.fs"
grep -q '^/app dir 0755 123:456 ' "$WORK/one.fs" && grep -q '^/usr/local/lib dir ' "$WORK/one.fs" ||
  { cat "$WORK/one.fs"; fail "the --link layer's directories do not replace the stage's"; }
listing=$(layer "$WORK/one.tar" -1 cat listing)
grep -Eq '^drwxr-xr-x +[0-9]+ +123 +456 .* /app$' <<<"$listing" &&
  grep -Eq '^drwxr-xr-x +[0-9]+ +0 +0 .* /usr/local/lib$' <<<"$listing" ||
  { echo "$listing"; fail "the RUN after the --link steps saw another file system"; }

# Unchanged: everything cached. A changed base step: the --link layers are
# reused as they are (same blobs), only put over the new parent; the
# --chmod copy (a plain COPY) runs again.
build "$WORK/two.tar"
[[ $(grep -c '^#[0-9]* CACHED' "$WORK/log") -eq 7 ]] || { cat "$WORK/log"; fail "unchanged rebuild"; }
sed -i 's|ln -s /opt /usr/local/lib$|ln -s /opt /usr/local/lib \&\& touch /new|' "$ctx/Dockerfile"
build "$WORK/three.tar"
[[ $(grep -c 'the --link layer is cached' "$WORK/log") -eq 3 ]] || { cat "$WORK/log"; fail "the --link layers were not reused"; }
grep -A2 'COPY --link --chmod=600' "$WORK/log" | grep -q 'cache miss: a previous step changed' ||
  { cat "$WORK/log"; fail "--link with --chmod is a plain COPY (BuildKit): it must run again"; }
for n in 2 3 4; do
  [[ $(layer_digest "$WORK/one.tar" $n) == $(layer_digest "$WORK/three.tar" $n) ]] ||
    fail "--link layer $n changed with the base"
done
grep -q '^/new ' <(fs_listing "$WORK/three.tar") || fail "the new base step is missing"

# Through an exported cache: a fresh store over a changed base reuses them.
build "$WORK/four.tar" --cache-to "type=local,dest=$WORK/cache,mode=max"
export MASON_ROOT=$WORK/fresh
import_busybox
sed -i 's|touch /new$|touch /newer|' "$ctx/Dockerfile"
build "$WORK/five.tar" --cache-from "type=local,src=$WORK/cache"
[[ $(grep -c 'the --link layer is cached' "$WORK/log") -eq 3 ]] ||
  { cat "$WORK/log"; fail "the imported --link layers were not reused over a changed base"; }
for n in 2 3 4; do
  [[ $(layer_digest "$WORK/one.tar" $n) == $(layer_digest "$WORK/five.tar" $n) ]] ||
    fail "imported --link layer $n changed"
done
grep -q '^/app/a.txt ' <(fs_listing "$WORK/five.tar") || fail "the imported --link layer's files are missing"

# Nothing changed, a fresh store: every step from the imported cache, no
# layer applied, the same image.
export MASON_ROOT=$WORK/fresh2
import_busybox
sed -i 's|touch /newer$|touch /new|' "$ctx/Dockerfile"
build "$WORK/six.tar" --cache-from "type=local,src=$WORK/cache"
! grep -q 'applying' "$WORK/log" || { cat "$WORK/log"; fail "layers applied though no step ran"; }
diff <(fs_listing "$WORK/four.tar") <(fs_listing "$WORK/six.tar") || fail "the imported build differs"
for n in 2 3 4 5 6; do
  [[ $(layer_digest "$WORK/four.tar" $n) == $(layer_digest "$WORK/six.tar" $n) ]] || fail "layer $n differs"
done

# A --chown name: a clear error at the line (BuildKit fails too).
bad=$(context bad <<'DF'
FROM busybox
COPY --link --chown=nobody a.txt /x/
DF
)
echo x >"$bad/a.txt"
if "$MASON" build --progress plain "$bad" >"$WORK/log" 2>&1; then fail "--link --chown=nobody built"; fi
grep -q 'Dockerfile:2: --chown=nobody with --link: .*numeric ids' "$WORK/log" || { cat "$WORK/log"; fail "the --chown name error"; }
echo "copy_link: ok"
