#!/usr/bin/env python3
"""The layering of ARCHITECTURE.md, checked: every `#include "mason/<dir>/..."`
in src/mason/<folder>/ must name the folder itself or one the table's
"may use" column allows, and every library's CMake DEPS must be allowed
too. Prints each edge the table does not allow; exit 1 if any.

usage: check_layering.py SOURCE_DIR
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
arch = (root / "ARCHITECTURE.md").read_text()

allowed = {}  # folder -> set of folders it may use
order = []
for line in arch.splitlines():
    m = re.match(r"\|\s*`src/mason/([a-z_]+)/`\s*\|.*\|\s*([^|]+?)\s*\|\s*$", line)
    if not m:
        continue
    name, uses = m.group(1), m.group(2)
    order.append(name)
    if uses.startswith("nothing"):
        allowed[name] = set()
    elif uses.startswith("everything above"):
        allowed[name] = set(order[:-1])
    else:  # "a, b, c (a remark)": the names before any parenthesis
        allowed[name] = {u.strip().strip("`") for u in re.sub(r"\(.*?\)", "", uses).split(",")
                         if u.strip()}

problems = []
src = root / "src" / "mason"
folders = sorted(p.name for p in src.iterdir() if p.is_dir())
for folder in folders:
    if folder not in allowed:
        problems.append(f"src/mason/{folder}/ is not in ARCHITECTURE.md's table")
        continue
    for f in sorted((src / folder).rglob("*")):
        if f.suffix not in (".h", ".cc"):
            continue
        for n, text in enumerate(f.read_text().splitlines(), 1):
            m = re.match(r'\s*#\s*include\s+"mason/([a-z_]+)/', text)
            if not m:
                continue
            used = m.group(1)
            if used != folder and used not in allowed[folder]:
                problems.append(f"{f.relative_to(root)}:{n}: {folder} may not use {used} "
                                f"(ARCHITECTURE.md allows: {', '.join(sorted(allowed[folder])) or 'nothing'})")
for name in allowed:
    if not (src / name).is_dir():
        problems.append(f"ARCHITECTURE.md names src/mason/{name}/, which does not exist")

# CMake: mason_library(name DEPS a b c ...) and the CLI library's links.
cmake = (root / "CMakeLists.txt").read_text()
for m in re.finditer(r"mason_library\((\w+)([^)]*)\)", cmake):
    name, args = m.group(1), m.group(2)
    deps = re.search(r"DEPS\s+(.*?)(?:EXTERNAL|$)", args, re.S)
    for dep in (deps.group(1).split() if deps else []):
        if name in allowed and dep not in allowed[name]:
            problems.append(f"CMakeLists.txt: mason_{name} links mason_{dep}, which ARCHITECTURE.md does not allow")
m = re.search(r"target_link_libraries\(mason_cli PUBLIC ([^)]*)\)", cmake)
if m:
    for dep in m.group(1).split():
        if dep.startswith("mason_") and dep[6:] not in allowed.get("cli", set()):
            problems.append(f"CMakeLists.txt: mason_cli links {dep}, which ARCHITECTURE.md does not allow")

for p in problems:
    print(p)
print(f"layering: {len(problems)} edge(s) the table does not allow" if problems else
      f"layering: {len(folders)} folders, every include and link edge allowed")
sys.exit(1 if problems else 0)
