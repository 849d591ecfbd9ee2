#!/usr/bin/env bash
# mason <-> dockerd: an imported busybox image saved by mason loads and runs
# under dockerd with the same image ID; docker save -> mason load -> mason
# save -> docker load keeps the image ID.
source "$(dirname "$0")/lib.sh"
start_dockerd
tarball=$(busybox_tar)

id=$("$MASON" import "$tarball" e2e/busybox:1 --change 'CMD ["sh"]' --change 'ENV E2E=yes')
"$MASON" save e2e/busybox:1 -o "$WORK/m.tar"
$DOCKER load -i "$WORK/m.tar" | grep -q "Loaded image: e2e/busybox:1" || fail "docker load did not name the image"
[[ $($DOCKER image inspect e2e/busybox:1 --format '{{.Id}}') == "$id" ]] || fail "image ID changed through docker load"
out=$($DOCKER run --rm --network none e2e/busybox:1 sh -c 'echo "$E2E from $(uname -s)"')
[[ $out == "yes from Linux" ]] || fail "container output: $out"

# The other way round, with an image docker made itself.
$DOCKER import --change 'CMD ["/bin/sh"]' --change 'EXPOSE 8080' "$tarball" e2e/fromdocker:2 >/dev/null
want=$($DOCKER image inspect e2e/fromdocker:2 --format '{{.Id}}')
$DOCKER save e2e/fromdocker:2 -o "$WORK/d.tar"
[[ $("$MASON" du | awk '/^layer snapshots / { print $3 }') -eq 0 ]] || fail "import unpacked layers"
"$MASON" load -i "$WORK/d.tar" | grep -q "Loaded image: e2e/fromdocker:2" || fail "mason load did not name the image"
# As docker load, mason load unpacks the layers: the first build on the
# image starts from them.
[[ $("$MASON" du | awk '/^layer snapshots / { print $3 }') -eq 1 ]] || { "$MASON" du; fail "load did not unpack"; }
[[ $("$MASON" inspect e2e/fromdocker:2 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])') == "$want" ]] ||
  fail "mason changed the image ID on load"
"$MASON" save e2e/fromdocker:2 -o "$WORK/d2.tar"
$DOCKER rmi e2e/fromdocker:2 >/dev/null
$DOCKER load -i "$WORK/d2.tar" >/dev/null
[[ $($DOCKER image inspect e2e/fromdocker:2 --format '{{.Id}}') == "$want" ]] || fail "image ID changed through the round trip"
[[ $($DOCKER run --rm --network none e2e/fromdocker:2 echo round-trip) == round-trip ]] || fail "round-tripped image does not run"
echo "interop_docker: ok"
