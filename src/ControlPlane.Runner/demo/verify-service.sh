#!/usr/bin/env bash
# Demo verification: passes when a runner of this machine recorded a restart of the service (the remediation
# happened), fails otherwise. Runners keep their state side by side (.state/runner-<id>/workspace), so the
# testing runner looks at its siblings' workspaces, read-only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
say "verifying $SERVICE after the change"
sleep 0.2
for marker in "$CP_STATE_DIR"/../../*/workspace/services/"$SERVICE".restarts; do
  if [ -s "$marker" ]; then
    say "  last restart: $(tail -n 1 "$marker")"
    say "  memory 212 MiB (was 1.9 GiB), error rate 0.0%: healthy"
    exit 0
  fi
done
say "  no restart of $SERVICE is recorded: not healthy" >&2
exit 1
