"""The benchmark's cases: build contexts, Dockerfiles and the one-file change.

Every case is built the same way by every builder: the same context
directory, the same Dockerfile (kept outside the context, passed with -f),
the same base images. Each RUN is wrapped by `timed()` so that it prints
`BENCH_RUN <start> <end>` (host uptime seconds, from /proc/uptime, 10 ms
resolution): the union of these intervals is the time the RUN commands
themselves took, and the rest of a build's wall time is the builder's own
overhead.
"""
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import gen_context

REPO = Path(__file__).resolve().parent.parent


def timed(cmd):
    """A RUN instruction running the shell command CMD, timed from inside."""
    return ("RUN t0=$(cut -d' ' -f1 /proc/uptime) && { " + cmd + "; } && "
            "echo \"BENCH_RUN $t0 $(cut -d' ' -f1 /proc/uptime)\"")


_RUN = re.compile(r"^RUN((?:\s+--\S+)*)\s+(?!\[)(.*\S)\s*$")


def instrument(text):
    """TEXT (a Dockerfile) with each one-line shell-form RUN timed."""
    out = []
    for line in text.splitlines():
        m = _RUN.match(line)
        if m and not line.rstrip().endswith("\\"):
            flags, cmd = m.group(1), m.group(2)
            line = timed(cmd).replace("RUN", "RUN" + flags, 1)
        out.append(line)
    return "\n".join(out) + "\n"


@dataclass
class Case:
    name: str
    title: str
    bases: list
    ctx: Path
    dockerfile: Path
    change_file: Path
    change_note: str
    original: bytes = b""
    target: Optional[str] = None
    comment: str = "#"
    compare: bool = True
    forbid: Optional[str] = None     # output that must never appear (a pruned stage ran)
    equalize: bool = True            # RUN time independent of the builder (not so for parallel stages)
    notes: list = field(default_factory=list)
    restore_fn: Optional[Callable] = None
    unsupported: dict = field(default_factory=dict)  # builder name -> why it cannot build the case

    def restore(self):
        """Puts the changed file back to its original bytes."""
        if self.restore_fn:
            self.restore_fn()
        else:
            self.change_file.write_bytes(self.original)

    def change(self, run):
        """The one-file change of run RUN (a different edit every run)."""
        with open(self.change_file, "ab") as f:
            f.write(f"\n{self.comment} bench edit {run}\n".encode())


def _fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _case(name, title, bases, ctx, df, change, note, **kw):
    c = Case(name, title, bases, ctx, df, ctx / change, note, **kw)
    if not c.restore_fn:
        c.original = c.change_file.read_bytes()
    return c


def go(work, cache, quick):
    """examples/go: Go compiled in golang:1.21, the binary alone in scratch."""
    ctx = _fresh(work / "ctx" / "go")
    shutil.copytree(REPO / "examples/go", ctx, dirs_exist_ok=True)
    df = _write(work / "df" / "go.Dockerfile", instrument((REPO / "examples/go/Dockerfile").read_text()))
    return _case("go", "examples/go (Go in golang:1.21, binary alone in scratch)", ["golang:1.21"],
                 ctx, df, "main.go", "main.go (selected by `COPY . .`; `go build` runs again)", comment="//")


def node(work, cache, quick):
    """examples/node: npm install and a build in node:18, output in node:18-slim."""
    ctx = _fresh(work / "ctx" / "node")
    shutil.copytree(REPO / "examples/node", ctx, dirs_exist_ok=True)
    df = _write(work / "df" / "node.Dockerfile", instrument((REPO / "examples/node/Dockerfile").read_text()))
    c = _case("node", "examples/node (npm install + build in node:18, runtime node:18-slim)",
              ["node:18", "node:18-slim"], ctx, df, "src/main.js",
              "src/main.js (selected by `COPY . .`; `npm run build` runs again, `npm install` stays cached)",
              comment="//")
    c.notes.append("`npm install` fetches is-number from registry.npmjs.org through this machine's "
                   "intercepting https proxy (node:18 trusts its CA): network time is part of every cold build.")
    return c


TARGETS = """\
# --target production: the development stage must not be built.
FROM busybox AS base
WORKDIR /src
COPY src/ ./
{run_base}

FROM base AS development
{run_dev}

FROM base AS production
COPY etc/ /etc/app/
{run_prod}
CMD ["sh", "/src/app.sh"]
"""


def targets(work, cache, quick):
    """A light --target case on busybox (examples/targets.Dockerfile needs apt)."""
    ctx = _fresh(work / "ctx" / "targets")
    for i in range(20):
        _write(ctx / "src" / f"mod{i:02d}.sh", f"# module {i}\necho module {i}\n" * 20)
    _write(ctx / "src" / "app.sh", "#!/bin/sh\nfor m in /src/mod*.sh; do . \"$m\"; done\n")
    _write(ctx / "etc" / "app.conf", "mode=production\n")
    df = _write(work / "df" / "targets.Dockerfile", TARGETS.format(
        run_base=timed("sha256sum *.sh > /sums && sleep 1"),
        run_dev=timed("echo DEV_STAGE_$((40+2)) && sleep 3"),
        run_prod=timed("cp /sums /etc/app/sums && sleep 1"),
    ))
    c = _case("targets", "--target production of base/development/production stages (busybox)",
              ["busybox:latest"], ctx, df, "src/app.sh",
              "src/app.sh (selected by `COPY src/ ./` in the base stage; both later RUNs run again)",
              target="production", forbid="DEV_STAGE_42")
    c.notes.append("RUN work is known: `sleep 1` in base and production (the pruned development "
                   "stage would add `sleep 3`).")
    return c


