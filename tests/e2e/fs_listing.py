#!/usr/bin/env python3
"""Final file system of an image archive (docker or OCI layout tar), or of
a directory: one line per entry, "path type mode uid:gid size link|sha256",
sorted. Layers are applied in order with OCI whiteouts. Used by the e2e
tests to compare mason's images with BuildKit's.

usage: fs_listing.py [--image NAME] ARCHIVE.tar | --dir DIR
"""
import hashlib, io, json, os, stat, sys, tarfile

def layers_of(archive, name):
    t = tarfile.open(archive)
    names = t.getnames()
    if "manifest.json" in names and "index.json" not in names:
        m = json.load(t.extractfile("manifest.json"))
        entry = m[0] if not name else next(e for e in m if name in (e.get("RepoTags") or []))
        return t, entry["Layers"], json.load(t.extractfile(entry["Config"]))
    idx = json.load(t.extractfile("index.json"))
    desc = idx["manifests"][0]
    blob = lambda d: t.extractfile("blobs/" + d.replace(":", "/"))
    man = json.load(blob(desc["digest"]))
    if "manifests" in man:
        man = json.load(blob(man["manifests"][0]["digest"]))
    return t, ["blobs/" + l["digest"].replace(":", "/") for l in man["layers"]], json.load(blob(man["config"]["digest"]))

def apply(fs, layer):
    for m in layer:
        path = "/" + m.name.lstrip("./").rstrip("/") if m.name not in (".", "./") else "/"
        if path == "/":
            continue
        d, b = os.path.split(path)
        if b == ".wh..wh..opq":
            for k in [k for k in fs if k.startswith(d.rstrip("/") + "/")]:
                del fs[k]
            continue
        if b.startswith(".wh."):
            victim = os.path.join(d, b[4:])
            for k in [k for k in fs if k == victim or k.startswith(victim + "/")]:
                del fs[k]
            continue
        if m.isdir():
            kind, extra = "dir", ""
        elif m.issym():
            kind, extra = "symlink", m.linkname
        elif m.islnk():
            target = "/" + m.linkname.lstrip("./")
            kind, extra = fs.get(target, ("file", 0, 0, 0, 0, ""))[0], fs.get(target, ("", 0, 0, 0, 0, ""))[5]
            src = fs.get(target)
            if src:
                fs[path] = (src[0], m.mode & 0o7777, m.uid, m.gid, src[4], src[5])
                continue
        elif m.isfile():
            data = layer.extractfile(m).read()
            kind, extra = "file", hashlib.sha256(data).hexdigest()[:16]
        elif m.isfifo():
            kind, extra = "fifo", ""
        else:
            kind, extra = "dev", "%d:%d" % (m.devmajor, m.devminor)
        if kind != "dir" and path in fs and fs[path][0] == "dir":
            for k in [k for k in fs if k.startswith(path + "/")]:
                del fs[k]
        fs[path] = (kind, m.mode & 0o7777, m.uid, m.gid, m.size if kind == "file" else 0, extra)

def from_archive(archive, name):
    t, layers, _ = layers_of(archive, name)
    fs = {}
    for l in layers:
        apply(fs, tarfile.open(fileobj=io.BytesIO(t.extractfile(l).read())))
    return fs

def from_dir(root):
    fs = {}
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = "/" + os.path.relpath(p, root)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                fs[rel] = ("dir", mode, st.st_uid, st.st_gid, 0, "")
            elif stat.S_ISLNK(st.st_mode):
                fs[rel] = ("symlink", mode, st.st_uid, st.st_gid, 0, os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                h = hashlib.sha256(open(p, "rb").read()).hexdigest()[:16]
                fs[rel] = ("file", mode, st.st_uid, st.st_gid, st.st_size, h)
            elif stat.S_ISFIFO(st.st_mode):
                fs[rel] = ("fifo", mode, st.st_uid, st.st_gid, 0, "")
            else:
                fs[rel] = ("dev", mode, st.st_uid, st.st_gid, 0, "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
    return fs

def main():
    args = sys.argv[1:]
    if args[0] == "--dir":
        fs = from_dir(args[1])
    else:
        name = None
        if args[0] == "--image":
            name, args = args[1], args[2:]
        fs = from_archive(args[0], name)
    for p in sorted(fs):
        k, mode, uid, gid, size, extra = fs[p]
        if k == "symlink":
            mode = 0o777
        print("%s %s %04o %d:%d %d %s" % (p, k, mode, uid, gid, size, extra))

main()
