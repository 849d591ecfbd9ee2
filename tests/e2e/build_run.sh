#!/usr/bin/env bash
# RUN in the sandbox: environment from ENV/ARG, USER by name, WORKDIR,
# SHELL, heredocs, network none, cache mounts kept across builds and never
# in a layer, secrets absent from layers and history, whiteouts (a deleted
# file is gone; a deleted and recreated directory is opaque), ONBUILD.
source "$(dirname "$0")/lib.sh"
import_busybox

printf s3cr3t-value >"$WORK/token"
ctx=$(context run <<'DF'
FROM busybox
ARG GREETING=hi
ENV TARGET=world
RUN echo "$GREETING $TARGET" >/greeting
RUN echo 'builder:x:1234:1234::/home/builder:/bin/sh' >>/etc/passwd && echo 'builder:x:1234:' >>/etc/group && mkdir /data && chown builder /data
USER builder
WORKDIR /data/work
RUN id -u >uid && pwd >pwd
USER root
SHELL ["/bin/sh", "-ec"]
RUN <<EOT
echo from-heredoc >/heredoc
EOT
RUN --network=none cat /proc/net/dev | grep -c ':' >/ifaces
RUN --mount=type=cache,target=/cache cat /cache/count 2>/dev/null | wc -l >/seen; echo x >>/cache/count
RUN --mount=type=secret,id=tok cat /run/secrets/tok | tr a-z A-Z | grep -q S3CR3T && echo used >/secret-used
RUN --mount=type=secret,id=tok,env=TOK test "${#TOK}" = 12 && case "$TOK" in s3cr3t-*) ;; *) exit 1;; esac
RUN rm /bin/vi && mkdir -p /opq/sub && echo 1 >/opq/sub/f
RUN rm -r /opq && mkdir /opq && echo 2 >/opq/g
DF
)
build() { "$MASON" build --progress plain --secret id=tok,src="$WORK/token" "$@" "$ctx" 2>"$WORK/err" || { cat "$WORK/err"; fail "build $*"; }; }
build -t e2e/run
r() { "$MASON" run --rm e2e/run "$@"; }
[[ $(r cat /greeting) == "hi world" ]] || fail "ARG/ENV in RUN: $(r cat /greeting)"
[[ $(r cat /data/work/uid) == 1234 ]] || fail "USER builder"
[[ $(r cat /data/work/pwd) == /data/work ]] || fail "WORKDIR"
[[ $(r cat /heredoc) == from-heredoc ]] || fail "heredoc"
[[ $(r cat /ifaces) == 1 ]] || fail "network none: $(r cat /ifaces) interfaces"
[[ $(r cat /seen) == 0 ]] || fail "cache mount not empty at first"
[[ $(r cat /secret-used) == used ]] || fail "secret mount"
r test -e /bin/vi && fail "deleted file still there"
[[ $(r ls /opq) == g ]] || fail "opaque directory: $(r ls /opq)"
[[ $(r ls /opq/sub 2>/dev/null || true) == "" ]] || fail "old content under the opaque dir"

# Nothing of the secret or the cache is in the image: layers, config, history.
"$MASON" save e2e/run -o "$WORK/run.tar"
mkdir "$WORK/x" && tar -C "$WORK/x" -xf "$WORK/run.tar"
find "$WORK/x" -type f | while read -r f; do
  if [[ $(head -c2 "$f" | od -An -tx1 | tr -d ' ') == 1f8b ]]; then zcat "$f"; else cat "$f"; fi
done >"$WORK/all-bytes" 2>/dev/null
[[ $(wc -c <"$WORK/all-bytes") -gt 1000000 ]] || fail "the image's bytes were not read"
grep -aq "s3cr3t-value" "$WORK/all-bytes" && { grep -ao ".\{60\}s3cr3t-value.\{20\}" "$WORK/all-bytes"; fail "the secret is in the image"; }
fs_listing "$WORK/run.tar" | grep -E "^/cache/|^/run/secrets/tok" && fail "mount content in the image"
"$MASON" history e2e/run | grep -q "GREETING=hi" || fail "history lacks the ARG"
# A layer with the opaque marker for /opq.
find "$WORK/x" -name layer.tar -exec tar -tf {} \; >"$WORK/entries"
grep -q "^opq/.wh..wh..opq$" "$WORK/entries" ||
  fail "no opaque whiteout for /opq"

# The cache mount persists across builds (different image, same cache id).
sed -i 's/^RUN --mount=type=cache,target=\/cache cat/RUN --mount=type=cache,target=\/cache echo again \&\& cat/' "$ctx/Dockerfile"
build -t e2e/run2
[[ $("$MASON" run --rm e2e/run2 cat /seen) == 1 ]] || fail "cache mount not kept across builds"

# A missing required secret is an error naming it (an optional one is
# skipped, as BuildKit does).
req=$(context required <<'DF'
FROM busybox
RUN --mount=type=secret,id=opt test ! -e /run/secrets/opt
RUN --mount=type=secret,id=tok,required cat /run/secrets/tok
DF
)
set +e
"$MASON" build --progress plain "$req" >/dev/null 2>"$WORK/err"; rc=$?
set -e
[[ $rc -ne 0 ]] && grep -q "secret tok" "$WORK/err" && grep -q "Dockerfile:3" "$WORK/err" ||
  { cat "$WORK/err"; fail "missing secret not reported"; }

# Bind mounts from a stage and from the context (rw: writes are thrown
# away), tmpfs.
bind=$(context bind <<'DF'
FROM busybox AS files
RUN mkdir /stuff && echo fromstage >/stuff/x
FROM busybox
RUN --mount=type=bind,from=files,source=/stuff,target=/mnt cat /mnt/x >/got
RUN --mount=type=bind,target=/ctx,rw touch /ctx/written && ls /ctx >/ctxlist
RUN --mount=type=bind,source=Dockerfile,target=/df grep -q fromstage /df
RUN --mount=type=tmpfs,target=/scratch touch /scratch/t && test -f /scratch/t
DF
)
"$MASON" build --progress plain -t e2e/bind "$bind" 2>"$WORK/err" || { cat "$WORK/err"; fail "bind mounts"; }
[[ $("$MASON" run --rm e2e/bind cat /got) == fromstage ]] || fail "bind from a stage"
"$MASON" run --rm e2e/bind grep -qx written /ctxlist || fail "rw bind of the context"
[[ -e $bind/written ]] && fail "a rw bind wrote into the context"
"$MASON" run --rm e2e/bind sh -c 'test -e /mnt/x || test -e /scratch/t || test -e /ctx' && fail "mount content in the image"

# ONBUILD triggers run when the image is a base.
ob=$(context onbuild <<'DF'
FROM busybox
ONBUILD RUN echo triggered >/onbuild
DF
)
"$MASON" build --progress plain -t e2e/onbuild-base "$ob" 2>/dev/null || fail "onbuild base"
child=$(context child <<'DF'
FROM e2e/onbuild-base
RUN test -f /onbuild
DF
)
"$MASON" build --progress plain -t e2e/onbuild-child "$child" 2>"$WORK/err" || { cat "$WORK/err"; fail "ONBUILD trigger did not run"; }
"$MASON" inspect e2e/onbuild-child | python3 -c 'import json,sys; assert not json.load(sys.stdin)[0]["Config"].get("OnBuild")' ||
  fail "triggers inherited by the child"
echo "build_run: ok"
