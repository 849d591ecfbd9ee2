#!/usr/bin/env bash
# mason build against BuildKit (dockerd 20.10 with DOCKER_BUILDKIT=1), one
# multi-stage Dockerfile at a time, from the same busybox bytes: the final
# file system (fs_listing.py: path, type, mode, owner, size, link target,
# content hash), the image config's "config" section and the history
# (created_by, empty_layer) must be equal. Created times, diff_ids and layer
# digests are not compared (tar bytes differ legitimately).
#
# dockerd 20.10 carries an old BuildKit (v0.8, Dockerfile frontend 1.2);
# where current BuildKit (the reference) behaves otherwise, the BuildKit
# side is adjusted to current semantics by a `fix` (a sed script applied to
# its summary) with the source it follows, or a Dockerfile without
# here-documents that 20.10 can read and that is exactly equivalent.
# Differences are all printed (unified diff) before the test fails.
source "$(dirname "$0")/lib.sh"
start_dockerd
import_busybox
"$MASON" save busybox -o "$WORK/busybox.tar"
$DOCKER load -i "$WORK/busybox.tar" >/dev/null

# The image config and history of a saved docker archive, one line each.
# Unset, null and empty values are the same (omitempty on either side).
summary() {
  python3 - "$1" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
m = json.load(t.extractfile("manifest.json"))
cfg = json.load(t.extractfile(m[0]["Config"]))
for k in ("os", "architecture", "variant"):
    if cfg.get(k):
        print("%s: %s" % (k, cfg[k]))
c = cfg.get("config") or {}
for k in sorted(c):
    if c[k] in (None, "", [], {}, False):
        continue
    print("config.%s: %s" % (k, json.dumps(c[k], sort_keys=True)))
for i, h in enumerate(cfg.get("history") or []):
    print("history[%d]: %s%s" % (i, "(empty) " if h.get("empty_layer") else "", json.dumps(h.get("created_by", ""))))
PY
}

FAILED=()
# MASON_E2E_KEEP=DIR keeps every case's listings, summaries and archives.
# differential NAME CTX [-f BK_DOCKERFILE] [--fix SED] [--fsfix SED] [build flags...]
#   Builds CTX/Dockerfile with both; -f gives BuildKit another Dockerfile
#   (in CTX); --fix and --fsfix are sed scripts applied to BuildKit's
#   config/history summary and file listing (current-BuildKit semantics).
differential() {
  local name=$1 ctx=$2; shift 2
  local bkdf=() fix="" fsfix="" flags=()
  while [[ $# -gt 0 ]]; do
    case $1 in
      -f) bkdf=(-f "$ctx/$2"); shift 2 ;;
      --fix) fix+="$2"$'\n'; shift 2 ;;
      --fsfix) fsfix+="$2"$'\n'; shift 2 ;;
      *) flags+=("$1"); shift ;;
    esac
  done
  local out=$WORK/out-$name
  mkdir -p "$out"
  echo "== $name${flags[*]:+ (${flags[*]})}"
  if ! DOCKER_BUILDKIT=1 $DOCKER build --network host -q "${bkdf[@]}" "${flags[@]}" -t "diff/$name" "$ctx" \
      >"$out/bk.log" 2>&1; then
    cat "$out/bk.log" >&2; FAILED+=("$name: BuildKit build failed"); return 0
  fi
  if ! "$MASON" build --progress plain "${flags[@]}" -t "diff/$name" "$ctx" >"$out/mason.log" 2>&1; then
    cat "$out/mason.log" >&2; FAILED+=("$name: mason build failed"); return 0
  fi
  $DOCKER save "diff/$name" -o "$out/bk.tar"
  "$MASON" save "diff/$name" -o "$out/m.tar"
  fs_listing "$out/bk.tar" | sed -e "$fsfix" >"$out/bk.fs"
  fs_listing "$out/m.tar" >"$out/m.fs"
  summary "$out/bk.tar" | sed -e "$fix" >"$out/bk.cfg"
  summary "$out/m.tar" >"$out/m.cfg"
  if ! diff -u --label "buildkit/$name/fs" --label "mason/$name/fs" "$out/bk.fs" "$out/m.fs"; then
    FAILED+=("$name: file system")
  fi
  if ! diff -u --label "buildkit/$name/config" --label "mason/$name/config" "$out/bk.cfg" "$out/m.cfg"; then
    FAILED+=("$name: config/history")
  fi
  if [[ -n ${MASON_E2E_KEEP:-} ]]; then mkdir -p "$MASON_E2E_KEEP" && cp -r "$out" "$MASON_E2E_KEEP/"; fi
}

# A context directory with a Dockerfile (stdin); mode 0755 like a checkout.
ctx() { local d; d=$(context "$1"); chmod 755 "$d"; chmod 644 "$d/Dockerfile"; echo "$d"; }
# file PATH MODE [CONTENT]: a context file with an explicit mode.
cfile() { mkdir -p "$(dirname "$1")"; printf '%s\n' "${3:-${1##*/}}" >"$1"; chmod "$2" "$1"; }

