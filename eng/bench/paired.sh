#!/usr/bin/env bash
# The blast radius of two revisions side by side in one process (README "Benchmarks"):
#   eng/bench/paired.sh <before-rev> [<after-rev>]      after: the working tree when not given
# Builds each revision's ControlPlane.SystemGraph (Release) from `git archive` in a scratch directory, then runs
# `ControlPlane.Benchmarks.dll paired`, which loads both builds into one process and alternates batches of calls on
# the benchmark's 10k and 100k graphs. SECONDS_PER_ROW (8) sets each row's time; GRAPH=10k or 100k runs one graph.
# RUNS (2) processes, every second one with the builds' places swapped (--after-first): on rows of a microsecond or
# two the build in one place runs up to a tenth faster even when both are the same, so read the two orders together
# (README "Benchmarks", "Two builds side by side").
# No servers needed. Both revisions must share the graph's contract types (GraphNode, GraphEdge, ImpactReport).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
before="${1:?usage: eng/bench/paired.sh <before-rev> [<after-rev>] (after: the working tree)}"
after="${2:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
say() { printf '== %s\n' "$*" >&2; }

build_revision() { # revision, directory
  local revision="$1" out="$2"
  git rev-parse --verify -q "$revision^{commit}" > /dev/null || { echo "not a revision: $revision" >&2; exit 2; }
  say "building ControlPlane.SystemGraph at $(git rev-parse --short "$revision") ($revision)"
  mkdir -p "$out.src"
  git archive "$revision" | tar -x -C "$out.src"
  dotnet build "$out.src/src/ControlPlane.SystemGraph" -c Release -o "$out" -v:q -nologo -clp:ErrorsOnly >&2
}

say "building the benchmarks (Release, working tree)"
dotnet build tests/ControlPlane.Benchmarks -c Release -v:q -nologo -clp:ErrorsOnly >&2
bin="$ROOT/tests/ControlPlane.Benchmarks/bin/Release/net10.0"
build_revision "$before" "$work/before"
if [ -n "$after" ]; then
  build_revision "$after" "$work/after"
  after_dir="$work/after"
else
  say "after: the working tree"
  after_dir="$bin"
fi

say "load before: $(uptime)"
args=(paired "$work/before" "$after_dir" --seconds "${SECONDS_PER_ROW:-8}")
[ -n "${GRAPH:-}" ] && args+=(--graph "$GRAPH")
RUNS="${RUNS:-2}"
for run in $(seq 1 "$RUNS"); do
  if [ $((run % 2)) -eq 0 ]; then order=(--after-first); else order=(); fi
  say "run $run of $RUNS${order:+ (after first)}"
  dotnet "$bin/ControlPlane.Benchmarks.dll" "${args[@]}" "${order[@]}"
done
say "load after: $(uptime)"
