#!/usr/bin/env bash
# The README's first Quick start command: install what mason needs (no
# test tools), build the mason binary alone, and run its main job: the
# seed's Go multi-stage example. About 10 minutes on 2 cores the first
# time (compiling mason is most of it), seconds when run again.
#
#  1. base images made offline from Debian packages: debian:bookworm with
#     debootstrap (about a minute, cached in .cache/base-images), then
#     golang:1.21 built by mason itself from examples/bases/
#  2. `mason build` of examples/go: Go compiled in the fat stage, the binary
#     alone copied into a scratch image
#  3. `mason run` of the result, and the size table: what stayed on the
#     construction site, what went into the house
#
# The store is $MASON_ROOT (default ~/.local/share/mason).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh mason
m=$PWD/build/mason
cache=${MASON_QUICKSTART_CACHE:-$PWD/.cache/base-images}

mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[[ -n $mirror ]] || mirror=http://deb.debian.org/debian

if ! "$m" inspect debian:bookworm >/dev/null 2>&1; then
  echo "== debian:bookworm from Debian packages (debootstrap) =="
  scripts/base-images.sh --debian --no-busybox --mason "$m" --root "${MASON_ROOT:-${XDG_DATA_HOME:-$HOME/.local/share}/mason}" "$cache"
fi
if ! "$m" inspect golang:1.21 >/dev/null 2>&1; then
  echo "== golang:1.21 built by mason from debian:bookworm (examples/bases) =="
  "$m" build --progress plain -t golang:1.21 --build-arg "DEBIAN_MIRROR=$mirror" \
    -f examples/bases/golang-1.21.Dockerfile examples/bases
fi

echo
echo "== mason build -t hello-go examples/go =="
"$m" build -t hello-go examples/go
echo
echo "== mason run --rm hello-go =="
"$m" run --rm hello-go
echo
echo "== mason images =="
"$m" images
