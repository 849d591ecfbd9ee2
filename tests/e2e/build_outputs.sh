#!/usr/bin/env bash
# Outputs: type=local and type=tar give the final stage's file system;
# type=oci is a valid OCI layout (skopeo, umoci, oci-image-tool); --iidfile;
# type=docker loads into dockerd and runs; the copy snapshotter gives the
# same file system as overlay.
source "$(dirname "$0")/lib.sh"
need skopeo; need umoci
import_busybox

ctx=$(context out <<'DF'
FROM busybox AS build
RUN mkdir -p /out/sub && echo one >/out/a && echo two >/out/sub/b && ln -s a /out/link && chmod 640 /out/a
FROM scratch
COPY --from=build /out/ /
CMD ["/a"]
DF
)
"$MASON" build --progress plain -o type=local,dest="$WORK/local" "$ctx" 2>/dev/null || fail "type=local"
[[ $(cat "$WORK/local/sub/b") == two && $(readlink "$WORK/local/link") == a ]] || fail "local output content"
[[ $(stat -c %a "$WORK/local/a") == 640 ]] || fail "local output mode"
"$MASON" build --progress plain -o type=tar,dest="$WORK/fs.tar" "$ctx" 2>/dev/null || fail "type=tar"
[[ $(tar -tf "$WORK/fs.tar" | sort | tr '\n' ' ') == "a link sub/ sub/b " ]] || fail "tar output: $(tar -tf "$WORK/fs.tar")"

"$MASON" build --progress plain --iidfile "$WORK/iid" -o type=oci,dest="$WORK/oci.tar",name=e2e/out:1 "$ctx" 2>/dev/null || fail "type=oci"
[[ $(cat "$WORK/iid") == sha256:* ]] || fail "iidfile"
mkdir "$WORK/layout" && tar -C "$WORK/layout" -xf "$WORK/oci.tar"
skopeo inspect "oci:$WORK/layout" >/dev/null || fail "skopeo inspect"
umoci unpack --image "$WORK/layout:1" "$WORK/bundle" >/dev/null || fail "umoci unpack"
[[ $(cat "$WORK/bundle/rootfs/sub/b") == two ]] || fail "umoci content"

"$MASON" build --progress plain --snapshotter copy -o type=docker,dest="$WORK/copy.tar",name=e2e/out:copy "$ctx" 2>/dev/null || fail "copy snapshotter"
"$MASON" build --progress plain --snapshotter overlay -o type=docker,dest="$WORK/ovl.tar",name=e2e/out:ovl "$ctx" 2>/dev/null || fail "overlay snapshotter"
diff <(fs_listing "$WORK/copy.tar") <(fs_listing "$WORK/ovl.tar") || fail "copy and overlay snapshotters differ"

# Layers are gzipped at level 1 by default (gzip's XFL byte: 4 = fastest);
# compression-level=9 gives XFL 2 (slowest) for layers made anew.
xfl() {
  local manifest
  manifest=$("$MASON" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])')
  python3 - "$STORE/blobs/sha256/${manifest#sha256:}" "$STORE" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for layer in m["layers"]:
    with open(f"{sys.argv[2]}/blobs/sha256/{layer['digest'].split(':')[1]}", "rb") as f:
        head = f.read(10)
    assert head[:2] == b"\x1f\x8b", layer
    print(head[8], end=" ")
PY
}
"$MASON" build -q -t e2e/gz "$ctx" >/dev/null || fail "default compression build"
[[ $(xfl e2e/gz) == "4 " ]] || fail "default layer compression is not level 1: XFL $(xfl e2e/gz)"
"$MASON" build -q --no-cache -o type=image,name=e2e/gz9,compression-level=9 "$ctx" >/dev/null || fail "compression-level=9 build"
[[ $(xfl e2e/gz9) == "2 " ]] || fail "compression-level=9 layer: XFL $(xfl e2e/gz9)"

start_dockerd
$DOCKER load -i "$WORK/ovl.tar" >/dev/null || fail "docker load of type=docker output"
$DOCKER image inspect e2e/out:ovl >/dev/null || fail "docker does not know e2e/out:ovl"
echo "build_outputs: ok"
