#!/usr/bin/env bash
# Makes base images offline from Debian packages, for tests and examples:
#   busybox          from busybox-static: /bin/busybox plus one symlink per
#                    applet (seconds)
#   debian:bookworm  from `debootstrap --variant=minbase` against the mirror
#                    this machine's apt uses (about a minute; cached)
# Root filesystems are written as tarballs into CACHE_DIR (reused when
# present) and, with --root, imported into that mason store. --no-busybox
# leaves busybox out (the quick start needs only Debian).
#
# usage: scripts/base-images.sh [--debian] [--no-busybox] [--root STORE] [--mason BIN] CACHE_DIR
set -euo pipefail

debian=0 busybox=1 root="" mason="$(dirname "$0")/../build/mason"
usage="usage: $0 [--debian] [--no-busybox] [--root STORE] [--mason BIN] CACHE_DIR"
while [[ $# -gt 1 ]]; do
  case $1 in
    --debian) debian=1; shift ;;
    --no-busybox) busybox=0; shift ;;
    --root) root=$2; shift 2 ;;
    --mason) mason=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[[ $# -eq 1 ]] || { echo "$usage" >&2; exit 2; }
cache=$1
mkdir -p "$cache"

# Deterministic tarball of a root filesystem: sorted, numeric owners,
# mtimes clamped to SOURCE_DATE_EPOCH (default: 2000-01-01).
pack() {
  local dir=$1 out=$2
  local epoch=${SOURCE_DATE_EPOCH:-946684800}
  tar -C "$dir" --sort=name --numeric-owner --owner=0 --group=0 \
    --mtime="@$epoch" --clamp-mtime --xattrs --xattrs-include='security.capability' \
    -cf "$out.tmp" . && mv "$out.tmp" "$out"
}

busybox_tar=$cache/busybox-rootfs.tar
if [[ $busybox -eq 1 && ! -f $busybox_tar ]]; then
  bb=/bin/busybox
  file -L "$bb" 2>/dev/null | grep -q "statically linked" || {
    echo "base-images: $bb is not busybox-static (apt-get install busybox-static)" >&2; exit 1; }
  tmp=$(mktemp -d)
  chmod 755 "$tmp" && mkdir -p "$tmp"/{bin,etc,tmp,root,proc,sys,dev} && chmod 1777 "$tmp/tmp" && chmod 700 "$tmp/root"
  cp "$bb" "$tmp/bin/busybox"
  for applet in $("$bb" --list); do
    [[ $applet == busybox ]] || ln -s busybox "$tmp/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$tmp/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$tmp/etc/group"
  pack "$tmp" "$busybox_tar"
  rm -rf "$tmp"
  echo "base-images: $busybox_tar"
fi

debian_tar=$cache/debian-bookworm-rootfs.tar
if [[ $debian -eq 1 && ! -f $debian_tar ]]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [[ -n $mirror ]] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n $mirror ]] || { echo "base-images: no Debian mirror found in apt's sources" >&2; exit 1; }
  tmp=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$tmp/rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
    echo "base-images: debootstrap failed, see $cache/debootstrap.log" >&2; rm -rf "$tmp"; exit 1; }
  rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"*
  pack "$tmp/rootfs" "$debian_tar"
  rm -rf "$tmp"
  echo "base-images: $debian_tar"
fi

if [[ -n $root ]]; then
  if [[ $busybox -eq 1 ]]; then
    "$mason" --root "$root" import "$busybox_tar" busybox:latest --change 'CMD ["sh"]'
  fi
  if [[ $debian -eq 1 ]]; then
    "$mason" --root "$root" import "$debian_tar" debian:bookworm --change 'CMD ["bash"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  fi
fi
