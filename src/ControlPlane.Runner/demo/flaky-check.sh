#!/usr/bin/env bash
# Demo failure: a check that always fails (exit 1), to show a failed validation or verification.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
say "flaky check for $SERVICE"
sleep 0.2
say "  p99 latency 2300 ms exceeds 500 ms" >&2
exit 1
