#!/usr/bin/env bash
# Demo execution of a configuration change: records the applied reference for the service.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
say "applying configuration ${CP_PARAM_REFERENCE:-unknown} to $SERVICE"
sleep 0.3
printf '%s work=%s proposal=%s reference=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$CP_WORK_ID" "$CP_PROPOSAL_ID" "${CP_PARAM_REFERENCE:-unknown}" >> "$DEMO_STATE/$SERVICE.configs"
printf '%s work=%s proposal=%s reload after config change\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$CP_WORK_ID" "$CP_PROPOSAL_ID" >> "$DEMO_STATE/$SERVICE.restarts"
say "$SERVICE reloaded with the new configuration"
