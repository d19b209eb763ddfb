#!/usr/bin/env bash
# Demo validation: a small, visible unit-test run for the service under change. Exits 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
say "unit tests for $SERVICE (work $CP_WORK_ID, proposal $CP_PROPOSAL_ID, $CP_ENVIRONMENT)"
for suite in parsing billing-rules invoices memory-pool; do
  sleep 0.2
  say "  suite $suite: passed"
done
say "42 tests, 0 failures"
