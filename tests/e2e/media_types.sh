#!/usr/bin/env bash
# One family of media types per manifest, as BuildKit's exporters write
# them: a build FROM a base that came with Docker media types (pushed by
# dockerd) stores and pushes a Docker manifest by default (BuildKit's image
# exporter: oci-mediatypes=false), an OCI one with oci-mediatypes=true, and
# an OCI layout (-o type=oci, mason save --format oci-*) with OCI types for
# every layer, inherited ones included, which umoci and oci-image-tool
# accept; oci-mediatypes=false gives an OCI layout of Docker types.
source "$(dirname "$0")/lib.sh"
need skopeo; need umoci; need oci-image-tool
start_registry
start_dockerd
import_busybox
"$MASON" save busybox -o "$WORK/busybox.tar"
$DOCKER load -i "$WORK/busybox.tar" >/dev/null
$DOCKER tag busybox "$REGISTRY/e2e/dbase:1"
$DOCKER push -q "$REGISTRY/e2e/dbase:1" >/dev/null || fail "docker push"

# types FILE: "manifest config layer..." media types of a manifest (JSON).
types() {
  python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(" ".join([m.get("mediaType", "-"), m["config"]["mediaType"]] + [l["mediaType"] for l in m["layers"]]))' "$1"
}
# family TYPES: oci, docker, or mixed.
family() {
  local oci=0 docker=0 t
  for t in $1; do
    case $t in
      application/vnd.oci.*) oci=1 ;;
      application/vnd.docker.*) docker=1 ;;
      *) echo "unknown:$t"; return ;;
    esac
  done
  if ((oci && docker)); then echo mixed; elif ((oci)); then echo oci; else echo docker; fi
}
# registry_family REF: the family of a pushed manifest.
registry_family() {
  skopeo inspect --tls-verify=false --raw "docker://$1" >"$WORK/raw.json" || fail "skopeo inspect $1"
  family "$(types "$WORK/raw.json")"
}
# layout_families DIR: the family of every manifest in an OCI layout.
layout_families() {
  local d
  for d in $(python3 -c 'import json,sys; [print(m["digest"].split(":")[1]) for m in json.load(open(sys.argv[1]))["manifests"]]' "$1/index.json"); do
    family "$(types "$1/blobs/sha256/$d")"
  done
}

[[ $(registry_family "$REGISTRY/e2e/dbase:1") == docker ]] || fail "dockerd did not push Docker media types"
"$MASON" pull "$REGISTRY/e2e/dbase:1" >/dev/null

ctx=$(context build <<DF
FROM $REGISTRY/e2e/dbase:1
RUN echo built >/built
DF
)

# The image exporter's default: Docker types, inherited and own layers alike.
"$MASON" build --progress plain -o "type=registry,name=$REGISTRY/e2e/out:docker" "$ctx" >/dev/null 2>"$WORK/err" ||
  { cat "$WORK/err"; fail "build with type=registry"; }
[[ $(registry_family "$REGISTRY/e2e/out:docker") == docker ]] || { types "$WORK/raw.json"; fail "pushed manifest is not all Docker types"; }
"$MASON" build --progress plain --push -t "$REGISTRY/e2e/out:push" "$ctx" >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; fail "--push"; }
[[ $(registry_family "$REGISTRY/e2e/out:push") == docker ]] || { types "$WORK/raw.json"; fail "--push: not all Docker types"; }
$DOCKER pull -q "$REGISTRY/e2e/out:push" >/dev/null || fail "docker pull of the Docker-typed image"

# oci-mediatypes=true: all OCI.
"$MASON" build --progress plain -o "type=image,name=$REGISTRY/e2e/out:oci,push=true,oci-mediatypes=true" "$ctx" >/dev/null 2>"$WORK/err" ||
  { cat "$WORK/err"; fail "build with oci-mediatypes=true"; }
[[ $(registry_family "$REGISTRY/e2e/out:oci") == oci ]] || { types "$WORK/raw.json"; fail "oci-mediatypes=true: not all OCI types"; }

# -o type=oci: an OCI layout of OCI types, read by umoci and oci-image-tool.
"$MASON" build --progress plain -t e2e/built:1 -o "type=oci,dest=$WORK/out.tar,name=e2e/built:1" "$ctx" >/dev/null 2>"$WORK/err" ||
  { cat "$WORK/err"; fail "-o type=oci"; }
mkdir "$WORK/oci" && tar -C "$WORK/oci" -xf "$WORK/out.tar"
[[ $(layout_families "$WORK/oci") == oci ]] || fail "-o type=oci: $(layout_families "$WORK/oci")"
umoci unpack --image "$WORK/oci:1" "$WORK/bundle1" >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; fail "umoci refuses -o type=oci"; }
[[ $(cat "$WORK/bundle1/rootfs/built") == built ]] || fail "umoci's tree lacks the built file"
oci-image-tool validate --type image --ref name=1 "$WORK/oci" >/dev/null 2>&1 || {
  oci-image-tool validate --type image --ref name=1 "$WORK/oci"; fail "oci-image-tool validate"; }

# oci-mediatypes=false in an OCI layout: Docker types, consistently.
"$MASON" build --progress plain -o "type=oci,dest=$WORK/out-d.tar,oci-mediatypes=false" "$ctx" >/dev/null 2>"$WORK/err" ||
  { cat "$WORK/err"; fail "-o type=oci,oci-mediatypes=false"; }
mkdir "$WORK/oci-d" && tar -C "$WORK/oci-d" -xf "$WORK/out-d.tar"
[[ $(layout_families "$WORK/oci-d") == docker ]] || fail "oci-mediatypes=false: $(layout_families "$WORK/oci-d")"

# mason save of the stored (Docker-typed) image into OCI layouts converts it.
"$MASON" save e2e/built:1 --format oci-dir -o "$WORK/saved"
[[ $(layout_families "$WORK/saved") == oci ]] || fail "save --format oci-dir: $(layout_families "$WORK/saved")"
umoci unpack --image "$WORK/saved:1" "$WORK/bundle2" >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; fail "umoci refuses mason save"; }
skopeo inspect "oci:$WORK/saved:1" >/dev/null || fail "skopeo reads the saved layout"
# ... and loads back with the same image ID.
want=$("$MASON" inspect e2e/built:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
"$MASON" save e2e/built:1 --format oci-archive -o "$WORK/saved.tar"
got=$(MASON_ROOT=$WORK/store2 "$MASON" load -i "$WORK/saved.tar" >/dev/null &&
  MASON_ROOT=$WORK/store2 "$MASON" inspect e2e/built:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
[[ $got == "$want" ]] || fail "image ID changed through the converted layout ($want -> $got)"

# Bad values are refused with the key named.
if "$MASON" build -o "type=oci,dest=$WORK/x.tar,oci-mediatypes=maybe" "$ctx" 2>"$WORK/err"; then fail "oci-mediatypes=maybe accepted"; fi
grep -q "oci-mediatypes" "$WORK/err" || { cat "$WORK/err"; fail "error does not name oci-mediatypes"; }
echo "media_types: ok"
