#!/usr/bin/env bash
# Component figures, ours next to an anchor measured right after on the same machine (README "Benchmarks"):
#   blast radius (BenchmarkDotNet) then the same graph as a recursive CTE in PostgreSQL (BenchmarkDotNet);
#   a 200-rule policy decision (BenchmarkDotNet) then Cedar through @cedar-policy/cedar-wasm (node);
#   Merkle inclusion / consistency proof verification at 10^6 leaves (no anchor: a goal of 20 us).
# Prints the machine's load before and after and one table: ours / anchor / ratio. ROUNDS=2 runs every pair
# twice, alternating ours and the anchor, and the table gives the range. Needs PostgreSQL (eng/servers.sh up),
# node and npm. Results: .state/bench/<time>/.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
ROUNDS="${ROUNDS:-1}"
OUT="${OUT:-$ROOT/.state/bench/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
say() { printf '== %s\n' "$*" >&2; }

say "load before: $(uptime)"; uptime > "$OUT/uptime-before.txt"
say "building the benchmarks (Release)"
dotnet build tests/ControlPlane.Benchmarks -c Release -v:q -nologo -clp:ErrorsOnly >&2
( cd eng/bench/cedar && { [ -d node_modules/@cedar-policy/cedar-wasm ] || npm ci --no-audit --no-fund >&2; } )

bench() { # round, name, filter...
  local round="$1" name="$2"; shift 2
  say "round $round: $name"
  dotnet tests/ControlPlane.Benchmarks/bin/Release/net10.0/ControlPlane.Benchmarks.dll --job short --inProcess \
    --exporters json --artifacts "$OUT/$round/$name" --filter "$@" > "$OUT/$round/$name.log" 2>&1 \
    || { tail -n 40 "$OUT/$round/$name.log" >&2; exit 1; }
}

for round in $(seq 1 "$ROUNDS"); do
  mkdir -p "$OUT/$round"
  bench "$round" impact '*.ImpactBenchmarks.*'
  bench "$round" impact-cte '*.ImpactCteBenchmarks.*'
  bench "$round" policy '*.PolicyEvaluationBenchmarks.Decide*' '*.PolicyEvaluationBenchmarks.Verdict*'
  say "round $round: cedar"
  node eng/bench/cedar/bench.mjs > "$OUT/$round/cedar.txt"
  bench "$round" merkle '*.MerkleProofBenchmarks.Verify*'
  say "round $round: blast-radius latency"
  dotnet tests/ControlPlane.Benchmarks/bin/Release/net10.0/ControlPlane.Benchmarks.dll latency > "$OUT/$round/latency.txt"
done

say "load after: $(uptime)"; uptime > "$OUT/uptime-after.txt"
python3 eng/bench/table.py "$OUT"