# 01: COPY --from into a scratch stage: files, directories (contents), the
# trailing-slash rules, globs (matching files and a directory), renames,
# symlinks followed at the top level and kept below, --from by stage index
# and by image, parents created.
c=$(ctx 01-copy-from <<'DF'
FROM busybox AS tree
RUN mkdir -p /src/sub/deep /src/other /src/empty \
 && echo a >/src/a.txt && echo b >/src/b.txt && echo c >/src/c.md \
 && echo d >/src/sub/d.txt && echo e >/src/sub/deep/e.txt && echo o >/src/other/o.txt \
 && chmod 0750 /src/sub && chmod 0640 /src/b.txt && chmod 0700 /src/empty \
 && chown 12:34 /src/other/o.txt && echo s >/src/other/suid && chmod 4755 /src/other/suid \
 && ln -s a.txt /src/link-to-a && ln -s sub /src/link-to-sub && ln -s /nowhere /src/dangling

FROM busybox
RUN echo second >/second.txt

FROM scratch
COPY --from=tree /src/a.txt /file-renamed
COPY --from=tree /src/a.txt /into-dir/
COPY --from=tree /src/sub /sub-contents
COPY --from=tree /src/sub/ /sub-contents-slash/
COPY --from=tree /src/*.txt /glob/
COPY --from=tree /src/s* /glob-dir/
COPY --from=tree /src/a.txt /src/c.md /multi/
COPY --from=tree /src/link-to-a /followed
COPY --from=tree /src/link-to-sub /followed-dir
COPY --from=tree /src/ /all
COPY --from=tree /src/empty /empty
COPY --from=tree /src/sub/deep/e.txt /new/parents/e.txt
COPY --from=tree /src/other /src/sub/deep /merged/
COPY --from=1 /second.txt /by-index.txt
COPY --from=busybox /bin/busybox /bin/
WORKDIR /
CMD ["/bin/busybox", "ls"]
DF
)
differential 01-copy-from "$c"

# 02: FROM <stage> chains; WORKDIR new, existing, relative, with a
# variable, absolute and unclean (BuildKit keeps it as written: util/system
# NormalizeWorkdir cleans only relative ones);
# ENV PATH built on the default PATH; CMD/ENTRYPOINT: ENTRYPOINT resets an
# inherited CMD, keeps one set in the same stage; shell forms.
c=$(ctx 02-stages-workdir <<'DF'
FROM busybox AS base
ENV APP=/app PATH=/app/bin:$PATH
WORKDIR /app
WORKDIR bin
RUN echo 'echo hello' >hello && chmod 755 hello && pwd >/pwd1
WORKDIR /tmp
WORKDIR /srv/../opt/./data/
CMD ["hello"]

FROM base AS withentry
ENTRYPOINT ["/bin/sh", "-c"]

FROM base AS cmdthenentry
CMD ["echo", "kept"]
ENTRYPOINT ["/bin/echo"]

FROM withentry AS last
COPY --from=cmdthenentry /pwd1 /copied-pwd1
WORKDIR sub
RUN pwd >/where
WORKDIR $APP/from-env
ENTRYPOINT echo shell form "$APP"
DF
)
# 20.10's clone() of a stage's image shares the History array (fixed in
# current BuildKit: image.go clone "img.History = slices.Clone(...)"), so
# stage cmdthenentry's CMD overwrote withentry's ENTRYPOINT in the history
# that last inherits; the fix restores the entry current BuildKit writes.
differential 02-stages-workdir "$c" \
  --fix 's|^history\[8\]: (empty) "CMD \[\\"echo\\" \\"kept\\"\]"$|history[8]: (empty) "ENTRYPOINT [\\"/bin/sh\\" \\"-c\\"]"|'
differential 02-stages-workdir-cmdthenentry "$c" --target cmdthenentry

# 03: users and groups written by RUN (busybox has no adduser): USER by
# name, WORKDIR created by that user, RUN as that user, COPY --chown by
# name, name:group, uid:gid, uid alone, --chmod, both together.
c=$(ctx 03-user-chown <<'DF'
FROM busybox AS users
RUN echo 'app:x:1000:1000:app:/home/app:/bin/sh' >>/etc/passwd \
 && echo 'svc:x:2000:50::/nonexistent:/bin/false' >>/etc/passwd \
 && echo 'app:x:1000:' >>/etc/group && echo 'staff:x:50:app' >>/etc/group
COPY --chown=app f.txt /owned/by-name.txt
COPY --chown=app:staff f.txt /owned/by-name-group.txt
COPY --chown=1234:5678 f.txt /owned/by-id.txt
COPY --chown=1234 f.txt /owned/by-uid.txt
COPY --chown=svc f.txt /owned/svc.txt
COPY --chmod=0640 f.txt /owned/mode640.txt
COPY --chown=app:staff --chmod=750 dir /owned/dir
COPY --chown=svc dir /new/parent/dir/
COPY --chmod=0640 f.txt /chmod-parent/sub/f.txt
USER app
WORKDIR /home/app/work
RUN touch made-by-app && mkdir sub && id >id.txt
USER app:staff
RUN touch /home/app/work/staff-file
WORKDIR /home/app/work/sub/deeper

FROM scratch AS final
COPY --from=users /home /home
COPY --from=users --chown=7:8 /owned /owned
USER 1000
DF
)
cfile "$c/f.txt" 644
cfile "$c/dir/a" 600
cfile "$c/dir/sub/b" 755
chmod 700 "$c/dir/sub"; chmod 755 "$c/dir"
# current BuildKit names --chown/--chmod in COPY's and ADD's created_by
# (dockerfile 1.7, convert_copy.go "commitMessage.WriteString(\" --chown=\"
# ...)"), 20.10 does not: the --fix scripts add them on the BuildKit side.
# current BuildKit (fsutil copy.go Copy/prepareTargetDir -> MkdirAll with
# the --chmod mode, since fsutil#228) creates the missing parents and the
# new destination directory of a directory copy with the --chmod mode;
# 20.10 made them 0755.
differential 03-user-chown "$c" --target users \
  --fsfix 's|^/owned/dir dir 0755 |/owned/dir dir 0750 |
s|^\(/chmod-parent\(/sub\)\{0,1\}\) dir 0755 |\1 dir 0640 |' \
  --fix 's|"COPY \(f.txt /owned/by-name.txt\)|"COPY --chown=app \1|
s|"COPY \(f.txt /owned/by-name-group.txt\)|"COPY --chown=app:staff \1|
s|"COPY \(f.txt /owned/by-id.txt\)|"COPY --chown=1234:5678 \1|
s|"COPY \(f.txt /owned/by-uid.txt\)|"COPY --chown=1234 \1|
s|"COPY \(f.txt /owned/svc.txt\)|"COPY --chown=svc \1|
s|"COPY \(f.txt /owned/mode640.txt\)|"COPY --chmod=0640 \1|
s|"COPY \(dir /owned/dir\)|"COPY --chown=app:staff --chmod=750 \1|
s|"COPY \(dir /new/parent/dir/\)|"COPY --chown=svc \1|
s|"COPY \(f.txt /chmod-parent/sub/f.txt\)|"COPY --chmod=0640 \1|'
differential 03-user-chown-final "$c" --fsfix 's|^/owned/dir dir 0755 |/owned/dir dir 0750 |' --fix 's|"COPY \(/owned /owned\)|"COPY --chown=7:8 \1|'

# 04: COPY from the context: .dockerignore with **, a directory excluded
# and an exception inside it, comments; modes 0755/0600/0700; a file owned
# by another uid; symlinks (to a file, to a directory, dangling) copied as
# links inside a directory and followed when named; an empty directory.
c=$(ctx 04-context <<'DF'
FROM busybox AS ctx
COPY . /ctx/
COPY app/*.sh /scripts/
COPY link-to-main /followed-link
COPY link-dir /followed-dir
COPY app /app-contents
COPY ["app/main.sh", "docs/readme.md", "/two/"]

FROM busybox
COPY --from=ctx /ctx /ctx
COPY --from=ctx /scripts /followed-link /followed-dir /app-contents /two /from-ctx/
DF
)
cat >"$c/.dockerignore" <<'IGN'
# comments and blank lines are ignored

.git
**/*.tmp
node_modules
app/build
!app/build/keep.o
Dockerfile
.dockerignore
docs/**/*.md
!docs/readme.md
IGN
chmod 644 "$c/.dockerignore"
cfile "$c/app/main.sh" 755
cfile "$c/app/secret.key" 600
cfile "$c/app/config.yml" 644
cfile "$c/app/build/out.o" 644
cfile "$c/app/build/keep.o" 644
cfile "$c/app/x.tmp" 644
cfile "$c/docs/readme.md" 644
cfile "$c/docs/notes.tmp" 644
cfile "$c/docs/deep/more.md" 640
cfile "$c/node_modules/x/y.js" 644
cfile "$c/.git/HEAD" 644
cfile "$c/owned-by-1234" 644
cfile "$c/with space.txt" 600
chown 1234:1234 "$c/owned-by-1234"
mkdir -p "$c/emptydir"; chmod 700 "$c/emptydir"
chmod 755 "$c/app" "$c/app/build" "$c/docs" "$c/node_modules" "$c/node_modules/x" "$c/.git"
chmod 750 "$c/docs/deep"
ln -s app/main.sh "$c/link-to-main"
ln -s docs "$c/link-dir"
ln -s /nowhere "$c/link-dangling"
differential 04-context "$c"

# 05: here-documents: COPY <<EOF (expanded, quoted, --chmod, into a
# directory) and RUN <<EOF (script, shebang). dockerd 20.10 cannot read
# them (frontend 1.2); Dockerfile.bk20 is the same build in its syntax,
# following current BuildKit (convert.go dispatchRun, convert_copy.go):
# a plain RUN heredoc runs ["/bin/sh","-c",DATA]; a shebang one runs the
# file mounted at /dev/pipes/<name> (mode 0755) as "/bin/sh -c
# /dev/pipes/<name>"; COPY <<name copies a 0644 file called <name>, and
# its created_by is "COPY <<name DEST". Context files "<<EOF" stand in.
c=$(ctx 05-heredoc <<'DF'
FROM busybox AS gen
ENV NAME=world
COPY <<EOF /etc/motd
hello $NAME
EOF
COPY <<'EOF' /etc/raw
literal $NAME
EOF
COPY --chmod=755 <<EOF /usr/local/bin/greet
#!/bin/sh
echo hi
EOF
COPY <<notes.txt /notes/
a note
notes.txt
RUN <<EOF
set -e
mkdir -p /out
echo "$NAME" >/out/name
EOF
RUN <<EOF
#!/bin/sh
echo shebang >/out/shebang
EOF

FROM scratch
COPY --from=gen /etc/motd /etc/raw /usr/local/bin/greet /notes/notes.txt /
COPY --from=gen /out /out
DF
)
cat >"$c/Dockerfile.bk20" <<'DF'
FROM busybox AS gen
ENV NAME=world
COPY ["<<EOF", "/etc/motd"]
COPY ["raw/<<EOF", "/etc/raw"]
COPY --chmod=755 ["exec/<<EOF", "/usr/local/bin/greet"]
COPY notes/notes.txt /notes/
RUN ["/bin/sh", "-c", "set -e\nmkdir -p /out\necho \"$NAME\" >/out/name\n"]
RUN --mount=type=bind,source=pipes,target=/dev/pipes ["/bin/sh", "-c", "/dev/pipes/EOF"]

FROM scratch
COPY --from=gen /etc/motd /etc/raw /usr/local/bin/greet /notes/notes.txt /
COPY --from=gen /out /out
DF
printf 'hello world\n' >"$c/<<EOF"
mkdir -p "$c/raw" "$c/exec" "$c/notes" "$c/pipes"
printf 'literal $NAME\n' >"$c/raw/<<EOF"
printf '#!/bin/sh\necho hi\n' >"$c/exec/<<EOF"
printf 'a note\n' >"$c/notes/notes.txt"
printf '#!/bin/sh\necho shebang >/out/shebang\n' >"$c/pipes/EOF"
chmod 644 "$c/<<EOF" "$c/raw/<<EOF" "$c/exec/<<EOF" "$c/notes/notes.txt" "$c/Dockerfile.bk20"
chmod 755 "$c/pipes/EOF" "$c/raw" "$c/exec" "$c/notes" "$c/pipes"
differential 05-heredoc "$c" -f Dockerfile.bk20
differential 05-heredoc-gen "$c" -f Dockerfile.bk20 --target gen \
  --fix 's|"COPY raw/<<EOF /etc/raw|"COPY <<EOF /etc/raw|
s|"COPY exec/<<EOF /usr/local/bin/greet|"COPY --chmod=755 <<EOF /usr/local/bin/greet|
s|"COPY notes/notes.txt /notes/|"COPY <<notes.txt /notes/|'

# 06: ARG/ENV/LABEL: a global ARG in FROM, stage ARGs with defaults,
# --build-arg overrides, an ARG without value, ENV from ARGs, ENV
# overriding an ARG in RUN, ARG redeclared in a child stage.
c=$(ctx 06-args-env <<'DF'
ARG BASE=busybox
ARG VERSION=1.0
FROM ${BASE} AS build
ARG VERSION
ARG FLAVOR=plain
ARG UNUSED
ENV VERSION_ENV=${VERSION}-${FLAVOR} HOME_DIR="/home/x y"
RUN echo "$VERSION $FLAVOR $VERSION_ENV [$UNUSED]" >/build-info
LABEL org.example.version=$VERSION org.example.flavor="${FLAVOR:-none}" "quoted key"="a b"
ENV FLAVOR=from-env
RUN echo "$FLAVOR" >/flavor
ENV LEGACY value with  spaces
RUN ["/bin/sh", "-c", "echo \"exec $FLAVOR $LEGACY\" >/exec"]

FROM build
ARG VERSION
ARG LATE=${VERSION}-late
LABEL stage2=yes org.example.version=overridden
ENV EMPTY=""
RUN echo "v=$VERSION late=$LATE" >/stage2
DF
)
# current BuildKit records the --build-arg value in ARG's created_by
# (convert.go dispatchArg: "if hasValue { arg.Value = &v }" before
# commitStr), 20.10 the Dockerfile's text; and a stage FROM another stage
# inherits its build args (dispatchState.init "ds.buildArgs = append(...,
# ds.base.buildArgs...)", dockerfile 1.9), listed once each in RUN's
# created_by (runCommandString), 20.10 listed only the stage's own.
differential 06-args-env "$c" --build-arg FLAVOR=fancy --build-arg VERSION=2.0 \
  --fix 's|"ARG VERSION"$|"ARG VERSION=2.0"|
s|"ARG FLAVOR=plain"$|"ARG FLAVOR=fancy"|
s#"RUN |2 VERSION=2.0 LATE=2.0-late /bin/sh -c echo#"RUN |4 VERSION=2.0 FLAVOR=from-env UNUSED= LATE=2.0-late /bin/sh -c echo#'

# 07: image metadata: EXPOSE, VOLUME (both forms), STOPSIGNAL, HEALTHCHECK
# with options, SHELL (used by RUN and CMD shell forms), ONBUILD recorded.
c=$(ctx 07-metadata <<'DF'
FROM busybox AS meta
EXPOSE 80 443/tcp 53/udp
EXPOSE 8080 8080/tcp
ENV PORT=7000
EXPOSE 9000/udp 9000-9001 $PORT
VOLUME /data
VOLUME ["/var/log", "/cache"]
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=4 CMD wget -q -O- http://localhost/ || exit 1
SHELL ["/bin/sh", "-ec"]
RUN echo shell-form >/shell-used
CMD echo via custom shell
ONBUILD RUN echo triggered >/triggered
ONBUILD COPY . /app/
LABEL a=1
DF
)
# current BuildKit writes HEALTHCHECK's created_by with %+v of the struct
# (convert.go dispatchHealthcheck), 20.10 with %q of the pointer; and
# EXPOSE's as the list of ports from the words sorted as written, before
# expansion, duplicates kept (instructions/parse.go parseExpose
# "slices.Sort(portsTab)", convert_expose.go "EXPOSE %v", psp), 20.10 as
# the nat.PortSet map.
fix07='s#"HEALTHCHECK &{\[\\"CMD-SHELL\\" .*}"$#"HEALTHCHECK {Test:[CMD-SHELL wget -q -O- http://localhost/ || exit 1] Interval:30s Timeout:5s StartPeriod:10s StartInterval:0s Retries:4}"#
s#"EXPOSE map\[443/tcp:{} 53/udp:{} 80/tcp:{}\]"#"EXPOSE [443/tcp 53/udp 80/tcp]"#
s#"EXPOSE map\[8080/tcp:{}\]"#"EXPOSE [8080/tcp 8080/tcp]"#
s#"EXPOSE map\[7000/tcp:{} 9000/tcp:{} 9000/udp:{} 9001/tcp:{}\]"#"EXPOSE [7000/tcp 9000/tcp 9001/tcp 9000/udp]"#'
differential 07-metadata "$c" --fix "$fix07"

# 08: ONBUILD triggers run when building FROM an image that has them (07),
# and a stage FROM that image does not run them again; HEALTHCHECK NONE,
# a numeric STOPSIGNAL. The inherited history is 07's, fixed alike.
c=$(ctx 08-onbuild <<'DF'
FROM diff/07-metadata AS child
RUN echo child >/child

FROM child
RUN echo grandchild >/grandchild
HEALTHCHECK NONE
STOPSIGNAL 9
DF
)
cfile "$c/payload.txt" 644
differential 08-onbuild "$c" --fix "$fix07" \
  --fix 's#"HEALTHCHECK &{\[\\"NONE\\"\] .*}"$#"HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}"#'

# 09: deletions and special files: RUN deleting base files and
# directories (whiteouts), a base directory deleted and made again
# (opaque), hardlinks, a fifo, chmod/chown of base entries, deletions in a
# later layer of files added earlier.
c=$(ctx 09-whiteouts <<'DF'
FROM busybox AS base
RUN mkdir -p /data/keep /data/gone /data/re \
 && echo 1 >/data/keep/f && echo 2 >/data/gone/f && echo 3 >/data/re/old && echo x >/data/file

FROM base AS changed
RUN rm -rf /data/gone /data/file /bin/vi /bin/ls \
 && rm -rf /data/re && mkdir /data/re && echo new >/data/re/new \
 && rm -rf /root && mkdir -m 0750 /root && echo x >/root/.profile
RUN echo hl >/data/keep/orig && ln /data/keep/orig /data/keep/hard && ln /data/keep/orig /hard-elsewhere \
 && mkfifo -m 0620 /data/fifo && ln -s busybox /bin/ls-again
RUN chmod 0700 /data/keep && chown 5:6 /data/keep/f && chmod 0600 /etc/passwd

FROM changed
RUN rm -f /data/re/new /data/keep/hard && touch /data/re/after
DF
)
differential 09-whiteouts "$c"

# 10: ADD from the context: a .tar.gz extracted (into an existing and a
# new directory; owners, symlink and hardlink from the archive kept), a
# plain .tar, a gzip file that is no archive (copied as is), plain files
# (renamed, into a directory, --chown), an archive with --chown, a
# directory.
c=$(ctx 10-add <<'DF'
FROM busybox AS add
ADD payload.tar.gz /opt/
ADD payload.tar.gz /unpacked
ADD raw.tar /rawtar/
ADD notatar.gz /gz/
ADD plain.txt /plain/
ADD plain.txt /plain-renamed.txt
ADD --chown=7:8 plain.txt /owned/
ADD --chown=7:8 payload.tar.gz /owned-tar/
ADD dir /added-dir

FROM scratch
COPY --from=add /opt /unpacked /rawtar /gz /plain /plain-renamed.txt /owned /added-dir /all/
COPY --from=add /unpacked /unpacked
COPY --from=add /owned-tar /owned-tar
DF
)
(
  set -e
  t=$WORK/tarsrc; mkdir -p "$t/pkg/bin" "$t/pkg/share"
  printf 'tool\n' >"$t/pkg/bin/tool"; chmod 755 "$t/pkg/bin/tool"
  printf 'data\n' >"$t/pkg/share/data"; chmod 640 "$t/pkg/share/data"
  ln -s ../bin/tool "$t/pkg/share/tool-link"; ln "$t/pkg/share/data" "$t/pkg/share/data-hard"
  chown -R 1000:1000 "$t/pkg/share"; chmod 750 "$t/pkg/share"
  tar -C "$t" --numeric-owner -czf "$c/payload.tar.gz" pkg
  tar -C "$t" --numeric-owner -cf "$c/raw.tar" pkg/bin
  printf 'not a tar\n' | gzip -n >"$c/notatar.gz"
)
cfile "$c/plain.txt" 644
cfile "$c/dir/x" 600
chmod 755 "$c/dir"
chmod 644 "$c/payload.tar.gz" "$c/raw.tar" "$c/notatar.gz"
# current BuildKit extracts an archive ADDed with --chown as that owner
# (solver/llbsolver/file/unpack.go: TarOptions.ChownOpts), 20.10 kept the
# archive's owners.
fix10='s|^\(/owned-tar/[^ ]* [a-z]* [0-7]*\) [0-9]*:[0-9]* |\1 7:8 |'
differential 10-add "$c" --fsfix "$fix10"
differential 10-add-stage "$c" --target add --fsfix "$fix10" \
  --fix 's|"ADD \(plain.txt /owned/\)|"ADD --chown=7:8 \1|
s|"ADD \(payload.tar.gz /owned-tar/\)|"ADD --chown=7:8 \1|'

# 11: --target of a middle stage: later stages are never built (the last
# one would fail), the middle one's config is the image's.
c=$(ctx 11-target <<'DF'
FROM busybox AS first
RUN echo first >/first
LABEL stage=first

FROM first AS middle
RUN echo middle >/middle
LABEL stage=middle
CMD ["cat", "/middle"]

FROM middle AS last
RUN echo "the last stage must not be built" && exit 3
DF
)
differential 11-target "$c" --target middle

# 12: COPY destinations: through a symlink to a directory, relative to
# WORKDIR, ".", an existing directory named without a slash, a file
# replaced, directories merged, a glob that matches nothing next to one
# that does.
c=$(ctx 12-copy-dest <<'DF'
FROM busybox AS src
RUN mkdir -p /s/d1 /s/d2 && echo 1 >/s/d1/one && echo 2 >/s/d2/two && echo f >/s/f

FROM busybox
RUN mkdir -p /real && ln -s /real /lnk
WORKDIR /w
COPY f.txt /lnk/
COPY --from=src /s/f rel/
COPY --from=src /s/f .
COPY --from=src /s/f /etc
COPY --from=src /s/f /etc/passwd
COPY --from=src /s/d1 /merged
COPY --from=src /s/d2 /merged
COPY --from=src /s/d1/one /s/nomatch* /glob/
COPY f.txt ctx-rel
DF
)
cfile "$c/f.txt" 644
differential 12-copy-dest "$c"

# 13: ONBUILD in a stage of the same Dockerfile: the stage's image records
# it (--target), a stage FROM it runs it (current BuildKit, convert.go
# resolveStages: onbuilds from d.base.commands, dockerfile 1.12).
c=$(ctx 13-onbuild-stage <<'DF'
FROM busybox AS base
ONBUILD RUN echo from-trigger >/trig
RUN echo base >/base

FROM base
RUN echo child >/child
DF
)
differential 13-onbuild-stage "$c"
differential 13-onbuild-stage-base "$c" --target base

# 14: RUN --mount targets relative to the WORKDIR (dockerfile2llb
# dispatchRunMounts joins them to the stage's working directory): the
# context over the WORKDIR (target=.), files beside an app (docker's
# Node.js guide), a WORKDIR with a variable, cache and tmpfs targets, a
# target above the WORKDIR, a WORKDIR inherited from a stage and from an
# image, a secret's relative target (the solver joins every relative
# destination to the step's working directory); WORKDIR
# through a symlink to a missing absolute path makes the link's target in
# the root file system.
"$MASON" import "$(busybox_tar)" busybox-wd:latest --change 'WORKDIR /opt' >/dev/null
"$MASON" save busybox-wd -o "$WORK/busybox-wd.tar"
$DOCKER load -i "$WORK/busybox-wd.tar" >/dev/null
c=$(ctx 14-mount-targets <<'DF'
FROM busybox AS base
WORKDIR /src
RUN --mount=target=. cat hello.txt >/hello-copy && test ! -e /hello.txt
WORKDIR /app
RUN --mount=type=bind,source=package.json,target=package.json \
    --mount=type=bind,source=lock.json,target=./lock.json \
    cat package.json lock.json >/app/installed && test ! -e /package.json && test ! -e /lock.json
ARG SUB=sub
WORKDIR /w/$SUB
RUN --mount=type=cache,target=cache echo x >>cache/f && cp cache/f /w/cache-seen
RUN --mount=type=tmpfs,target=tmp grep -c " /w/sub/tmp " /proc/mounts >/w/tmpfs-seen
RUN --mount=type=bind,source=dir,target=../mnt ls /w/mnt >/w/mnt-seen
RUN --mount=type=secret,id=tok,target=tok.txt cat /w/sub/tok.txt >/w/secret-seen

FROM base AS child
RUN --mount=type=bind,source=dir,target=data ls /w/sub/data >/child-seen

FROM busybox-wd AS image-wd
RUN --mount=target=ctx ls /opt/ctx >/opt-seen

FROM base
RUN ln -s /missing/abs /ln
WORKDIR /ln/deeper
RUN pwd >/pwd-seen
COPY --from=child /child-seen /
COPY --from=image-wd /opt-seen /
DF
)
cfile "$c/hello.txt" 644
cfile "$c/package.json" 644 '{"name":"app"}'
cfile "$c/lock.json" 644 '{"lockfileVersion":3}'
cfile "$c/dir/one" 644
chmod 755 "$c/dir"
printf 'sekrit\n' >"$WORK/tok"
# 20.10 leaves the mount points it made in the layers; current BuildKit
# removes them (executor/oci mount stubs), as mason does.
fix14='/^\/app\/package.json /d
/^\/app\/lock.json /d
/^\/w\/sub\/cache /d
/^\/w\/sub\/tmp /d
/^\/w\/mnt /d
/^\/w\/sub\/tok.txt /d'
# A stage FROM another stage inherits its build args in current BuildKit
# (dockerfile2llb convert.go: ds.buildArgs gets ds.base.buildArgs), so
# its RUN history names them; 20.10 did not.
differential 14-mount-targets "$c" --secret "id=tok,src=$WORK/tok" --fsfix "$fix14" \
  --fix 's/"RUN \/bin\/sh -c \(ln -s\|pwd\)/"RUN |1 SUB=sub \/bin\/sh -c \1/'


# 15: ADD of a local tar whose names climb with "../" or are absolute:
# extracted inside the destination (BuildKit untars chrooted into it).
c=$(ctx 15-add-dotdot <<'DF'
FROM busybox AS add
ADD dotdot.tar /dest/
FROM scratch
COPY --from=add /dest /dest
DF
)
python3 - "$c/dotdot.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for name, data in (("ok.txt", b"ok\n"), ("../../up.txt", b"up\n"),
                       ("a/../../b.txt", b"b\n"), ("/abs/c.txt", b"c\n")):
        i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; i.mtime = 1
        t.addfile(i, io.BytesIO(data))
