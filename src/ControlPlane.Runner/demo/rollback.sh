#!/usr/bin/env bash
# Demo generic rollback (the orchestrator's fallback for actions without their own): follows the rollback plan
# text it is given, by recording it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
say "rolling back $SERVICE following the plan: ${CP_PARAM_ROLLBACKPLAN:-none given}"
sleep 0.3
printf '%s work=%s proposal=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$CP_WORK_ID" "$CP_PROPOSAL_ID" >> "$DEMO_STATE/$SERVICE.rollbacks"
say "$SERVICE rolled back"
