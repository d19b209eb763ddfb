#!/usr/bin/env bash
# Demo execution: "deploys" the change (CP_PARAM_REFERENCE / CP_PARAM_DIGEST) by recording a new release and a
# rolling restart of the service in the runner's workspace.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
reference="${CP_PARAM_REFERENCE:-unknown}"
digest="${CP_PARAM_DIGEST:-unknown}"
case "$digest" in
  *[!A-Za-z0-9:._-]*) echo "refusing odd digest: $digest" >&2; exit 2 ;;
esac
say "deploying $reference to $SERVICE ($CP_ENVIRONMENT)"
say "  verifying artifact digest $digest"
sleep 0.3
for replica in 1 2 3; do
  say "  replica $replica/3 rolled to the new release"
  sleep 0.2
done
printf '%s work=%s proposal=%s digest=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$CP_WORK_ID" "$CP_PROPOSAL_ID" "$digest" >> "$DEMO_STATE/$SERVICE.deploys"
printf '%s work=%s proposal=%s rolling restart for %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$CP_WORK_ID" "$CP_PROPOSAL_ID" "$digest" >> "$DEMO_STATE/$SERVICE.restarts"
say "$SERVICE now runs $digest; state recorded in $DEMO_STATE"
