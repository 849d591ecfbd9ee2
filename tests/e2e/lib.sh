# Shared helpers for end-to-end tests (sourced). Each test gets a scratch
# directory, a fresh mason store, and can start a private dockerd.
# Tests run as root with the real tools of test-world (dockerd, skopeo,
# umoci, oci-image-tool); a missing tool fails the test (setup installs
# them), it never silently passes.
set -euo pipefail

MASON=${MASON:?MASON must point at the mason binary}
SRC=${MASON_SOURCE_DIR:?}
WORK=$(mktemp -d /tmp/mason-e2e.XXXXXX)
STORE=$WORK/store
export MASON_ROOT=$STORE
DOCKERD_PID=""
REGISTRY_PID=""

cleanup() {
  [[ -n $REGISTRY_PID ]] && kill "$REGISTRY_PID" 2>/dev/null || true
  if [[ -n $DOCKERD_PID ]]; then
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    umount -R "$WORK/docker/root" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || fail "$1 is not installed (scripts/setup.sh installs it)"; }

# The busybox root filesystem tarball (cached across tests of one run).
busybox_tar() {
  local cache=${MASON_E2E_CACHE:-/tmp/mason-e2e-cache}
  "$SRC/scripts/base-images.sh" "$cache" >/dev/null
  echo "$cache/busybox-rootfs.tar"
}

# Starts a private dockerd; sets DOCKER (the client command line).
start_dockerd() {
  need dockerd
  local d=$WORK/docker
  mkdir -p "$d"
  dockerd --data-root "$d/root" --exec-root "$d/exec" --pidfile "$d/pid" \
    --host "unix://$d/sock" --iptables=false --ip-masq=false --bridge=none \
    >"$d/log" 2>&1 &
  DOCKERD_PID=$!
  DOCKER="/usr/bin/docker -H unix://$d/sock"
  for _ in $(seq 1 100); do
    $DOCKER version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$d/log" >&2
  fail "dockerd did not start"
}

# Imports the busybox image into the test's store as busybox:latest.
import_busybox() {
  "$MASON" import "$(busybox_tar)" busybox:latest --change 'CMD ["sh"]' >/dev/null
}

# A build context directory with the given Dockerfile text (stdin).
context() {
  local dir=$WORK/ctx-$1
  mkdir -p "$dir"
  cat >"$dir/Dockerfile"
  echo "$dir"
}

# Lists a saved image's final file system (after applying all layers):
# "path type mode uid:gid size target-or-sha" per line, sorted.
fs_listing() {
  python3 "$SRC/tests/e2e/fs_listing.py" "$@"
}

# Starts Debian's docker-registry on a free loopback port; sets REGISTRY
# (host:port). Extra YAML for the `auth:`/`http:` sections may be given in
# $REGISTRY_EXTRA (appended at the top level).
start_registry() {
  need docker-registry
  local d=$WORK/registry port
  mkdir -p "$d/data"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$d/config.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $d/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
${REGISTRY_HTTP_EXTRA:-}
${REGISTRY_EXTRA:-}
YML
  docker-registry serve "$d/config.yml" >"$d/log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY=127.0.0.1:$port
  for _ in $(seq 1 100); do
    curl -sk -o /dev/null "http://$REGISTRY/v2/" && return 0
    curl -sk -o /dev/null "https://$REGISTRY/v2/" && return 0
    sleep 0.1
  done
  cat "$d/log" >&2
  fail "docker-registry did not start"
}