PY
chmod 644 "$c/dotdot.tar"
differential 15-add-dotdot "$c"

# 16-19: multi-stage Dockerfiles in the shapes real projects use, with
# busybox tools standing in for compilers (the builder's semantics are
# what is compared, not the tools').

# 16: a Go service into scratch (the shape of many Go projects' and
# docker's Go guide): module files first, a cache mount for the module and
# build caches, the source through --mount=target=., a minimal passwd, a
# non-root USER and an ENTRYPOINT in exec form.
c=$(ctx 16-go-scratch <<'DF'
ARG GO_VERSION=1.21
FROM busybox AS build
ARG GO_VERSION
ARG TARGETOS=linux TARGETARCH=amd64
WORKDIR /src
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    cat go.mod go.sum >/go/pkg/mod/downloaded && ls /go/pkg/mod >/deps
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=target=. \
    mkdir -p /out && { echo '#!/bin/sh'; echo "echo $GO_VERSION $TARGETOS/$TARGETARCH"; cat main.go; } >/out/server \
    && chmod 0755 /out/server
RUN echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >/etc/passwd.min \
 && echo 'nonroot:x:65532:' >/etc/group.min

FROM scratch
COPY --from=build /etc/passwd.min /etc/passwd
COPY --from=build /etc/group.min /etc/group
COPY --from=build --chmod=0555 /out/server /usr/local/bin/server
USER nonroot:nonroot
EXPOSE 8080/tcp
ENTRYPOINT ["/usr/local/bin/server"]
DF
)
cfile "$c/go.mod" 644 'module example.com/server'
cfile "$c/go.sum" 644 ''
cfile "$c/main.go" 644 'echo main'
# The --chmod parents, COPY's created_by and EXPOSE's are current
# BuildKit's (see 03 and 07).
differential 16-go-scratch "$c" \
  --fsfix 's|^\(/usr\(/local\(/bin\)\{0,1\}\)\{0,1\}\) dir 0755 |\1 dir 0555 |' \
  --fix 's|"COPY \(/out/server /usr/local/bin/server\)|"COPY --chmod=0555 \1|
