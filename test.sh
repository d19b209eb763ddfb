#!/usr/bin/env bash
# The test command (what CI runs): starts the real servers if needed, builds, runs every test project, and
# ends with one line "N passed, N failed[, N skipped]" summed over all projects. Exits non-zero on any failure.
#   ./test.sh                 everything
#   ./test.sh --filter EXPR   passed to dotnet test (e.g. --filter FullyQualifiedName~Orchestrator)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="$PWD"
RESULTS="$ROOT/.state/test-results"
SOLUTION="ControlPlane.sln"   # everything, the AppHost included

summary() { echo "$1 passed, $2 failed${3:+, $3 skipped}"; }

echo "== servers"
if ! eng/servers.sh up; then
  echo "The servers could not be started (see the message above)."
  summary 0 1; exit 1
fi

echo "== test tools"
# Chromium for the dashboard test (Playwright never downloads a browser) and kubectl for the kustomize render.
if ! eng/test-tools.sh; then
  echo "The test tools could not be installed (see the message above)."
  summary 0 1; exit 1
fi

echo "== build"
if ! dotnet build "$SOLUTION" -nologo -v:quiet -clp:ErrorsOnly; then
  echo "The build failed; no test ran."
  summary 0 1; exit 1
fi

echo "== test"
rm -rf "$RESULTS"; mkdir -p "$RESULTS"
# Every test project in the CI solution, one after the other: on two cores this is as fast as running them
# together and keeps each project's time limits honest.
mapfile -t projects < <(dotnet sln "$SOLUTION" list | grep -E '^tests/.*\.Tests\.csproj$')
passed=0; failed=0; skipped=0
for project in "${projects[@]}"; do
  name="$(basename "$project" .csproj)"
  echo "-- $name"
  CONTROLPLANE_TEST_RESULTS="$RESULTS/$name" dotnet test "$project" --no-build -nologo --results-directory "$RESULTS/$name" \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" --blame-hang-timeout 10m "$@"
  status=$?
  trx="$RESULTS/$name/$name.trx"
  if [ ! -f "$trx" ]; then
    # A test host that crashed before writing its results counts as a failure, never as silence.
    echo "$name reported no results (exit code $status): counted as one failure."
    failed=$((failed + 1)); continue
  fi
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  get() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  p=$(get passed); f=$(( $(get failed) + $(get error) + $(get timeout) + $(get aborted) )); k=$(get notExecuted)
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "$name: dotnet test exited with $status although no test failed: counted as one failure."
    f=1
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
done

echo
if [ "$skipped" -gt 0 ]; then summary "$passed" "$failed" "$skipped"; else summary "$passed" "$failed"; fi
[ "$failed" -eq 0 ]
