#!/usr/bin/env bash
# Installing mason as the README says: `cmake --install build --strip`
# into a prefix gives a stripped binary that runs, and the Debian package
# (`cpack`) declares its run-time dependencies, installs into a clean root
# (an empty dpkg database) with the binary on that root's /usr/bin, and is
# removed without leaving files behind.
source "$(dirname "$0")/lib.sh"
need cpack; need dpkg-deb; need file
build=$(dirname "$MASON")
[[ -f $build/CPackConfig.cmake ]] || fail "$build is not a configured build directory"

# cmake --install --strip into a prefix
cmake --install "$build" --strip --prefix "$WORK/prefix" >/dev/null || fail "cmake --install"
bin=$WORK/prefix/bin/mason
[[ -x $bin ]] || fail "no bin/mason in the prefix"
[[ $(file "$bin") == *", stripped"* ]] || fail "installed binary is not stripped: $(file "$bin")"
[[ $(stat -c %s "$bin") -lt $(stat -c %s "$MASON") ]] || fail "installed binary is not smaller than the build's"
[[ $("$bin" --version) == *mason* ]] || fail "installed binary does not run"
[[ -f $WORK/prefix/share/doc/mason/README.md ]] || fail "no documentation installed"

# the Debian package
(cd "$WORK" && cpack --config "$build/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1) ||
  { cat "$WORK/cpack.log"; fail "cpack"; }
deb=$(ls "$WORK"/pkg/mason_*.deb)
[[ -f $deb ]] || fail "no .deb made"
depends=$(dpkg-deb -f "$deb" Depends)
for d in runc libcurl4 libarchive13 libsqlite3-0 libc6 libstdc++6; do
  [[ $depends == *"$d"* ]] || fail "Depends lacks $d: $depends"
done
dpkg-deb -c "$deb" >"$WORK/contents"
grep -q "\./usr/bin/mason$" "$WORK/contents" || fail "the package has no /usr/bin/mason"
# Every dependency is one Debian can install.
apt-get install -s "$deb" >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log"; fail "apt cannot satisfy the package's dependencies"; }

# A clean root: an empty dpkg database (the dependencies are the host's).
root=$WORK/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg --root="$root" --force-depends --force-script-chrootless -i "$deb" >"$WORK/dpkg.log" 2>&1 ||
  { cat "$WORK/dpkg.log"; fail "dpkg -i into a clean root"; }
[[ -x $root/usr/bin/mason ]] || fail "no usr/bin/mason in the root"
[[ $("$root/usr/bin/mason" --version) == *mason* ]] || fail "the packaged binary does not run"
MASON_ROOT=$WORK/store "$root/usr/bin/mason" images >/dev/null || fail "the packaged binary cannot open a store"
dpkg --root="$root" --force-depends -r mason >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; fail "dpkg -r"; }
left=$(find "$root" -path "$root/var" -prune -o -type f -print)
[[ -z $left ]] || fail "files left after removal: $left"
echo "install_package: ok"
