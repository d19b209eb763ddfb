#!/usr/bin/env bash
# Demo rollback: records that the service went back to its previous version.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
marker="$DEMO_STATE/$SERVICE.rollbacks"
say "rolling $SERVICE back to the previous release"
sleep 0.3
printf '%s work=%s proposal=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$CP_WORK_ID" "$CP_PROPOSAL_ID" >> "$marker"
say "$SERVICE rolled back; state recorded in $marker"