s#"EXPOSE map\[8080/tcp:{}\]"#"EXPOSE [8080/tcp]"#' 

# 17: a Node app as docker's Node.js guide writes it: a base stage, deps
# with npm ci through bind mounts of package.json and the lock file and a
# cache mount of ~/.npm, a build stage FROM deps, and a final stage with
# production modules, the build output and a non-root user.
c=$(ctx 17-node <<'DF'
FROM busybox AS base
WORKDIR /usr/src/app
FROM base AS deps
RUN --mount=type=bind,source=package.json,target=package.json \
    --mount=type=bind,source=package-lock.json,target=package-lock.json \
    --mount=type=cache,target=/root/.npm \
    mkdir -p node_modules/left-pad && cp package.json node_modules/left-pad/ \
    && echo fetched >>/root/.npm/_cacache && test ! -e /package.json
FROM deps AS build
RUN --mount=type=bind,source=package.json,target=package.json \
    --mount=type=bind,source=package-lock.json,target=package-lock.json \
    --mount=type=cache,target=/root/.npm \
    mkdir -p node_modules/typescript && cat /root/.npm/_cacache >node_modules/typescript/seen
COPY . .
RUN mkdir -p dist && cp src/index.js dist/index.js
FROM base AS final
ENV NODE_ENV=production
USER nobody
COPY package.json .
COPY --from=deps /usr/src/app/node_modules ./node_modules
COPY --from=build /usr/src/app/dist ./dist
EXPOSE 3000
CMD ["node", "dist/index.js"]
DF
)
cfile "$c/package.json" 644 '{"name":"app","version":"1.0.0"}'
cfile "$c/package-lock.json" 644 '{"lockfileVersion":3}'
cfile "$c/src/index.js" 644 'console.log("hi")'
chmod 755 "$c/src"
printf 'node_modules\n' >"$c/.dockerignore"
differential 17-node "$c" --fix 's#"EXPOSE map\[3000/tcp:{}\]"#"EXPOSE [3000/tcp]"#' 

