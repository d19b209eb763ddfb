#!/usr/bin/env bash
# Demo validation suite from a change-aware plan: runs the suite the package names (parameter "suite") for the node
# that declared it (parameter "node"), prints each check, exits 0 when they pass.
#
# Making a suite fail on purpose (what the flaky-retry test does, and what an operator does to rehearse a red gate):
#   echo 2 > "$CP_STATE_DIR/suites/<suite>.fail"      # the next 2 runs of <suite> fail, later runs pass again
#   echo always > "$CP_STATE_DIR/suites/<suite>.fail" # every run fails until the file is removed
# CP_STATE_DIR is the runner's workspace (Runner:StateDirectory/workspace).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
SUITE="${CP_PARAM_SUITE:-}"
NODE="${CP_PARAM_NODE:-$SERVICE}"
case "$SUITE" in
  ""|*[!A-Za-z0-9._-]*) echo "refusing suite name '${SUITE}': the package must name a suite (letters, digits, . _ -)" >&2; exit 2 ;;
esac
case "$NODE" in
  *[!A-Za-z0-9._-]*) echo "refusing odd node name: $NODE" >&2; exit 2 ;;
esac

SUITES_STATE="${CP_STATE_DIR:-$PWD}/suites"
mkdir -p "$SUITES_STATE"
say "suite $SUITE for node $NODE (work ${CP_WORK_ID:-?}, proposal ${CP_PROPOSAL_ID:-?}, ${CP_ENVIRONMENT:-?}, step ${CP_STEP:-?})"
for check in "$NODE responds on its health endpoint" "$SUITE contract matches the declared API" "$SUITE smoke scenario"; do
  sleep 0.1
  say "  check: $check"
done

FAIL_FILE="$SUITES_STATE/$SUITE.fail"
if [ -f "$FAIL_FILE" ]; then
  remaining="$(tr -d '[:space:]' < "$FAIL_FILE")"
  if [ "$remaining" = "always" ]; then
    say "suite $SUITE FAILED: $FAIL_FILE says every run fails" >&2
    exit 1
  fi
  case "$remaining" in
    ''|*[!0-9]*) say "suite $SUITE FAILED: $FAIL_FILE must hold a number of runs or 'always', not '$remaining'" >&2; exit 1 ;;
  esac
  if [ "$remaining" -gt 0 ]; then
    left=$((remaining - 1))
    if [ "$left" -eq 0 ]; then rm -f "$FAIL_FILE"; else echo "$left" > "$FAIL_FILE"; fi
    say "suite $SUITE FAILED: injected failure ($left more failing run(s) after this one, from $FAIL_FILE)" >&2
    exit 1
  fi
  rm -f "$FAIL_FILE"
fi
say "suite $SUITE passed: 3 checks, 0 failures"
