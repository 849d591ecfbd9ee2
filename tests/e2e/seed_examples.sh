#!/usr/bin/env bash
# The seed's examples, built for real from base images made offline from
# Debian packages (the heavy tier: debootstrap and apt inside RUN):
#   - debian:bookworm (debootstrap) -> golang:1.21, node:18, node:18-slim
#     built by mason from examples/bases/
#   - examples/go: Go compiled in the fat stage, the final scratch image
#     holds the binary alone, and it runs
#   - examples/node: build output and node_modules copied across stages
#   - examples/targets.Dockerfile: --target production never runs the
#     development stage, and --target development builds it
source "$(dirname "$0")/lib.sh"
cache=${MASON_E2E_CACHE:-/tmp/mason-e2e-cache}
"$SRC/scripts/base-images.sh" --debian --mason "$MASON" --root "$STORE" "$cache" >/dev/null
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[[ -n $mirror ]] || mirror=http://deb.debian.org/debian

b() { "$MASON" build --progress plain "$@" 2>"$WORK/err" >"$WORK/out" || { tail -40 "$WORK/err"; fail "mason build $*"; }; }

b -t golang:1.21 --build-arg "DEBIAN_MIRROR=$mirror" -f "$SRC/examples/bases/golang-1.21.Dockerfile" "$SRC/examples/bases"
b -t node:18-slim --target slim -f "$SRC/examples/bases/node-18.Dockerfile" "$SRC/examples/bases"
b -t node:18 --target full --secret id=cacert,src=/etc/ssl/certs/ca-certificates.crt -f "$SRC/examples/bases/node-18.Dockerfile" "$SRC/examples/bases"

# Go into scratch: the image is the binary alone.
b -t e2e/hello-go "$SRC/examples/go"
grep -q "the house" "$WORK/out" || fail "no size table"
[[ $("$MASON" run --rm e2e/hello-go) == "hello from a linux/amd64 binary built in a multi-stage build" ]] ||
  fail "the Go binary does not run"
"$MASON" save e2e/hello-go -o "$WORK/go.tar"
[[ $(fs_listing "$WORK/go.tar" | awk '{print $1, $2}') == "/main file" ]] || fail "final image is not the binary alone"
size=$(fs_listing "$WORK/go.tar" | awk '{print $5}')
[[ $size -lt 10000000 ]] || fail "Go binary is $size bytes"

# Node: node_modules and dist copied from the builder into the slim runtime.
b -t e2e/hello-node "$SRC/examples/node"
[[ $("$MASON" run --rm e2e/hello-node) == "hello from node v18."*", shipped without the build tools (is-number(42): true)" ]] ||
  fail "the Node app does not run: $("$MASON" run --rm e2e/hello-node)"
"$MASON" run --rm e2e/hello-node sh -c 'test -d /app/node_modules && test -f /app/dist/main.js && ! command -v npm' ||
  fail "runtime image content"

# --target: production never runs development's step, and vice versa.
b --target production -t e2e/prod -f "$SRC/examples/targets.Dockerfile" "$SRC/examples"
grep -q "gcc make" "$WORK/err" && fail "development stage ran for --target production"
"$MASON" run --rm e2e/prod test -f /etc/ssl/certs/ca-certificates.crt || fail "production stage content"
b --target development -t e2e/dev -f "$SRC/examples/targets.Dockerfile" "$SRC/examples"
grep -q "ca-certificates" "$WORK/err" && fail "production stage ran for --target development"
"$MASON" run --rm e2e/dev gcc --version >/dev/null || fail "development stage has no gcc"
echo "seed_examples: ok"
