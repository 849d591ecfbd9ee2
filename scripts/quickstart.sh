#!/usr/bin/env bash
# The README's first Quick start command: install dependencies, build
# mason, and run its main job on the seed's Go multi-stage example.
#
# Today mason's frontend is complete and the build engine is the next
# milestone (docs/compatibility.md): this shows how mason reads the
# example, its stage graph, and what --target prunes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
m=build/mason
echo
echo "== examples/go/Dockerfile, as mason parses it =="
"$m" parse --ast -f examples/go/Dockerfile
echo
echo "== its stage graph (the construction site and the house) =="
"$m" parse --stages -f examples/go/Dockerfile
echo
echo "== examples/targets.Dockerfile --target production: 'development' is pruned =="
"$m" parse --stages -f examples/targets.Dockerfile --target production
