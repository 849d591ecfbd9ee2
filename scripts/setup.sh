#!/usr/bin/env bash
# Installs what mason needs, from Debian's packages only. Idempotent: apt
# is not run at all when every package is present.
#
#   scripts/setup.sh           build and run mason: the toolchain, the
#                              libraries, runc for RUN, debootstrap for the
#                              offline Debian base image, and CA certificates
#                              (libcurl needs a bundle for any https registry)
#   scripts/setup.sh --tests   also the test world: GoogleTest, clang 16 for
#                              the fuzzers and clang-tidy, and the tools mason
#                              is compared and interoperates with (dockerd,
#                              buildah, skopeo, umoci, a registry, ...)
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config
  # libraries (headers)
  libcli11-dev nlohmann-json3-dev libfmt-dev
  libssl-dev libsqlite3-dev zlib1g-dev libarchive-dev libzstd-dev libdeflate-dev
  libcurl4-openssl-dev
  # running mason: RUN's OCI runtime (test-world.md: runc is the default;
  # crun optional), the CA bundle for https registries and the seed
  # example's secret, debootstrap for the quick start's debian:bookworm
  runc ca-certificates debootstrap tar
)
if [[ ${1:-} == --tests ]]; then
  packages+=(
    libgtest-dev libgmock-dev git
    # fuzzing: clang 16 (its libFuzzer runtime) can compile our C++23
    clang-16 libclang-rt-16-dev
    # style checks
    clang-format clang-tidy-16
    # end-to-end tests: base images made offline, and the tools mason must
    # interoperate with (test-world.md); zstd for the compression tests,
    # dpkg-dev for the Debian package (dpkg-shlibdeps)
    busybox-static file python3 zstd dpkg-dev
    docker.io skopeo umoci oci-image-tool buildah
    docker-registry apache2-utils openssl curl
  )
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--tests]" >&2
  exit 2
fi

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
echo "setup: all dependencies present${1:+ (with the test world)}"
