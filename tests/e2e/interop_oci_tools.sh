#!/usr/bin/env bash
# mason's OCI layout read by the ecosystem's tools: skopeo inspect, umoci
# unpack (the unpacked tree equals the source tree: paths, types, modes,
# owners, sizes, link targets) and oci-image-tool validate; an oci-archive
# loads back into an empty store with the same digests.
source "$(dirname "$0")/lib.sh"
need skopeo; need umoci; need oci-image-tool
tarball=$(busybox_tar)
"$MASON" import "$tarball" e2e/oci:v1 --change 'CMD ["sh"]' >/dev/null
digest=$("$MASON" inspect e2e/oci:v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])')

"$MASON" save e2e/oci:v1 --format oci-dir -o "$WORK/layout"
[[ $(skopeo inspect "oci:$WORK/layout:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])') == "$digest" ]] ||
  fail "skopeo sees another manifest digest"
oci-image-tool validate --type image --ref name=v1 "$WORK/layout" >/dev/null 2>&1 || {
  oci-image-tool validate --type image --ref name=v1 "$WORK/layout"; fail "oci-image-tool validate"; }

umoci unpack --image "$WORK/layout:v1" "$WORK/bundle" >/dev/null
mkdir "$WORK/src" && tar -C "$WORK/src" -xpf "$tarball"
listing() { (cd "$1" && find . -mindepth 1 -printf '%p %y %m %U:%G %s %l\n' | sort); }
# Directory sizes are file-system details, not image content.
norm() { sed -E 's/^(.* d [0-7]+ [0-9]+:[0-9]+) [0-9]+ /\1 - /'; }
diff <(listing "$WORK/src" | norm) <(listing "$WORK/bundle/rootfs" | norm) || fail "umoci's tree differs from the source tree"

"$MASON" save e2e/oci:v1 --format oci-archive -o "$WORK/oci.tar"
MASON_ROOT=$WORK/store2 "$MASON" load -i "$WORK/oci.tar" | grep -q "Loaded image: e2e/oci:v1" || fail "oci-archive did not load by name"
[[ $(MASON_ROOT=$WORK/store2 "$MASON" inspect e2e/oci:v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Digest"])') == "$digest" ]] ||
  fail "digest changed through oci-archive"
echo "interop_oci_tools: ok"
