#!/usr/bin/env python3
"""mason side by side with BuildKit (dockerd 20.10) and buildah on the same
Dockerfiles, from the same base images, offline. See bench/README.md.

usage: bench/run.sh [--quick] [--runs N] [--mason BIN] [--cases a,b] [--builders a,b] [--out FILE]
"""
import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import cases as casemod  # noqa: E402
import report  # noqa: E402

DOCKER = "/usr/bin/docker"  # Debian's docker.io client (/usr/local/bin/docker has no BuildKit session)
BUILD_TIMEOUT = 1800
SCENARIOS = ("cold", "unchanged", "change")
# What a CI pipeline with a registry cache does (mason and buildkit24 only):
# ci-cold: an empty store; the bases pulled from the loopback registry,
# the image pushed and the cache exported there (mode=max); ci-warm: an
# empty store again, the cache imported from the registry, nothing changed.
CI_SCENARIOS = ("ci-cold", "ci-warm")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd, check=True, quiet=True, **kw):
    """Runs CMD (a list); output captured unless QUIET is False."""
    cmd = [str(c) for c in cmd]
    r = subprocess.run(cmd, capture_output=quiet, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}\n{(r.stderr or '')[-3000:]}")
    return r


def mounts_under(path):
    """Mount points at or below PATH, deepest first."""
    path = os.path.realpath(path)
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path + "/"):
                found.append(mp)
    return sorted(found, key=len, reverse=True)


