"""Machine description and the RESULTS.md renderer of the benchmark."""
import os
import platform
import re
import statistics
import subprocess
import time

BUILDERS = ("mason", "buildkit", "buildah")
LABEL = {"mason": "mason", "buildkit": "BuildKit", "buildah": "buildah", "buildkit24": "BuildKit (current)"}
SCEN = {"cold": "cold", "unchanged": "unchanged rebuild", "change": "one-file change"}
ALL_SCEN = {"cold+unpack": "cold, bases not unpacked yet (mason only)", **SCEN}
TARGET = {"cold": 1.0, "unchanged": 0.25, "change": 0.9}
# Against a current BuildKit (issue 15): the cold build must be faster still,
# and mason's first build after `mason load` at most 1.1 of its cold build.
TARGET_CURRENT = {"cold": 0.9, "unchanged": 0.25, "change": 0.9}
TARGET_FIRST_AFTER_LOAD = 1.1
CI_TARGET = {"ci-cold": 0.8, "ci-warm": 0.5}
CI_LABEL = {"ci-cold": "CI cold (empty store, pull, push, cache export)",
            "ci-warm": "CI warm (empty store, registry cache import, nothing changed)"}
MEM_TARGET_MB = 150
OVERHEAD_TARGET = 0.10


def _cmd(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def machine(a, runs, names, versions):
    mem = "?"
    cpu = "?"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "date_cmd": _cmd(["date"]),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "os": _cmd(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "load_start": open("/proc/loadavg").read().split()[:3],
        "mode": "quick" if a.quick else "full",
        "runs": runs,
        "cases": names,
        "buildah_jobs": a.buildah_jobs,
        "versions": versions + [("runc", _cmd(["runc", "--version"]).splitlines()[0] if _cmd(["runc", "--version"]) else "?")],
    }


def med(ms, key="wall"):
    vals = [m[key] for m in ms if m.get("rc") == 0 and m.get(key) is not None]
    return statistics.median(vals) if vals else None


def overhead(m):
    return m["wall"] - m["run_s"] if m.get("rc") == 0 else None


def med_overhead(ms):
    vals = [overhead(m) for m in ms if m.get("rc") == 0]
    return statistics.median(vals) if vals else None


def fmt_s(v):
    return "—" if v is None else f"{v:.2f} s"


def fmt_r(a, b):
    return "—" if a is None or b is None or b <= 0 else f"{a / b:.2f}"


def spread(ms):
    vals = sorted(m["wall"] for m in ms if m.get("rc") == 0)
    if len(vals) < 2:
        return ""
    return f" ({vals[0]:.2f}–{vals[-1]:.2f})"


def cell(ms):
    if not ms:
        return "—"
    ok = [m for m in ms if m.get("rc") == 0]
    if not ok:
        return "failed"
    s = fmt_s(med(ms)) + spread(ms)
    if len(ok) < len(ms):
        s += f" [{len(ms) - len(ok)} failed]"
    return s


def mem_kb(m):
    """A builder's memory in one build: the sampled tree (see the Memory
    section); a build shorter than the sampling interval has no sample,
    then ru_maxrss stands in when no RUN ran (it is then the builder's own)."""
    return max(m.get("tree_kb") or 0, m.get("own_kb") or 0,
               (m.get("maxrss_kb") or 0) if not m.get("runs") else 0) or None


def peak_mb(ms, key="mem"):
    vals = [mem_kb(m) if key == "mem" else m.get(key) for m in ms]
    vals = [v for v in vals if v]
    return max(vals) / 1024 if vals else None


def case_info(c):
    """What the report needs of a case (kept in results.json for --render)."""
    info = {k: getattr(c, k) for k in ("name", "title", "change_note", "notes", "target", "compare", "forbid",
                                       "equalize")}
    info["notes"] = info["notes"] + [f"Not run with {b}: {why}." for b, why in
                                     getattr(c, "unsupported", {}).items()]
    return info


def fmt_mb(v):
    return "—" if v is None else f"{v:.0f} MB"


def median_run(ms):
    ok = sorted((m for m in ms if m.get("rc") == 0), key=lambda m: m["wall"])
    return ok[(len(ok) - 1) // 2] if ok else None


def _pretty(title):
    """A step title without the benchmark's RUN timing wrapper, shortened."""
    t = title.replace("t0=$(cut -d' ' -f1 /proc/uptime) && { ", "")
    t = re.sub(r"; \} && echo \"BENCH_RUN .*$", "", t)
    return t if len(t) <= 90 else t[:87] + "..."


def _step_keys(steps):
    """Keys that pair the same step in mason's and BuildKit's logs:
    (stage, instruction keyword, ordinal of that keyword in the stage).
    Titles differ (BuildKit shows RUN with ENV expanded, counts only
    filesystem steps), so the text itself cannot be matched."""
    parsed = []
    for t, d, cached in steps:
        m = re.match(r"^\[\s*(.*?)\s*\d+/\d+\]\s+(\S+)", t)
        parsed.append((m.group(1), m.group(2).upper()) if m else (None, t))
    single = len({st for st, _ in parsed if st is not None}) == 1
    seen, keys = {}, []
    for st, kw in parsed:
        st = "" if single or st is None else st
        n = seen[(st, kw)] = seen.get((st, kw), 0) + 1
        keys.append((st, kw, n))
    return keys


def met(a, b, limit):
    """Whether the ratio a/b is within `limit` ("—" when not measured)."""
    if a is None or not b:
        return "—"
    return "yes" if a / b <= limit else "**no**"


def current_section(w, cases, results):
    """mason against a current buildkitd (bench --buildkit): the issue's
    targets, met or not, one row per case and scenario."""
    w("## Against a current BuildKit\n")
    w("mason's median wall time over that of a current buildkitd (the version is under Machine), same run, "
      "builders interleaved. Targets: cold at most 0.9, unchanged rebuild at most 0.25, one-file change at "
      "most 0.9; mason's first build after `mason load` at most 1.1 of its own cold build; with `--ci`, the "
      "CI cold build at most 0.8 and the CI warm build at most 0.5.\n")
    w("| case | scenario | mason | current BuildKit | ratio | target | met |")
    w("| --- | --- | --- | --- | --- | --- | --- |")
    # (scenario, label, limit, shown only when measured: the CI ones need --ci)
    rows = [(sc, SCEN[sc], limit, False) for sc, limit in TARGET_CURRENT.items()] + \
        [(sc, CI_LABEL[sc], limit, True) for sc, limit in CI_TARGET.items()]
    for c in cases:
        r = results.get(c.name, {})
        m, b = r.get("mason", {}), r.get("buildkit24", {})
        for sc, label, limit, optional in rows:
            mm, bm = med(m.get(sc, [])), med(b.get(sc, []))
            if optional and mm is None and bm is None:
                continue
            w(f"| {c.name} | {label} | {cell(m.get(sc, []))} | {cell(b.get(sc, []))} | {fmt_r(mm, bm)} | "
              f"≤ {limit} | {met(mm, bm, limit)} |")
        first, cold = med(m.get("cold+unpack", [])), med(m.get("cold", []))
        if first is not None and cold:
            w(f"| {c.name} | first build after `mason load` / mason cold | {cell(m.get('cold+unpack', []))} | "
              f"— | {fmt_r(first, cold)} | ≤ {TARGET_FIRST_AFTER_LOAD} | {met(first, cold, TARGET_FIRST_AFTER_LOAD)} |")
    w("")


def render(meta, cases, results):
    L = []
    w = L.append
    have = [b for b in BUILDERS if any(b in results.get(c.name, {}) for c in cases)]
    w("# mason benchmark results\n")
    w(f"Generated by `bench/run.sh` ({meta['mode']} mode, {meta['runs']} run(s) per case and builder, "
      f"medians shown) on {meta['date']}; the whole run took {meta['elapsed_min']:.1f} minutes. "
      "See bench/README.md for what is measured and how.\n")
    w("## Machine\n")
    w(f"- `date`: {meta['date_cmd']}")
    w(f"- nproc: {meta['nproc']} ({meta['cpu']}), memory {meta['memory']}, kernel {meta['kernel']}, {meta['os']}")
    w(f"- load average at start {' '.join(meta['load_start'])}, at end {' '.join(meta['load_end'])} "
      "(the machine is shared: other work running at the same time adds noise)")
    for name, v in meta["versions"]:
        w(f"- {LABEL.get(name, name)}: {v}")
    w(f"- buildah runs `bud --runtime runc --network host --layers --tls-verify=false --pull=never "
      f"--jobs {meta['buildah_jobs']}`; BuildKit `DOCKER_BUILDKIT=1 docker build --network host --progress plain`; "
      "mason `build --network host --progress plain`.")
    if meta.get("fs") == "loop":
        w("- stores (mason roots, dockerd's data root, buildah's storage) on a loop-mounted ext4 with a journal "
          "in the cache dir: this machine's root file system is ext4 without one, where creating files right "
          "after a large deletion is several times slower (see bench/README.md)")
    w("- base images (identical image IDs in all three stores): " +
      ", ".join(f"`{k}` {v[7:19]}" for k, v in meta["base_ids"].items()))
    w("")

    # ------------------------------------------------------------ summary
    w("## Against the issue's targets\n")
    w("Ratios are mason's median wall time over BuildKit's (and buildah's) for the same case and scenario; "
      "below 1 means mason is faster. Cold builds start from a store holding the base images ready to use "
      "(unpacked) and no build cache; the last column is mason's first build after `mason load` (which "
      "unpacks the layers, as docker load and buildah pull do; mason before 2026-12 unpacked at first use, "
      "and this column measured that).\n")
    w("| case | cold m/BK (≤ 1.0) | unchanged m/BK (≤ 0.25) | one-file m/BK (≤ 0.9) | cold m/buildah | "
      "unchanged m/buildah | one-file m/buildah | cold incl. unpacking bases, m/BK |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- |")
    verdict = {sc: [] for sc in TARGET}
    for c in cases:
        r = results.get(c.name, {})
        row = [c.name]
        for ref in ("buildkit", "buildah"):
            for sc in TARGET:
                mm, rm = med(r.get("mason", {}).get(sc, [])), med(r.get(ref, {}).get(sc, []))
                s = fmt_r(mm, rm)
                if ref == "buildkit" and mm is not None and rm:
                    ok = mm / rm <= TARGET[sc]
                    verdict[sc].append(ok)
                    s = f"**{s}**" if ok else f"{s} ✗"
                row.append(s)
        row.append(fmt_r(med(r.get("mason", {}).get("cold+unpack", [])), med(r.get("buildkit", {}).get("cold", []))))
        w("| " + " | ".join(row) + " |")
    w("")
    if any("buildkit24" in results.get(c.name, {}) for c in cases):
        current_section(w, cases, results)
    w("")
    spread_ = []
    for c in cases:
        for sc in ("cold", "change"):
            runs = [m["run_s"] for b in BUILDERS for m in results.get(c.name, {}).get(b, {}).get(sc, [])
                    if m.get("rc") == 0 and m["run_s"] > 1]
            if len(runs) > 1:
                spread_.append((max(runs) / min(runs), c.name, SCEN[sc], min(runs), max(runs)))
    example = ""
    if spread_:
        _, cn, sn, lo, hi = max(spread_)
        example = f" (the RUN commands of the {cn} case's {sn} build took from {lo:.1f} s to {hi:.1f} s)"
    w("The RUN commands themselves vary from build to build on this shared machine" + example +
      ", and that noise goes straight into the ratios above. With the RUN time equalized — each builder's "
      "median overhead plus the same RUN time (the median over all builders' builds of that case and "
      "scenario) — the ratios are as follows (not for cases where the RUN time depends on how the builder "
      "schedules the stages):\n")
    w("| case | cold m/BK | one-file m/BK | cold m/buildah | one-file m/buildah | RUN time used (cold / one-file) |")
    w("| --- | --- | --- | --- | --- | --- |")
    for c in cases:
        r = results.get(c.name, {})
        row, used = [c.name], []
        if not getattr(c, "equalize", True):
            w(f"| {c.name} | — | — | — | — | the RUN time is the builder's stage schedule here |")
            continue
        for ref in ("buildkit", "buildah"):
            for sc in ("cold", "change"):
                runs = [m["run_s"] for b in BUILDERS for m in r.get(b, {}).get(sc, []) if m.get("rc") == 0]
                R = statistics.median(runs) if runs else None
                mo, ro = med_overhead(r.get("mason", {}).get(sc, [])), med_overhead(r.get(ref, {}).get(sc, []))
                row.append("—" if None in (R, mo, ro) else fmt_r(mo + R, ro + R))
                if ref == "buildkit":
                    used.append(fmt_s(R))
        w("| " + " | ".join(row + [" / ".join(used)]) + " |")
    w("")
    for sc in TARGET:
        v = verdict[sc]
        if v:
            w(f"- {SCEN[sc]} at most {TARGET[sc]} of BuildKit's time: met in {sum(v)} of {len(v)} cases.")
    # overhead
    ov = []
    for c in cases:
        r = results.get(c.name, {})
        for sc in ("cold", "change"):
            mo, bo = med_overhead(r.get("mason", {}).get(sc, [])), med_overhead(r.get("buildkit", {}).get(sc, []))
            bw = med(r.get("buildkit", {}).get(sc, []))
            if mo is not None and bo:
                ov.append((c.name, sc, mo, bo, bw))
    if ov:
        met = sum(1 for _, _, mo, bo, _ in ov if mo <= OVERHEAD_TARGET * bo)
        below = sum(1 for _, _, mo, bo, _ in ov if mo < bo)
        of_wall = [(n, sc) for n, sc, mo, _, bw in ov if bw and mo <= OVERHEAD_TARGET * bw]
        w(f"- mason's overhead (wall time minus the time its RUN commands ran) under 10% of BuildKit's overhead: "
          f"met in {met} of {len(ov)} case/scenario pairs (cold and one-file change; table below); "
          f"below BuildKit's overhead in {below} of {len(ov)}. Read as under 10% of BuildKit's whole build "
          f"time: met in {len(of_wall)} of {len(ov)} ({', '.join(f'{n} {SCEN[sc]}' for n, sc in of_wall) or 'none'}).")
    lg = results.get("large", {}).get("mason")
    if lg:
        pk = max(peak_mb(lg.get(sc, [])) or 0 for sc in ALL_SCEN)
        pm = max(peak_mb(lg.get(sc, []), "maxrss_kb") or 0 for sc in ALL_SCEN)
        bk = results.get("large", {}).get("buildkit", {})
        dk = max((peak_mb(bk.get(sc, []), "daemon_peak_kb") or 0 for sc in SCEN), default=0)
        w(f"- peak memory on the large-context case under {MEM_TARGET_MB} MB: mason peaked at {pk:.0f} MB "
          f"(its processes outside containers; `/usr/bin/time -f %M`: {pm:.0f} MB) — "
          f"{'met' if max(pk, pm) < MEM_TARGET_MB else 'not met'}. dockerd peaked at {dk:.0f} MB on this case.")
    w("")

    # ------------------------------------------------------------ overhead
    w("## Overhead: wall time minus RUN time\n")
    w("Each RUN prints its own start and end (host uptime, 10 ms resolution); the union of these intervals "
      "is the RUN time of a build, the rest is the builder's overhead (context transfer, snapshots, "
      "container start, layer diff/commit, export). Medians over the runs.\n")
    w("| case | scenario | RUN time (mason / BK / buildah) | mason overhead | BuildKit overhead | buildah overhead | "
      "mason/BK overhead | mason overhead / BK wall |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for c in cases:
        r = results.get(c.name, {})
        for sc in SCEN:
            rt = " / ".join(fmt_s(med(r.get(b, {}).get(sc, []), "run_s")).replace(" s", "")
                            for b in BUILDERS) + " s"
            mo = med_overhead(r.get("mason", {}).get(sc, []))
            bo = med_overhead(r.get("buildkit", {}).get(sc, []))
            ho = med_overhead(r.get("buildah", {}).get(sc, []))
            bw = med(r.get("buildkit", {}).get(sc, []))
            w(f"| {c.name} | {SCEN[sc]} | {rt} | {fmt_s(mo)} | {fmt_s(bo)} | {fmt_s(ho)} | {fmt_r(mo, bo)} | "
              f"{fmt_r(mo, bw)} |")
    w("")

    # ------------------------------------------------------------ memory
    w("## Memory\n")
    w("Max over the runs. *own*: the builder process's peak RSS (VmHWM, sampled every 50 ms until it exits); "
      "*tree*: the largest sum of RSS over the builder and its descendants outside containers (runc "
      "included, the RUN commands left out), sampled every 50 ms; *%M*: what `/usr/bin/time -f %M` reports "
      "(wait4's ru_maxrss: the largest single process of the tree, RUN commands included, so a `go build` "
      "shows up there). BuildKit runs inside dockerd: *dockerd peak* is dockerd's VmHWM during the build "
      "(reset before each build through /proc/PID/clear_refs), with its RSS before the build in brackets; "
      "the docker CLI (which sends the context) is listed apart.\n")
    w("| case | scenario | mason tree (own) | mason %M | dockerd peak (before) | docker CLI | buildah tree (own) | buildah %M |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for c in cases:
        r = results.get(c.name, {})
        for sc in SCEN:
            bk = r.get("buildkit", {}).get(sc, [])
            before = [m.get("daemon_rss_before_kb") for m in bk if m.get("daemon_rss_before_kb")]
            dk = fmt_mb(peak_mb(bk, "daemon_peak_kb"))
            if before:
                dk += f" ({min(before) / 1024:.0f}–{max(before) / 1024:.0f} MB)"
            ma, ba = r.get("mason", {}).get(sc, []), r.get("buildah", {}).get(sc, [])
            w(f"| {c.name} | {SCEN[sc]} | {fmt_mb(peak_mb(ma))} ({fmt_mb(peak_mb(ma, 'own_kb'))}) | "
              f"{fmt_mb(peak_mb(ma, 'maxrss_kb'))} | {dk} | {fmt_mb(peak_mb(bk))} | "
              f"{fmt_mb(peak_mb(ba))} ({fmt_mb(peak_mb(ba, 'own_kb'))}) | {fmt_mb(peak_mb(ba, 'maxrss_kb'))} |")
    w("")

    # ------------------------------------------------------------ per case
    w("## Cases\n")
    for c in cases:
        r = results.get(c.name, {})
        w(f"### {c.name}: {c.title}\n")
        w(f"One-file change: {c.change_note}." + (f" Target: `--target {c.target}`." if c.target else ""))
        for n in c.notes:
            w(n)
        w("")
        w("| scenario | " + " | ".join(LABEL[b] for b in have) + " | mason/BuildKit | mason/buildah | "
          "CPU s (m / BK / buildah) | steps cached (m / BK / buildah) |")
        w("| --- | " + " | ".join("---" for _ in have) + " | --- | --- | --- | --- |")
        for sc in ALL_SCEN:
            ms = {b: r.get(b, {}).get(sc, []) for b in BUILDERS}
            if sc == "cold+unpack":
                if not ms["mason"]:
                    continue
                # compared with the others' cold builds: they unpacked their bases at load time
                ms["buildkit"] = r.get("buildkit", {}).get("cold", [])
                ms["buildah"] = r.get("buildah", {}).get("cold", [])
            cpu = " / ".join("—" if med(ms[b], "cpu") is None else f"{med(ms[b], 'cpu'):.1f}" for b in BUILDERS)
            cached = " / ".join("—" if not ms[b] else str(median_run(ms[b])["cached"]) if median_run(ms[b]) else "—"
                                for b in BUILDERS)
            cells = [cell(ms[b]) if (sc != "cold+unpack" or b == "mason") else "(cold)" for b in have]
            w(f"| {ALL_SCEN[sc]} | " + " | ".join(cells) +
              f" | {fmt_r(med(ms['mason']), med(ms['buildkit']))} | {fmt_r(med(ms['mason']), med(ms['buildah']))} |"
              f" {cpu} | {cached} |")
        prep = [p for p in r.get("mason", {}).get("prep_s", []) if p is not None]
        if prep:
            w(f"\nBefore its cold build, mason's store gets the bases loaded and made sure unpacked (`mason run "
              f"--rm IMAGE true`, {statistics.median(prep):.1f} s median, not timed); mason load, docker load and "
              "buildah pull unpack at load time. The first row times the first build after `mason load`, "
              "against the others' cold builds.")
        w("")
        # correctness
        lists = {b: r.get(b, {}).get("listing") for b in have}
        if c.compare and any(lists.values()):
            ref = lists.get("buildkit")
            parts = []
            for b in have:
                if b == "buildkit":
                    continue
                lb = lists.get(b)
                if lb is None or ref is None:
                    err = r.get(b, {}).get("listing_error") or r.get("buildkit", {}).get("listing_error") or "not saved"
                    parts.append(f"{LABEL[b]}: no comparison ({err.splitlines()[0][:120]})")
                elif lb == ref:
                    parts.append(f"{LABEL[b]} = BuildKit ({len(ref)} entr{'y' if len(ref) == 1 else 'ies'}, "
                                 "same path/type/mode/owner/size/content)")
                else:
                    a_, b_ = set(lb), set(ref)
                    diff = sorted(a_ ^ b_)
                    parts.append(f"{LABEL[b]} ≠ BuildKit: {len(a_ - b_)} entries only in {LABEL[b]}, "
                                 f"{len(b_ - a_)} only in BuildKit, e.g. `" + "`, `".join(diff[:4]) + "`")
            w("Final image file listing after the cold build (tests/e2e/fs_listing.py): " + "; ".join(parts) + ".")
            if c.name == "go" and ref:
                w(f"BuildKit's image: `{' '.join(ref[0].split()[:2])}`" + (" (the binary alone)." if len(ref) == 1 else "."))
            w("")
        bad = [f"{LABEL[b]} {SCEN[sc]}" for b in have for sc in SCEN
               for m in r.get(b, {}).get(sc, []) if m.get("forbidden")]
        if c.forbid:
            w("Pruned stage: " + ("ran in " + ", ".join(bad) + " ✗" if bad else
                                 "the development stage never ran (its output never appeared).") + "\n")
        # where mason's time goes
        rows = []
        for sc in ALL_SCEN:
            mm = median_run(r.get("mason", {}).get(sc, []))
            bm = median_run(r.get("buildkit", {}).get("cold" if sc == "cold+unpack" else sc, []))
            if not mm or not mm.get("steps"):
                continue
            bs = (bm or {}).get("steps", [])
            bsteps = dict(zip(_step_keys(bs), ((d, cached) for _, d, cached in bs)))
            total = sum(d for _, d, _ in mm["steps"])
            big = [(key, t, d) for key, (t, d, _) in zip(_step_keys(mm["steps"]), mm["steps"]) if d >= 0.1]
            shown = sorted(sorted(big, key=lambda x: -x[2])[:8], key=lambda x: big.index(x))
            for key, t, d in shown:
                bd = bsteps.get(key)
                rows.append(f"| {ALL_SCEN[sc]} | `{_pretty(t)}` | {d:.1f} s | " +
                            ("—" if bd is None else ("CACHED" if bd[1] else f"{bd[0]:.1f} s")) + " |")
            if len(big) > len(shown):
                rest = [x for x in big if x not in shown]
                rows.append(f"| {ALL_SCEN[sc]} | *{len(rest)} more steps of 0.1 s or more* | "
                            f"{sum(d for _, _, d in rest):.1f} s | "
                            f"{sum(bsteps.get(k, (0, 0))[0] for k, _, _ in rest):.1f} s |")
            rows.append(f"| {ALL_SCEN[sc]} | *sum of mason's steps / mason's wall time* | {total:.1f} s / "
                        f"{mm['wall']:.1f} s | {'' if not bm else '%.1f s / %.1f s' % (sum(d for _, d, _ in bm.get('steps', [])), bm['wall'])} |")
        if rows:
            w("<details><summary>mason's steps of 0.1 s or more (median run), with BuildKit's time for the same "
              "instruction</summary>\n")
            w("| scenario | step | mason | BuildKit |")
            w("| --- | --- | --- | --- |")
            L.extend(rows)
            w("\n</details>\n")

    # ------------------------------------------------------------ notes
    w("## Notes from the run\n")
    notes = []
    for c in cases:
        r = results.get(c.name, {})
        for b in have:
            for sc in ALL_SCEN:
                for m in r.get(b, {}).get(sc, []):
                    if m.get("rc") != 0:
                        notes.append(f"{c.name}: {LABEL[b]} {ALL_SCEN[sc]} failed (rc {m['rc']}), log {m['log']}")
                vals = [m["wall"] for m in r.get(b, {}).get(sc, []) if m.get("rc") == 0]
                if len(vals) > 1 and min(vals) > 0.5 and max(vals) / min(vals) > 1.5:
                    notes.append(f"{c.name}: {LABEL[b]} {ALL_SCEN[sc]} varied from {min(vals):.2f} s to {max(vals):.2f} s "
                                 "across runs (noise from other load on the machine?).")
        um = r.get("mason", {}).get("unchanged", [])
        for m in um:
            if m.get("rc") == 0 and m.get("run_s", 0) > 0:
                notes.append(f"{c.name}: mason's unchanged rebuild ran RUN commands ({m['runs']}): cache miss, log {m['log']}")
                break
    loads = [m["load1"] for c in cases for b in have for sc in SCEN
             for m in results.get(c.name, {}).get(b, {}).get(sc, [])]
    if loads:
        notes.append(f"1-minute load average seen at the start of the builds: {min(loads):.2f} to {max(loads):.2f} "
                     f"(median {statistics.median(loads):.2f}) on {meta['nproc']} cores.")
    notes.append(f"Build logs and raw numbers (results.json): {meta['logs']}")
    for n in notes:
        w(f"- {n}")
    w("")

    # ------------------------------------------------------------ raw
    w("<details><summary>Every build (wall s / RUN s / tree MB / %M MB / steps cached)</summary>\n")
    w("| case | builder | scenario | runs |")
    w("| --- | --- | --- | --- |")
    for c in cases:
        for b in have:
            for sc in ALL_SCEN:
                ms = results.get(c.name, {}).get(b, {}).get(sc, [])
                if ms:
                    w(f"| {c.name} | {LABEL[b]} | {ALL_SCEN[sc]} | " + "; ".join(
                        (f"{m['wall']:.2f}" if m.get('rc') == 0 else "FAILED") +
                        f"/{m['run_s']:.2f}/{m.get('tree_kb', 0) / 1024:.0f}/{m.get('maxrss_kb', 0) / 1024:.0f}"
                        f"/{m['cached']}" for m in ms) + " |")
    w("\n</details>\n")
    return "\n".join(L)
