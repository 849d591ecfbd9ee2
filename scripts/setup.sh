#!/usr/bin/env bash
# Installs everything mason needs to build and test, from Debian's packages
# only. Idempotent: skips apt entirely when all packages are present.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config git
  # libraries (headers)
  libcli11-dev nlohmann-json3-dev libfmt-dev libgtest-dev libgmock-dev
  libssl-dev libsqlite3-dev zlib1g-dev libarchive-dev libzstd-dev libdeflate-dev
  libcurl4-openssl-dev
  # RUN: the OCI runtime (test-world.md: runc is the default; crun optional)
  runc
  # fuzzing: clang 16 (its libFuzzer runtime) can compile our C++23
  clang-16 libclang-rt-16-dev
  # style checks
  clang-format clang-tidy-16
  # end-to-end tests: base images made offline, and the tools mason must
  # interoperate with (test-world.md)
  busybox-static debootstrap file python3 tar
  docker.io skopeo umoci oci-image-tool buildah
  docker-registry apache2-utils openssl curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all dependencies present"