def remove_tree(path):
    for mp in mounts_under(path):
        subprocess.run(["umount", "-l", mp], capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def tar_name(image):
    return image.replace("/", "_").replace(":", "_") + ".tar"


def archive_image_id(path):
    """The image ID (config digest) of a one-image docker archive."""
    with tarfile.open(path) as t:
        m = json.load(t.extractfile("manifest.json"))
    return "sha256:" + m[0]["Config"].split("/")[-1].removesuffix(".json")


def debian_mirror():
    try:
        for line in open("/etc/apt/sources.list.d/debian.sources"):
            if line.startswith("URIs:"):
                return line.split()[1]
    except OSError:
        pass
    return "http://deb.debian.org/debian"


# ---------------------------------------------------------------- base images

def ensure_bases(mason, cache, images):
    """docker archives of IMAGES in CACHE/bases, made offline from Debian
    packages (scripts/base-images.sh, examples/bases/) by mason, once."""
    out = cache / "bases"
    out.mkdir(parents=True, exist_ok=True)
    missing = [i for i in images if not (out / tar_name(i)).exists()]
    if not missing:
        return
    store = cache / "mason-bases"
    log(f"making base images {', '.join(missing)} (once; cached in {out})")
    heavy = any(i != "busybox:latest" for i in missing)
    run([REPO / "scripts/base-images.sh"] + (["--debian"] if heavy else []) +
        ["--mason", mason, "--root", store, cache / "rootfs"], quiet=False)
    m = [mason, "--root", store]

    def have(img):
        return run(m + ["inspect", img], check=False).returncode == 0

    def build(args, what):
        logf = cache / f"base-{what}.log"
        with open(logf, "w") as f:
            r = subprocess.run([str(a) for a in m + ["build", "--progress", "plain", "--network", "host"] + args],
                               stdout=f, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError(f"building {what} failed, see {logf}")

    bases = REPO / "examples/bases"
    if "golang:1.21" in missing and not have("golang:1.21"):
        log("golang:1.21 from examples/bases (apt inside RUN, a minute or two)")
        build(["-t", "golang:1.21", "--build-arg", f"DEBIAN_MIRROR={debian_mirror()}",
               "-f", bases / "golang-1.21.Dockerfile", bases], "golang")
    if any(i.startswith("node:18") for i in missing) and not (have("node:18") and have("node:18-slim")):
        log("node:18-slim and node:18 from examples/bases (apt inside RUN, a minute or two)")
        build(["-t", "node:18-slim", "--target", "slim", "-f", bases / "node-18.Dockerfile", bases], "node-slim")
        # the host's CA bundle: npm inside node:18 must trust this machine's https proxy
        build(["-t", "node:18", "--target", "full", "--secret", "id=cacert,src=/etc/ssl/certs/ca-certificates.crt",
               "-f", bases / "node-18.Dockerfile", bases], "node")
    for img in missing:
        tmp = out / (tar_name(img) + ".tmp")
        run(m + ["save", img, "-o", tmp])
        tmp.rename(out / tar_name(img))


# ---------------------------------------------------------------- measuring

def proc_status(pid):
    vals = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    vals[k] = int(v.split()[0])
    except OSError:
        pass
    return vals


def proc_cpu(pid):
    """utime+stime+cutime+cstime of PID in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


RUN_MARK = re.compile(r"BENCH_RUN (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)")


def run_time(text):
    """Union of the BENCH_RUN intervals printed by the timed RUN commands."""
    spans = sorted((float(a), float(b)) for a, b in RUN_MARK.findall(text))
    total, end = 0.0, None
    for a, b in spans:
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total, len(spans)


STEP_HEAD = re.compile(r"^#(\d+) (\[.*?\] .*|exporting to image|\[internal\] .*)$")
STEP_END = re.compile(r"^#(\d+) (DONE (\d+(?:\.\d+)?)s|CACHED|ERROR.*)$")


def steps(text):
    """BuildKit-style plain progress (mason and BuildKit): [(title, seconds|None, cached)]."""
    titles, out = {}, {}
    for line in text.splitlines():
        m = STEP_HEAD.match(line)
        if m and m.group(1) not in titles:
            titles[m.group(1)] = m.group(2)
            continue
        m = STEP_END.match(line)
        if m and m.group(1) in titles:
            if m.group(2) == "CACHED":
                out[m.group(1)] = (titles[m.group(1)], 0.0, True)
            elif m.group(3):
                out[m.group(1)] = (titles[m.group(1)], float(m.group(3)), False)
    return [out[k] for k in sorted(out, key=int)]


def count_cached(builder, text):
    if builder == "buildah":
        return len(re.findall(r"^--> Using cache", text, re.M))
    return len(re.findall(r"^#\d+ CACHED$", text, re.M))


class Sampler(threading.Thread):
    """Samples the memory of a builder's process tree every INTERVAL s: the
    peak RSS of the builder process itself (VmHWM) and the largest sum of
    RSS over the builder and its descendants outside containers (processes
    in another pid namespace, the RUN commands, are left out with their
    descendants)."""

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.done = threading.Event()
        self.own_kb = self.tree_kb = 0
        try:
            self.ns = os.readlink(f"/proc/{pid}/ns/pid")
        except OSError:
            self.ns = None

    def sample(self):
        total, stack = 0, [self.pid]
        while stack:
            p = stack.pop()
            try:
                if os.readlink(f"/proc/{p}/ns/pid") != self.ns:
                    continue
                st = proc_status(p)
                total += st.get("VmRSS", 0)
                if p == self.pid:
                    self.own_kb = max(self.own_kb, st.get("VmHWM", 0))
                for t in os.listdir(f"/proc/{p}/task"):
                    with open(f"/proc/{p}/task/{t}/children") as f:
                        stack += [int(x) for x in f.read().split()]
            except (OSError, ValueError):
                continue
        self.tree_kb = max(self.tree_kb, total)

    def run(self):
        while not self.done.is_set():
            self.sample()
            self.done.wait(self.interval)


class Builder:
    name = ""
    daemon_pid = None
    env = None

    def measure(self, cmd, logf):
        """Runs one build: wall time, CPU, memory, RUN time and cache hits."""
        before = {}
        if self.daemon_pid:
            before = proc_status(self.daemon_pid)
            before["cpu"] = proc_cpu(self.daemon_pid)
            try:
                Path(f"/proc/{self.daemon_pid}/clear_refs").write_text("5")  # resets VmHWM
            except OSError:
                pass
        load = os.getloadavg()[0]
        with open(logf, "w") as f:
            t0 = time.monotonic()
            p = subprocess.Popen([str(c) for c in cmd], stdout=f, stderr=subprocess.STDOUT, env=self.env,
                                 start_new_session=True)
            sampler = Sampler(p.pid)
            sampler.start()
            timer = threading.Timer(BUILD_TIMEOUT, lambda: os.killpg(p.pid, signal.SIGKILL))
            timer.start()
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.monotonic() - t0
            timer.cancel()
            sampler.done.set()
            sampler.join()
            p.returncode = rc = os.waitstatus_to_exitcode(status)
        res = {"wall": wall, "rc": rc, "load1": load,
               "maxrss_kb": ru.ru_maxrss,  # what /usr/bin/time -f %M prints: RUN processes included
               "own_kb": sampler.own_kb, "tree_kb": sampler.tree_kb,
               "cpu": ru.ru_utime + ru.ru_stime}
        if self.daemon_pid:
            after = proc_status(self.daemon_pid)
            res["daemon_rss_before_kb"] = before.get("VmRSS")
            res["daemon_peak_kb"] = after.get("VmHWM")
            cpu = proc_cpu(self.daemon_pid)
            if cpu is not None and before.get("cpu") is not None:
                res["cpu"] += cpu - before["cpu"]
        text = Path(logf).read_text(errors="replace")
        res["run_s"], res["runs"] = run_time(text)
        res["cached"] = count_cached(self.name, text)
        if self.name != "buildah":
            res["steps"] = steps(text)
        return res

    def target(self, case):
        return ["--target", case.target] if case.target else []


class Mason(Builder):
    name = "mason"

    def __init__(self, binary, work):
        self.bin = str(binary)
        self.root = work / "mason-root"

    def version(self):
        v = run([self.bin, "--version"]).stdout.strip()
        head = run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], check=False).stdout.strip()
        dirty = run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no", "--", "src"],
                    check=False).stdout.strip()
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.stat(self.bin).st_mtime))
        return f"{v} (binary {self.bin}, built {built}; source tree at {head}" + \
            (f", {len(dirty.splitlines())} files under src/ modified (work in progress)" if dirty else "") + ")"

    def setup(self, cache, images):
        self.cache = cache

    def reset(self, case, unpack=True):
        """A fresh store with the case's base images loaded. mason load
        unpacks the layers, as docker load and buildah pull do (mason
        before 2026-12 unpacked at first use: "cold+unpack" measured that);
        with UNPACK, `mason run` also makes sure they are, so that the cold
        build starts where the others start."""
        remove_tree(self.root)
        for img in case.bases:
            run([self.bin, "--root", self.root, "load", "-i", self.cache / "bases" / tar_name(img)])
        self.prep_s = None
        if unpack:
            t0 = time.monotonic()
            for img in case.bases:
                run([self.bin, "--root", self.root, "run", "--rm", "--network", "none", img, "true"])
            self.prep_s = time.monotonic() - t0

    def build(self, case, logf):
        return self.measure([self.bin, "--root", self.root, "build", "--progress", "plain", "--network", "host",
                             "-t", f"bench/{case.name}", "-f", case.dockerfile] + self.target(case) + [case.ctx], logf)

    def save(self, case, dest):
        run([self.bin, "--root", self.root, "save", f"bench/{case.name}", "-o", dest])

    def ci_build(self, case, logf, sc, registry):
        """An empty store (as a fresh CI runner has) for each CI build."""
        remove_tree(self.root)
        os.sync()  # the removal's writeback is not the next build's to pay
        reg = registry.addr
        cache = f"{reg}/bench/{case.name}:cache-mason"
        cmd = [self.bin, "--root", self.root, "--registry-mirror", f"http://{reg}", "--insecure-registry", reg,
               "build", "--progress", "plain", "--network", "host", "-t", f"{reg}/bench/{case.name}:mason",
               "--push", "-f", case.dockerfile] + self.target(case)
        cmd += ["--cache-to", f"type=registry,ref={cache},mode=max"] if sc == "ci-cold" else \
            ["--cache-from", f"type=registry,ref={cache}"]
        return self.measure(cmd + [case.ctx], logf)

    def stop(self):
        remove_tree(self.root)


class BuildKit(Builder):
    name = "buildkit"

    def __init__(self, store):
        self.data = store / "docker"
        self.exec = Path(tempfile.mkdtemp(prefix="mbd-", dir="/tmp"))  # short: unix socket paths
        self.sock = self.exec / "sock"
        self.proc = None
        self.env = dict(os.environ, DOCKER_BUILDKIT="1")

    def d(self, *args):
        return [DOCKER, "-H", f"unix://{self.sock}"] + list(args)

    def version(self):
        v = run(self.d("version", "--format", "{{.Server.Version}}")).stdout.strip()
        return f"dockerd {v} (BuildKit built in, Debian's docker.io)"

    def setup(self, cache, images):
        self.cache = cache
        self.data.mkdir(parents=True, exist_ok=True)
        self.logf = open(cache / "dockerd.log", "a")
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", self.data, "--exec-root", self.exec, "--pidfile", self.exec / "pid",
             "--host", f"unix://{self.sock}", "--iptables=false", "--ip-masq=false", "--bridge=none"],
            stdout=self.logf, stderr=subprocess.STDOUT, start_new_session=True)
        wait_ready(self.d("version"), self.proc, "dockerd", cache / "dockerd.log")
        self.daemon_pid = self.proc.pid
        for img in images:
            want = archive_image_id(cache / "bases" / tar_name(img))
            have = run(self.d("image", "inspect", "-f", "{{.Id}}", img), check=False).stdout.strip()
            if have != want:
                log(f"docker load {img}")
                run(self.d("load", "-i", cache / "bases" / tar_name(img)))

    def reset(self, case):
        ids = run(self.d("images", "-q", "--filter", "reference=bench/*")).stdout.split()
        if ids:
            run(self.d("rmi", "-f", *sorted(set(ids))))
        run(self.d("builder", "prune", "-af"))
        run(self.d("image", "prune", "-f"))

    def build(self, case, logf):
        return self.measure(self.d("build", "--network", "host", "--progress", "plain", "-t", f"bench/{case.name}",
                                   "-f", str(case.dockerfile), *self.target(case), str(case.ctx)), logf)

    def save(self, case, dest):
        run(self.d("save", f"bench/{case.name}", "-o", str(dest)))

    def stop(self):
        stop_daemon(self.proc, (self.exec, self.data), self.exec)


def wait_ready(probe, proc, what, logpath):
    """Polls `probe` (a command) until it succeeds; the daemon `proc` must
    not exit meanwhile. 30 s at most."""
    for _ in range(300):
        if run(probe, check=False).returncode == 0:
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited, see {logpath}")
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start, see {logpath}")


def stop_daemon(proc, dirs, exec_dir):
    """Stops `proc` (TERM, then KILL after 60 s), unmounts what is left
    under `dirs` and removes `exec_dir`."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for p in dirs:
        for mp in mounts_under(p):
            subprocess.run(["umount", "-l", mp], capture_output=True)
    shutil.rmtree(exec_dir, ignore_errors=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Registry:
    """Debian's docker-registry on a loopback port, holding the base images
    (pushed from their archives by skopeo, image IDs unchanged): what a
    standalone buildkitd pulls its bases from (as a docker.io mirror)."""

    def __init__(self, store):
        self.dir = store / "registry"
        self.proc = None
        self.addr = None

    def start(self, cache, images):
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        self.addr = f"127.0.0.1:{free_port()}"
        (self.dir / "config.yml").write_text(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {self.dir / 'data'}\nhttp:\n  addr: {self.addr}\n")
        self.logf = open(cache / "registry.log", "a")
        self.proc = subprocess.Popen(["docker-registry", "serve", str(self.dir / "config.yml")],
                                     stdout=self.logf, stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(100):
            if run(["curl", "-sf", "-o", "/dev/null", f"http://{self.addr}/v2/"], check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"docker-registry did not start, see {cache / 'registry.log'}")
        for img in images:
            name = img if "/" in img.split(":")[0] else "library/" + img
            run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                 f"docker-archive:{cache / 'bases' / tar_name(img)}", f"docker://{self.addr}/{name}"])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class BuildKitd(Builder):
    """A current BuildKit: buildkitd (OCI worker: runc, overlayfs) driven by
    buildctl, built from a moby/buildkit release tag outside the repository
    (bench/README.md says how) and found with --buildkit DIR."""
    name = "buildkit24"

    def __init__(self, store, bindir, registry):
        self.bindir = Path(bindir)
        self.state = store / "buildkitd"
        self.exec = Path(tempfile.mkdtemp(prefix="mbk-", dir="/tmp"))  # short: unix socket paths
        self.sock = self.exec / "sock"
        self.registry = registry
        self.proc = None

    def ctl(self, *args):
        return [str(self.bindir / "buildctl"), "--addr", f"unix://{self.sock}"] + list(args)

    def version(self):
        v = run([str(self.bindir / "buildkitd"), "--version"]).stdout.strip()
        return f"{v} (buildkitd with the OCI worker: runc, overlayfs; driven by buildctl)"

    def setup(self, cache, images):
        self.cache = cache
        self.state.mkdir(parents=True, exist_ok=True)
        config = self.exec / "buildkitd.toml"
        config.write_text(
            f'root = "{self.state}"\n'
            "[worker.oci]\n  enabled = true\n  snapshotter = \"overlayfs\"\n"
            "[worker.containerd]\n  enabled = false\n"
            f'[registry."docker.io"]\n  mirrors = ["{self.registry.addr}"]\n'
            f'[registry."{self.registry.addr}"]\n  http = true\n')
        self.logf = open(cache / "buildkitd.log", "a")
        self.proc = subprocess.Popen(
            [str(self.bindir / "buildkitd"), "--config", str(config), "--addr", f"unix://{self.sock}",
             "--allow-insecure-entitlement", "network.host"],
            stdout=self.logf, stderr=subprocess.STDOUT, start_new_session=True)
        wait_ready(self.ctl("debug", "workers"), self.proc, "buildkitd", cache / "buildkitd.log")
        self.daemon_pid = self.proc.pid

    def reset(self, case):
        """No build cache; the bases pulled and unpacked (a RUN on each, its
        result not exported), as the other builders' stores hold them."""
        run(self.ctl("prune", "--all"))
        for img in case.bases:
            d = Path(tempfile.mkdtemp(prefix="warm-", dir=self.exec))
            (d / "Dockerfile").write_text(f"FROM {img}\nRUN true\n")
            run(self.ctl("build", "--frontend", "dockerfile.v0", "--local", f"context={d}",
                         "--local", f"dockerfile={d}", "--opt", "force-network-mode=host",
                         "--allow", "network.host"))  # no --output: solved, nothing exported
            shutil.rmtree(d, ignore_errors=True)

    def args(self, case):
        df = Path(case.dockerfile)
        out = ["build", "--progress", "plain", "--frontend", "dockerfile.v0",
               "--local", f"context={case.ctx}", "--local", f"dockerfile={df.parent}",
               "--opt", f"filename={df.name}", "--opt", "force-network-mode=host", "--allow", "network.host"]
        if case.target:
            out += ["--opt", f"target={case.target}"]
        return out

    def build(self, case, logf):
        return self.measure(self.ctl(*self.args(case), "--output", f"type=image,name=docker.io/bench/{case.name}"),
                            logf)

    def save(self, case, dest):
        run(self.ctl(*self.args(case), "--output", f"type=docker,name=bench/{case.name},dest={dest}"))

    def ci_build(self, case, logf, sc, registry):
        """Nothing in buildkitd's cache (bases included) for each CI build."""
        run(self.ctl("prune", "--all"))
        os.sync()
        reg = registry.addr
        cache = f"type=registry,ref={reg}/bench/{case.name}:cache-buildkit24,registry.insecure=true"
        cmd = self.ctl(*self.args(case), "--output",
                       f"type=image,name={reg}/bench/{case.name}:buildkit24,push=true,registry.insecure=true")
        cmd += ["--export-cache", cache + ",mode=max"] if sc == "ci-cold" else ["--import-cache", cache]
        return self.measure(cmd, logf)

    def stop(self):
        stop_daemon(self.proc, (self.exec, self.state), self.exec)


class Buildah(Builder):
    name = "buildah"

    def __init__(self, store, jobs):
        self.store = store / "buildah"
        self.jobs = jobs
        self.b = ["buildah", "--root", str(self.store / "root"), "--runroot", str(self.store / "runroot"),
                  "--storage-driver", "overlay"]

    def version(self):
        return run(["buildah", "--version"]).stdout.strip()

    def images(self):
        out = run(self.b + ["images", "-a", "--no-trunc", "--format", "{{.ID}} {{.Name}}:{{.Tag}}"]).stdout
        return [line.split() for line in out.splitlines() if line.strip()]

    def setup(self, cache, images):
        self.cache = cache
        # every base image made so far stays, also those of cases not run this time
        self.base_ids = {archive_image_id(t).removeprefix("sha256:") for t in (cache / "bases").glob("*.tar")}
        have = {name: iid for iid, name in self.images()}
        for img in images:
            want = archive_image_id(cache / "bases" / tar_name(img))
            full = "docker.io/library/" + img
            if have.get(full, "").removeprefix("sha256:") != want.removeprefix("sha256:"):
                log(f"buildah pull docker-archive {img}")
                run(self.b + ["pull", "-q", f"docker-archive:{cache / 'bases' / tar_name(img)}"])
                run(self.b + ["tag", want.removeprefix("sha256:"), full])
            self.base_ids.add(want.removeprefix("sha256:"))

    def reset(self, case):
        run(self.b + ["rm", "-a"], check=False)
        extra = sorted({iid.removeprefix("sha256:") for iid, _ in self.images()} - self.base_ids)
        if extra:
            run(self.b + ["rmi", "-f"] + extra, check=False)
        left = {iid.removeprefix("sha256:") for iid, _ in self.images()} - self.base_ids
        if left:
            raise RuntimeError(f"buildah: images left after reset: {left}")

    def build(self, case, logf):
        return self.measure(self.b + ["bud", "--runtime", "runc", "--network", "host", "--layers",
                                      "--tls-verify=false", "--pull=never", "--jobs", str(self.jobs),
                                      "-t", f"bench/{case.name}", "-f", case.dockerfile] +
                            self.target(case) + [case.ctx], logf)

    def save(self, case, dest):
        run(self.b + ["push", f"localhost/bench/{case.name}", f"docker-archive:{dest}:bench/{case.name}:latest"])

    def stop(self):
        run(self.b + ["rm", "-a"], check=False)
        for mp in mounts_under(self.store):
            subprocess.run(["umount", "-l", mp], capture_output=True)


# ---------------------------------------------------------------- the file system

FS_SIZE = "60G"


def mount_loop_fs(cache):
    """The builders' stores live on an ext4 file system of their own (a
    sparse image in CACHE, loop-mounted, mkfs.ext4 defaults: with a journal).
    This machine's root file system is ext4 without a journal: there, inode
    allocation skips inodes freed in the last minutes (ext4's
    recently_deleted()), and creating files right after a large deletion
    becomes several times slower (measured: GNU tar unpacking golang:1.21
    took 1.5 s on a fresh tree and 15 s right after an rm -rf of the same
    tree). Every cold build follows a deletion (the previous store, a
    builder prune), so on the root file system the order of the builds, not
    the builders, would decide much of the cold times."""
    img, mnt = cache / "fs.img", cache / "fs"
    mnt.mkdir(exist_ok=True)
    if str(mnt.resolve()) in mounts_under(mnt):
        return mnt
    if not img.exists():
        run(["truncate", "-s", FS_SIZE, img])
        run(["mkfs.ext4", "-q", "-F", "-L", "mason-bench", img])
    run(["mount", "-o", "loop,discard", img, mnt])
    return mnt


def umount_loop_fs(mnt):
    for mp in mounts_under(mnt):
        r = subprocess.run(["umount", mp], capture_output=True)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", mp], capture_output=True)


# ---------------------------------------------------------------- the run

def listing(archive):
    r = run(["python3", REPO / "tests/e2e/fs_listing.py", archive], check=False)
    if r.returncode != 0:
        return None
    # path type mode uid:gid size sha: the whole line is compared
    return r.stdout.splitlines()


def warm(path):
    """Reads every file once so that no builder pays the first disk read."""
    for dirpath, _, files in os.walk(path):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                while fh.read(1 << 20):
                    pass


def render_again(path, out):
    """RESULTS.md from the raw data of an earlier run."""
    from types import SimpleNamespace
    data = json.loads(path.read_text())
    meta = data["meta"]
    infos = meta.get("cases_info")
    if infos is None:  # written before cases_info was kept: the cases describe themselves again
        tmp = Path(tempfile.mkdtemp(prefix="mason-bench-render-"))
        try:
            cache = Path(os.environ.get("BENCH_CACHE", str(REPO / ".cache/bench")))
            infos = [report.case_info(casemod.ALL[n](tmp, cache, meta["mode"] == "quick")) for n in meta["cases"]]
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    out.write_text(report.render(meta, [SimpleNamespace(**i) for i in infos], data["results"]))
    log(f"wrote {out}")
    return 0


def main():
    ap = argparse.ArgumentParser(prog="bench/run.sh", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 run, smaller large-context case, no node case")
    ap.add_argument("--runs", type=int, help="runs per case and builder (median reported; default 3, quick 1)")
    ap.add_argument("--mason", default=str(REPO / "build/mason"), help="mason binary (default build/mason)")
    ap.add_argument("--cases", help=f"comma list of {','.join(casemod.ALL)}")
    ap.add_argument("--builders", help="comma list of mason, buildkit (dockerd's), buildkit24 (a current "
                    "buildkitd, when --buildkit finds it), buildah (default: all that are there)")
    ap.add_argument("--buildkit", default=os.environ.get("BENCH_BUILDKIT", ""),
                    help="directory with a current buildkitd and buildctl (default $BENCH_BUILDKIT, "
                         "else CACHE/buildkit); bench/README.md says how to build them")
    ap.add_argument("--buildah-jobs", type=int, default=os.cpu_count(), help="buildah bud --jobs (default nproc)")
    ap.add_argument("--cache", default=os.environ.get("BENCH_CACHE", str(REPO / ".cache/bench")),
                    help="cache dir: base images, large context, dockerd and buildah stores, logs ($BENCH_CACHE)")
    ap.add_argument("--out", help="results file (default bench/RESULTS.md; --quick: CACHE/RESULTS-quick.md)")
    ap.add_argument("--fs", choices=("loop", "host"), default="loop",
                    help="where the stores live: a loop-mounted ext4 image in CACHE (default) or CACHE itself")
    ap.add_argument("--ci", action="store_true",
                    help="also the CI scenarios (mason and buildkit24): ci-cold, ci-warm through a loopback registry")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (contexts, mason root, saved images)")
    ap.add_argument("--render", metavar="JSON", help="only write the results file again from a results.json")
    a = ap.parse_args()
    if a.render:
        return render_again(Path(a.render), Path(a.out) if a.out else HERE / "RESULTS.md")
    runs = a.runs or (1 if a.quick else 3)
    names = a.cases.split(",") if a.cases else (casemod.QUICK if a.quick else list(casemod.ALL))
    for n in names:
        if n not in casemod.ALL:
            ap.error(f"unknown case {n}")
    cache_dir = Path(a.cache).resolve()
    bk_dir = Path(a.buildkit) if a.buildkit else cache_dir / "buildkit"
    have_bk24 = all(os.access(bk_dir / b, os.X_OK) for b in ("buildkitd", "buildctl"))
    bnames = a.builders.split(",") if a.builders else \
        ["mason", "buildkit"] + (["buildkit24"] if have_bk24 else []) + ["buildah"]
    for n in bnames:
        if n not in ("mason", "buildkit", "buildkit24", "buildah"):
            ap.error(f"unknown builder {n}")
    if "buildkit24" in bnames and not have_bk24:
        ap.error(f"buildkit24: no buildkitd and buildctl in {bk_dir} (--buildkit DIR; see bench/README.md)")
    if os.geteuid() != 0:
        sys.exit("bench: must run as root (all three builders run RUN steps under runc)")
    mason = os.path.abspath(a.mason)
    if not os.access(mason, os.X_OK):
        sys.exit(f"bench: no mason binary at {mason} (scripts/build.sh, or --mason BIN)")
    cache = Path(a.cache).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    out = Path(a.out) if a.out else (cache / "RESULTS-quick.md" if a.quick else HERE / "RESULTS.md")

    lock = open(cache / "bench.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit(f"bench: another benchmark holds {cache / 'bench.lock'}")

    stamp = time.strftime("%Y%m%d-%H%M%S")
    logs = cache / "logs" / stamp
    logs.mkdir(parents=True)
    fsroot = mount_loop_fs(cache) if a.fs == "loop" else cache
    for old in fsroot.glob("work-*"):  # left by an interrupted run (the lock excludes a running one)
        remove_tree(old)
    work = Path(tempfile.mkdtemp(prefix="work-", dir=fsroot))
    started = time.time()
    log(f"cases {','.join(names)}; builders {','.join(bnames)}; {runs} run(s); logs in {logs}")

    builders = []
    cases = []
    registry = Registry(fsroot)

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        for n in names:
            cases.append(casemod.ALL[n](work, cache, a.quick))
        images = sorted({i for c in cases for i in c.bases})
        ensure_bases(mason, cache, images)
        if "buildkit24" in bnames or a.ci:
            registry.start(cache, images)
        for n in bnames:
            b = {"mason": lambda: Mason(mason, work), "buildkit": lambda: BuildKit(fsroot),
                 "buildkit24": lambda: BuildKitd(fsroot, bk_dir, registry),
                 "buildah": lambda: Buildah(fsroot, a.buildah_jobs)}[n]()
            builders.append(b)
            b.setup(cache, images)
        meta = report.machine(a, runs, names, [(b.name, b.version()) for b in builders])
        meta["fs"] = a.fs
        meta["base_ids"] = {i: archive_image_id(cache / "bases" / tar_name(i)) for i in images}
        results = {}
        for case in cases:
            log(f"case {case.name}: {case.title}")
            warm(case.ctx)
            for r in range(runs):
                order = builders[r % len(builders):] + builders[:r % len(builders)]
                for b in order:
                    if b.name in case.unsupported:
                        continue
                    res = results.setdefault(case.name, {}).setdefault(b.name, {})

                    def one(sc):
                        if sc == "change":
                            case.change(r)
                        logf = logs / f"{case.name}-{b.name}-{sc}-{r + 1}.log"
                        m = b.ci_build(case, logf, sc, registry) if sc in CI_SCENARIOS else b.build(case, logf)
                        m["log"] = str(logf)
                        if case.forbid and case.forbid in logf.read_text(errors="replace"):
                            m["forbidden"] = True
                        res.setdefault(sc, []).append(m)
                        log(f"  {case.name} run {r + 1} {b.name:8} {sc:11} {m['wall']:7.2f}s "
                            f"own {m['own_kb'] / 1024:5.0f}MB %M {m['maxrss_kb'] / 1024:5.0f}MB "
                            f"RUN {m['run_s']:6.2f}s cached {m['cached']:2}"
                            f"{'' if m['rc'] == 0 else '  FAILED rc=%s' % m['rc']}")
                        return m

                    case.restore()
                    if b.name == "mason":
                        b.reset(case, unpack=False)
                        one("cold+unpack")
                    b.reset(case)
                    if b.name == "mason":
                        res.setdefault("prep_s", []).append(b.prep_s)
                    for sc in SCENARIOS:
                        m = one(sc)
                        if sc == "cold" and r == 0 and case.compare and m["rc"] == 0:
                            dest = work / f"{case.name}-{b.name}.tar"
                            try:
                                b.save(case, dest)
                                res["listing"] = listing(dest)
                            except RuntimeError as e:
                                res["listing_error"] = str(e)[:500]
                            dest.unlink(missing_ok=True)
                            # the export and its deletion would otherwise be written back
                            # (and discarded) during the next build, whichever syncs first
                            os.sync()
                    case.restore()
                    if a.ci and hasattr(b, "ci_build"):
                        for sc in CI_SCENARIOS:
                            one(sc)
        meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        meta["elapsed_min"] = (time.time() - started) / 60
        meta["load_end"] = open("/proc/loadavg").read().split()[:3]
        meta["logs"] = str(logs)
        meta["cases_info"] = [report.case_info(c) for c in cases]
        (logs / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
        out.write_text(report.render(meta, cases, results))
        log(f"wrote {out} ({meta['elapsed_min']:.1f} min); raw data {logs / 'results.json'}")
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        for c in cases:
            try:
                c.restore()
            except OSError:
                pass
        for b in builders:
            try:
                b.stop()
            except Exception as e:  # noqa: BLE001 - best effort cleanup
                log(f"stopping {b.name}: {e}")
        registry.stop()
        if a.keep:
            log(f"work dir kept: {work}")
        else:
            remove_tree(work)
        if a.fs == "loop" and not a.keep:
            umount_loop_fs(fsroot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
