#!/usr/bin/env bash
# mason build, multi-stage, on busybox: a scratch final stage holds only
# what was copied; --target prunes (a failing stage that is not needed is
# never run); independent stages overlap in time (from progress events);
# mason run passes output and exit code through; a failing RUN names its
# line and exit code.
source "$(dirname "$0")/lib.sh"
import_busybox

ctx=$(context ms <<'DF'
FROM busybox AS builder
WORKDIR /src
RUN echo 'echo hello from the house' >hello.sh && chmod 755 hello.sh && mkdir -p out && cp hello.sh out/

FROM busybox AS broken
RUN echo "this stage must never run" && exit 7

FROM scratch
COPY --from=builder /src/out/hello.sh /hello.sh
COPY --from=busybox /bin/busybox /bin/sh
CMD ["/bin/sh", "/hello.sh"]
DF
)
"$MASON" build --progress plain -t e2e/ms "$ctx" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err"; fail "build failed"; }
grep -q "must never run" "$WORK/err" && fail "the unneeded stage ran"
grep -q "the house" "$WORK/out" || fail "no size table: $(cat "$WORK/out")"
[[ $("$MASON" run --rm e2e/ms) == "hello from the house" ]] || fail "mason run output"
set +e; "$MASON" run --rm e2e/ms /bin/sh -c 'exit 5'; rc=$?; set -e
[[ $rc -eq 5 ]] || fail "mason run exit code $rc, want 5"

# The final image holds the two copied files and nothing else.
"$MASON" save e2e/ms -o "$WORK/ms.tar"
fs_listing "$WORK/ms.tar" | awk '{print $1, $2}' >"$WORK/list"
printf '/bin dir\n/bin/sh file\n/hello.sh file\n' | diff - "$WORK/list" || fail "final image content"
cfg=$("$MASON" inspect e2e/ms)
echo "$cfg" | python3 -c '
import json,sys
c=json.load(sys.stdin)[0]["Config"]
assert c["Cmd"]==["/bin/sh","/hello.sh"], c["Cmd"]
assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in c["Env"], c["Env"]
' || fail "config of the scratch image"

# --target builder: only that stage; broken never runs either.
"$MASON" build --progress plain --target builder -t e2e/ms-builder "$ctx" >/dev/null 2>"$WORK/err2" || fail "--target build"
grep -q "must never run" "$WORK/err2" && fail "the unneeded stage ran with --target"
[[ $("$MASON" run --rm e2e/ms-builder cat /src/out/hello.sh) == "echo hello from the house" ]] || fail "target image"

# --target broken: the failure names the line and the exit code.
set +e
"$MASON" build --progress plain --target broken "$ctx" >/dev/null 2>"$WORK/err3"; rc=$?
set -e
[[ $rc -ne 0 ]] || fail "a failing RUN succeeded"
grep -q "Dockerfile:6" "$WORK/err3" || { cat "$WORK/err3"; fail "error does not name Dockerfile:6"; }
grep -q "exit code: 7" "$WORK/err3" || fail "error does not give the exit code"
grep -q "this stage must never run" "$WORK/err3" || fail "error does not show the output"

# Two independent stages overlap, read from the progress events.
par=$(context par <<'DF'
FROM busybox AS a
RUN sleep 1 && echo a >/a
FROM busybox AS b
RUN sleep 1 && echo b >/b
FROM scratch
COPY --from=a /a /a
COPY --from=b /b /b
DF
)
"$MASON" build --progress json --jobs 2 -t e2e/par "$par" 2>"$WORK/events" >/dev/null || fail "parallel build"
python3 - "$WORK/events" <<'PY' || fail "stages a and b did not overlap"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
names = {e["vertex"]: e["name"] for e in ev if e["kind"] == "started"}
def span(prefix):
    v = next(k for k, n in names.items() if n.startswith(prefix))
    start = next(e["time"] for e in ev if e["vertex"] == v and e["kind"] == "started")
    end = next(e["time"] for e in ev if e["vertex"] == v and e["kind"] in ("done", "failed"))
    return start, end
a, b = span("[a 2/2] RUN"), span("[b 2/2] RUN")
assert a[0] < b[1] and b[0] < a[1], (a, b)
PY
# By default every ready stage runs at once (as BuildKit), more stages than
# cores included: four stages meet in a shared cache mount, each waiting
# (at most 20 s) until all four are there, and write how many they saw.
# With fewer at once the first ones would give up and see fewer than 4.
rv=$(context rendezvous <<'DF'
FROM busybox AS s1
RUN --mount=type=cache,id=rendezvous,target=/rv,sharing=shared touch /rv/s1 && i=0 && while [ $(ls /rv | wc -l) -lt 4 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done && ls /rv | wc -l >/seen
FROM busybox AS s2
RUN --mount=type=cache,id=rendezvous,target=/rv,sharing=shared touch /rv/s2 && i=0 && while [ $(ls /rv | wc -l) -lt 4 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done && ls /rv | wc -l >/seen
FROM busybox AS s3
RUN --mount=type=cache,id=rendezvous,target=/rv,sharing=shared touch /rv/s3 && i=0 && while [ $(ls /rv | wc -l) -lt 4 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done && ls /rv | wc -l >/seen
FROM busybox AS s4
RUN --mount=type=cache,id=rendezvous,target=/rv,sharing=shared touch /rv/s4 && i=0 && while [ $(ls /rv | wc -l) -lt 4 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done && ls /rv | wc -l >/seen
FROM busybox
COPY --from=s1 /seen /s1
COPY --from=s2 /seen /s2
COPY --from=s3 /seen /s3
COPY --from=s4 /seen /s4
DF
)
"$MASON" build -q -t e2e/rv "$rv" >/dev/null || fail "rendezvous build"
seen=$("$MASON" run --rm e2e/rv sh -c 'cat /s1 /s2 /s3 /s4' | tr -d ' ' | tr '\n' ' ')
[[ $seen == "4 4 4 4 " ]] || fail "stages did not all run at once by default: each saw [$seen]"
# A stage's size in the table is its layers added up (docker's image SIZE):
# a file written by one RUN and deleted by the next still counts.
sizes=$(context sizes <<'DF'
FROM busybox AS scratchpad
RUN dd if=/dev/zero of=/big bs=1M count=3 2>/dev/null
RUN rm /big
FROM busybox
COPY --from=scratchpad /etc/passwd /copied
DF
)
"$MASON" build --progress plain -t e2e/sizes "$sizes" >"$WORK/sizes.out" 2>&1 || { cat "$WORK/sizes.out"; fail "sizes build"; }
python3 - "$WORK/sizes.out" <<'PY' || { cat "$WORK/sizes.out"; fail "stage sizes are not added up along the layers"; }
import re, sys
units = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+)\s+busybox\S*\s+([\d.]+) ?(B|kB|MB|GB)\s", line)
    if m: rows[m.group(1)] = float(m.group(2)) * units[m.group(3)]
assert rows["scratchpad"] - rows["stage-1"] >= 3.0e6, rows
PY
echo "build_multistage: ok"
