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

start_dockerd
$DOCKER load -i "$WORK/ovl.tar" >/dev/null || fail "docker load of type=docker output"
$DOCKER image inspect e2e/out:ovl >/dev/null || fail "docker does not know e2e/out:ovl"
echo "build_outputs: ok"
