#!/usr/bin/env bash
# Bad input to import and load: a clear error (exit 1), nothing written
# outside the store, and the store left as it was (same images, no new
# blobs, no scratch files).
source "$(dirname "$0")/lib.sh"
tarball=$(busybox_tar)
"$MASON" import "$tarball" e2e/keep:1 >/dev/null
"$MASON" save e2e/keep:1 -o "$WORK/good.tar"

state() { "$MASON" images -q | sort; { find "$STORE/blobs" "$STORE/ingest" "$STORE/tmp" -type f 2>/dev/null || true; } | sort; }
before=$(state)
sentinel=$WORK/outside
mkdir "$sentinel"

expect_fail() {
  local what=$1; shift
  local err
  if err=$("$@" 2>&1 >/dev/null); then fail "$what: accepted"; fi
  [[ $err == mason:* ]] || fail "$what: no clear error: $err"
  [[ $(state) == "$before" ]] || fail "$what: store changed"
  [[ -z $(ls -A "$sentinel") ]] || fail "$what: wrote outside the store"
  echo "  $what -> ${err%%$'\n'*}"
}

mk() { # a fresh directory to build a hand-made archive in
  rm -rf "$WORK/mk" && mkdir -p "$WORK/mk" && cd "$WORK/mk"
}

head -c 20000 "$WORK/good.tar" >"$WORK/truncated.tar"
expect_fail "truncated archive" "$MASON" load -i "$WORK/truncated.tar"
printf 'garbage that is no tar at all' >"$WORK/garbage"
expect_fail "not an archive" "$MASON" load -i "$WORK/garbage"
expect_fail "import of garbage" "$MASON" import "$WORK/garbage" e2e/bad:1

# A layer whose bytes do not match the config's diff_id.
mk; tar -xf "$WORK/good.tar"
layer=$(find . -name layer.tar | head -1); printf 'x' >>"$layer"
tar -cf "$WORK/wrong-digest.tar" ./*
cd /; expect_fail "layer with wrong digest" "$MASON" load -i "$WORK/wrong-digest.tar"

mk; tar -xf "$WORK/good.tar"; printf '[{"Config": 1' >manifest.json; tar -cf "$WORK/bad-json.tar" ./*
cd /; expect_fail "malformed manifest.json" "$MASON" load -i "$WORK/bad-json.tar"

# Escapes: ../, absolute names, symlinks and hardlinks pointing outside.
python3 - "$WORK" "$sentinel" <<'PY'
import io, sys, tarfile
work, sentinel = sys.argv[1], sys.argv[2]
def archive(name, members):
    with tarfile.open(f"{work}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
def f(name, data=b"x"):
    i = tarfile.TarInfo(name); i.size = len(data); return (i, data)
def l(name, target, kind):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = target; return (i, None)
archive("dotdot", [f("../../../../" + sentinel.lstrip("/") + "/pwned")])
archive("absolute", [f(sentinel + "/pwned"), f("manifest.json", b"[]")])
archive("dotdot-manifest", [f("manifest.json", b'[{"Config":"../../../../../../etc/passwd","Layers":[]}]')])
archive("symlink-escape", [l("evil", sentinel, tarfile.SYMTYPE), f("evil/pwned")])
archive("symlink-relative", [l("up", "../../../../../../../../" + sentinel.lstrip("/"), tarfile.SYMTYPE), f("up/pwned")])
archive("hardlink-escape", [l("hl", "../../../../../../etc/passwd", tarfile.LNKTYPE)])
archive("config-via-symlink", [l("c.json", "/etc/passwd", tarfile.SYMTYPE),
                               f("manifest.json", b'[{"Config":"c.json","Layers":[]}]')])
PY
for a in dotdot dotdot-manifest symlink-escape symlink-relative hardlink-escape config-via-symlink; do
  expect_fail "$a" "$MASON" load -i "$WORK/$a.tar"
done
# An absolute member name lands inside the scratch directory (as docker
# treats it), never at that path: the archive holds no image, so it fails.
expect_fail "absolute" "$MASON" load -i "$WORK/absolute.tar"
echo "bad_archives: ok"