def parallel(work, cache, quick):
    """Four independent stages (sleep + CPU work) merged into a scratch stage."""
    n = 4
    ctx = _fresh(work / "ctx" / "parallel")
    parts = []
    for i in range(1, n + 1):
        _write(ctx / "in" / f"p{i}.txt", f"input of stage p{i}\n")
        parts.append(f"FROM busybox AS p{i}\nCOPY in/p{i}.txt /in.txt\n" + timed(
            "sleep 2 && dd if=/dev/zero bs=1M count=150 2>/dev/null | sha256sum > /out && cat /in.txt >> /out") + "\n")
    final = "FROM scratch\n" + "".join(f"COPY --from=p{i} /out /p{i}.out\n" for i in range(1, n + 1))
    df = _write(work / "df" / "parallel.Dockerfile", "\n".join(parts) + "\n" + final)
    c = _case("parallel", f"{n} independent stages (sleep 2 + sha256 of 150 MB each) merged into scratch",
              ["busybox:latest"], ctx, df, "in/p2.txt",
              "in/p2.txt (only stage p2 and the final COPY run again)", equalize=False)
    c.notes.append(f"Serial RUN work would be {n} x (2 s + ~0.9 s CPU); with 2 cores the ideal is about "
                   "2 s + 4 x 0.9 s / 2. The RUN time reported is the union of the RUN intervals.")
    return c


LARGE = """\
FROM busybox
WORKDIR /data
COPY . /data/
{run}
"""


def large(work, cache, quick):
    """10,000 files, 500 MB (quick: 2,000 files, 100 MB), copied and then counted."""
    files, total = (2000, 100_000_000) if quick else (10000, 500_000_000)
    ctx = cache / f"ctx-large-{files}"
    gen = gen_context.ensure(str(ctx), files, total)
    idx = 4001 if files > 4001 else files // 2 + 1
    rel = gen_context.rel_path(idx)
    df = _write(work / "df" / "large.Dockerfile", LARGE.format(
        run=timed("find /data -type f | wc -l > /count && du -sk /data >> /count")))

    def restore():
        gen.write(str(ctx), idx)

    restore()  # an interrupted earlier run may have left it changed
    c = _case("large", f"large context: {files:,} files, {total // 1_000_000} MB, `COPY . /data/` + a small RUN",
              ["busybox:latest"], ctx, df, rel,
              f"{rel} (one text file of the context; the whole COPY and the RUN run again)",
              restore_fn=restore)
    c.notes.append(f"Context generated by bench/gen_context.py into {ctx} (seeded: the same bytes every time; "
                   "one file in five is random bytes, the rest pseudo-text).")
    return c


LINK = """\
FROM busybox AS base
COPY base.txt /etc/base.txt
{run}

FROM base
COPY --link data/ /data/
"""


def link(work, cache, quick):
    """The large case's tree COPY --link'ed over a base stage that changes."""
    files, total = (2000, 100_000_000) if quick else (10000, 500_000_000)
    gen_context.ensure(str(cache / f"ctx-large-{files}"), files, total)
    ctx = _fresh(work / "ctx" / "link")
    shutil.copytree(cache / f"ctx-large-{files}", ctx / "data")  # the stores' file system
    _write(ctx / "base.txt", "the base stage's input\n")
    df = _write(work / "df" / "link.Dockerfile", LINK.format(run=timed("wc -c /etc/base.txt > /base.out")))
    c = _case("link", f"`COPY --link` of {files:,} files, {total // 1_000_000} MB over a base stage",
              ["busybox:latest"], ctx, df, "base.txt",
              "base.txt (the base stage changes: its RUN runs again; the `--link` layer is reused, "
              "only put over the new base)")
    c.unsupported = {"buildkit": "dockerd 20.10's BuildKit 0.8 has no `COPY --link` (Dockerfile syntax 1.4)",
                     "buildah": "Debian's buildah does not accept `COPY --link`"}
    c.notes.append("The tree is a copy of the large case's. The change is a base change under a "
                   "`--link` layer: BuildKit reuses the layer through its merge op, mason through the "
                   "link layer's own cache key.")
    return c


def long_(work, cache, quick):
    """A long Dockerfile: 60+ instructions mixing RUN/COPY/ENV/WORKDIR/LABEL on busybox."""
    groups = 12
    ctx = _fresh(work / "ctx" / "long")
    lines = ["FROM busybox", "LABEL org.example.case=long"]
    for i in range(groups):
        _write(ctx / "files" / f"f{i:02d}.txt", f"file {i}\n" * (50 * (i + 1)))
        lines += [
            f"ENV STEP{i}=value-{i} PATH_{i}=/app/w{i}",
            f"WORKDIR /app/w{i}",
            f"COPY files/f{i:02d}.txt ./",
            timed(f"wc -c f{i:02d}.txt > len.txt && echo \"$STEP{i}\" >> /app/log"),
            f"LABEL org.example.step{i}=\"group {i}\"",
        ]
    lines += ["WORKDIR /app", 'CMD ["cat", "/app/log"]']
    df = _write(work / "df" / "long.Dockerfile", "\n".join(lines) + "\n")
    change = 8
    c = _case("long", f"long Dockerfile: {len(lines)} instructions ({groups} x ENV/WORKDIR/COPY/RUN/LABEL) on busybox",
              ["busybox:latest"], ctx, df, f"files/f{change:02d}.txt",
              f"files/f{change:02d}.txt (copied at instruction {2 + 5 * change + 3} of {len(lines)}: "
              f"the last {groups - change} COPY/RUN pairs run again)")
    return c


ALL = {"go": go, "node": node, "targets": targets, "parallel": parallel, "large": large, "link": link,
       "long": long_}
QUICK = ["go", "targets", "parallel", "large", "link", "long"]