# 18: a Python app with a virtual environment built in one stage and
# copied whole (symlinked interpreter, nested site-packages) into another;
# ENV PATH through the venv; WORKDIR, a relative COPY and an exec-form CMD.
c=$(ctx 18-python-venv <<'DF'
FROM busybox AS builder
ENV VIRTUAL_ENV=/opt/venv
RUN mkdir -p $VIRTUAL_ENV/bin $VIRTUAL_ENV/lib/python3.11/site-packages \
 && ln -s /usr/local/bin/python3 $VIRTUAL_ENV/bin/python \
 && ln -s python $VIRTUAL_ENV/bin/python3 \
 && printf 'home = /usr/local/bin\n' >$VIRTUAL_ENV/pyvenv.cfg
ENV PATH="$VIRTUAL_ENV/bin:$PATH"
COPY requirements.txt /tmp/
RUN --mount=type=cache,target=/root/.cache/pip \
    while read -r p; do mkdir -p "$VIRTUAL_ENV/lib/python3.11/site-packages/$p" \
    && echo "$p" >"$VIRTUAL_ENV/lib/python3.11/site-packages/$p/__init__.py"; done </tmp/requirements.txt
FROM busybox
ENV VIRTUAL_ENV=/opt/venv PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=builder $VIRTUAL_ENV $VIRTUAL_ENV
ENV PATH="$VIRTUAL_ENV/bin:$PATH"
WORKDIR /app
COPY app.py .
RUN echo 'appuser:x:10001:10001::/app:/bin/sh' >>/etc/passwd
USER appuser
CMD ["python", "app.py"]
DF
)
cfile "$c/requirements.txt" 644 $'flask\nrequests'
cfile "$c/app.py" 644 'print("hi")'
differential 18-python-venv "$c"

