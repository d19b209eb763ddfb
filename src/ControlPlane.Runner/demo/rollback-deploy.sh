#!/usr/bin/env bash
# Demo rollback of a deploy: records that the service went back to the release before the last deploy.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
say "rolling $SERVICE back to the release before the last deploy"
sleep 0.3
printf '%s work=%s proposal=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$CP_WORK_ID" "$CP_PROPOSAL_ID" >> "$DEMO_STATE/$SERVICE.rollbacks"
say "$SERVICE rolled back; state recorded in $DEMO_STATE/$SERVICE.rollbacks"
