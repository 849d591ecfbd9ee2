#!/usr/bin/env bash
# mason side by side with BuildKit (a private dockerd) and buildah, on the
# same Dockerfiles from the same offline base images. See bench/README.md.
#
# usage: bench/run.sh [--quick] [--runs N] [--mason BIN] [--cases go,node,...]
#                     [--builders mason,buildkit,buildah] [--cache DIR] [--out FILE] [--keep]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

[[ $(id -u) -eq 0 ]] || { echo "bench: run as root (RUN steps need runc, mounts, namespaces)" >&2; exit 1; }

# The references and tools, from Debian's packages only (idempotent).
packages=(docker.io buildah runc time python3 busybox-static debootstrap file tar)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "bench: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

exec python3 "$here/bench.py" "$@"
