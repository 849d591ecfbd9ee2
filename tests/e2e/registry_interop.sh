#!/usr/bin/env bash
# mason and a real registry (Debian's docker-registry on loopback): what
# mason pushes, skopeo and dockerd pull with the same digests; what dockerd
# pushes, mason pulls unchanged; a build whose FROM is only in the registry
# succeeds from an empty store, and --push / type=registry publish.
source "$(dirname "$0")/lib.sh"
need skopeo
start_registry
import_busybox

# mason push -> skopeo and dockerd see the same manifest digest.
"$MASON" tag busybox "$REGISTRY/e2e/busybox:1"
out=$("$MASON" push "$REGISTRY/e2e/busybox:1") || fail "mason push"
digest=$(echo "$out" | sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' | tail -1)
[[ $digest == sha256:* ]] || fail "no digest in push output: $out"
[[ $(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/e2e/busybox:1") == "$digest" ]] ||
  fail "skopeo sees another digest"
"$MASON" inspect "$REGISTRY/e2e/busybox:1" | python3 -c "
import json,sys; i=json.load(sys.stdin)[0]
assert '$REGISTRY/e2e/busybox@$digest' in i['RepoDigests'], i['RepoDigests']" || fail "RepoDigests after push"
"$MASON" push -q "$REGISTRY/e2e/busybox:1" 2>&1 | grep -q . && true # second push: blobs exist
start_dockerd
$DOCKER pull -q "$REGISTRY/e2e/busybox:1" >/dev/null || fail "docker pull of what mason pushed"
[[ $($DOCKER image inspect "$REGISTRY/e2e/busybox:1" --format '{{index .RepoDigests 0}}') == *"$digest" ]] ||
  fail "dockerd sees another digest"
[[ $($DOCKER run --rm --network none "$REGISTRY/e2e/busybox:1" echo ok) == ok ]] || fail "pulled image does not run"

# dockerd push -> mason pull keeps the digest and the image ID.
$DOCKER tag "$REGISTRY/e2e/busybox:1" "$REGISTRY/e2e/fromdocker:2"
$DOCKER push -q "$REGISTRY/e2e/fromdocker:2" >/dev/null || fail "docker push"
want=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/e2e/fromdocker:2")
export MASON_ROOT=$WORK/store2
"$MASON" pull "$REGISTRY/e2e/fromdocker:2" >/dev/null || fail "mason pull"
"$MASON" inspect "$REGISTRY/e2e/fromdocker:2" | python3 -c "
import json,sys; i=json.load(sys.stdin)[0]
assert i['Digest'] == '$want', i['Digest']
assert i['RepoDigests'] == ['$REGISTRY/e2e/fromdocker@$want'], i['RepoDigests']" || fail "mason pull changed the digest (or RepoDigests)"
[[ $("$MASON" run --rm "$REGISTRY/e2e/fromdocker:2" echo pulled) == pulled ]] || fail "pulled image does not run"

# A build from an empty store: FROM and COPY --from pull on demand; --push.
export MASON_ROOT=$WORK/store3
ctx=$(context pull <<DF
FROM $REGISTRY/e2e/busybox:1 AS b
RUN echo built >/built
FROM scratch
COPY --from=b /built /built
COPY --from=$REGISTRY/e2e/fromdocker:2 /bin/busybox /busybox
DF
)
"$MASON" build --progress plain --push -t "$REGISTRY/e2e/built:3" "$ctx" 2>"$WORK/err" ||
  { cat "$WORK/err"; fail "build from an empty store with --push"; }
skopeo inspect --tls-verify=false "docker://$REGISTRY/e2e/built:3" >/dev/null || fail "--push did not publish"
"$MASON" build --progress plain -o "type=registry,name=$REGISTRY/e2e/built:4" "$ctx" 2>"$WORK/err" || { cat "$WORK/err"; fail "type=registry"; }
skopeo inspect --tls-verify=false "docker://$REGISTRY/e2e/built:4" >/dev/null || fail "type=registry did not publish"

# Errors name the reference and the registry.
set +e
"$MASON" pull "$REGISTRY/e2e/nothere:1" 2>"$WORK/err"; rc=$?
set -e
[[ $rc -ne 0 ]] && grep -q "$REGISTRY" "$WORK/err" && grep -q "nothere" "$WORK/err" || { cat "$WORK/err"; fail "404 error text"; }
echo "registry_interop: ok"
