#!/usr/bin/env python3
"""Deterministic large build context for the benchmark.

FILES files, TOTAL bytes in all, spread over 20 top directories with 5
subdirectories each. Every fifth file is pseudo-random bytes (does not
compress), the others are pseudo-text (compresses about 3x, like source
code). The sizes follow a log-normal spread (a few files of a few MB, most
of some KB) scaled so that they add up to TOTAL exactly. Everything comes
from a fixed seed: the same arguments always give the same bytes.

usage: gen_context.py [--files N] [--total BYTES] DEST
The directory is written as DEST.tmp and renamed when complete (then
DEST.stamp records the parameters); an existing complete DEST with the same
parameters is kept.
"""
import argparse
import os
import random
import shutil
import sys

SEED = 20240611
WORDS = ("let const return if else for while match struct impl fn pub use mod "
         "import from class def self value index buffer layer image stage cache "
         "context digest snapshot mount copy run build store blob manifest config "
         "error result option string vector map set key hash file path dir").split()


def corpus(rng):
    """About 1 MiB of pseudo source text."""
    out, size = [], 0
    while size < (1 << 20):
        indent = " " * (4 * rng.randrange(4))
        line = indent + " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 12))) + ";\n"
        out.append(line)
        size += len(line)
    return "".join(out).encode()


def plan(files, total):
    rng = random.Random(SEED)
    weights = [rng.lognormvariate(0.0, 1.2) for _ in range(files)]
    scale = total / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    sizes[-1] += total - sum(sizes)
    if sizes[-1] < 1:
        raise SystemExit("gen_context: total too small for the number of files")
    return sizes


def rel_path(i):
    return f"d{i % 20:02d}/s{(i // 20) % 5}/f{i:05d}." + ("bin" if i % 5 == 0 else "txt")


class Generator:
    def __init__(self, files, total):
        self.files, self.total = files, total
        self.sizes = plan(files, total)
        self.text = corpus(random.Random(SEED + 1))

    def data(self, i):
        size = self.sizes[i]
        if i % 5 == 0:
            return random.Random(SEED * 1000003 + i).randbytes(size)
        head = f"// file {i:05d} of the mason benchmark context\n".encode()
        body_len = max(0, size - len(head))
        off = (i * 7919) % len(self.text)
        reps = (off + body_len) // len(self.text) + 1
        body = (self.text * reps)[off:off + body_len]
        return (head + body)[:size]

    def write(self, root, i):
        path = os.path.join(root, rel_path(i))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(self.data(i))
        return path

    def stamp(self):
        return f"files={self.files} total={self.total} seed={SEED}\n"


def ensure(dest, files, total):
    """Makes DEST if missing or made with other parameters; returns the Generator."""
    gen = Generator(files, total)
    marker = dest + ".stamp"
    try:
        with open(marker) as f:
            if f.read() == gen.stamp():
                return gen
    except OSError:
        pass
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for i in range(files):
        gen.write(tmp, i)
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    with open(marker, "w") as f:  # beside DEST: the context holds FILES files exactly
        f.write(gen.stamp())
    return gen


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--total", type=int, default=500_000_000)
    ap.add_argument("dest")
    a = ap.parse_args()
    ensure(a.dest, a.files, a.total)
    print(a.dest)


if __name__ == "__main__":
    sys.exit(main())
