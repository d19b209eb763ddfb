#!/usr/bin/env bash
# Demo execution: "restarts" the service by recording a new generation in the runner's workspace.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
marker="$DEMO_STATE/$SERVICE.restarts"
previous=$(wc -l < "$marker" 2>/dev/null || echo 0)
say "draining $SERVICE"
sleep 0.3
say "restarting $SERVICE (generation $((previous + 1)))"
printf '%s work=%s proposal=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$CP_WORK_ID" "$CP_PROPOSAL_ID" >> "$marker"
sleep 0.3
say "$SERVICE is serving again; state recorded in $marker"