# 19: a distroless-style assembly and a monorepo: shared libraries copied
# with their version symlinks, certificates and nsswitch.conf into
# scratch, a numeric USER; services built from one context with
# --mount=target=. and --mount=from= of a tools stage, selected by a
# build argument in COPY --from.
c=$(ctx 19-distroless-monorepo <<'DF'
ARG SERVICE=api
FROM busybox AS libs
RUN mkdir -p /lib/x86_64-linux-gnu /etc/ssl/certs \
 && echo libc >/lib/x86_64-linux-gnu/libc.so.6 \
 && echo ssl >/lib/x86_64-linux-gnu/libssl.so.3.0 \
 && ln -s libssl.so.3.0 /lib/x86_64-linux-gnu/libssl.so.3 \
 && echo CA >/etc/ssl/certs/ca-certificates.crt \
 && echo 'hosts: files dns' >/etc/nsswitch.conf
FROM busybox AS tools
RUN mkdir -p /tools && printf '#!/bin/sh\necho "built $1"\n' >/tools/gen && chmod 755 /tools/gen
FROM busybox AS api
WORKDIR /repo
RUN --mount=target=. --mount=from=tools,source=/tools,target=/usr/local/tools \
    mkdir -p /out && /usr/local/tools/gen api >/out/svc && cat services/api/VERSION >>/out/svc
FROM busybox AS worker
WORKDIR /repo
RUN --mount=target=. --mount=from=tools,source=/tools,target=/usr/local/tools \
    mkdir -p /out && /usr/local/tools/gen worker >/out/svc && cat services/worker/VERSION >>/out/svc
FROM ${SERVICE} AS selected
FROM scratch
COPY --from=libs /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libssl.so.* /lib/x86_64-linux-gnu/
COPY --from=libs /etc/ssl/certs /etc/ssl/certs
COPY --from=libs /etc/nsswitch.conf /etc/nsswitch.conf
COPY --from=selected /out/svc /svc
USER 65532:65532
ENTRYPOINT ["/svc"]
DF
)
cfile "$c/services/api/VERSION" 644 1.2.3
cfile "$c/services/worker/VERSION" 644 4.5.6
chmod -R a+rX "$c/services"
differential 19-distroless-monorepo "$c"
differential 19-distroless-monorepo-worker "$c" --build-arg SERVICE=worker

if [[ ${#FAILED[@]} -gt 0 ]]; then
  printf 'difference: %s\n' "${FAILED[@]}" >&2
  fail "${#FAILED[@]} difference(s) between mason and BuildKit"
fi
echo "build_differential: ok"
