#!/usr/bin/env bash
# Demo validation: integration tests against the service's neighbours. Exits 0.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
say "integration tests for $SERVICE (work $CP_WORK_ID)"
for surface in api-contract database-migrations queue-consumers; do
  sleep 0.3
  say "  $surface: ok"
done
say "3 surfaces verified"
