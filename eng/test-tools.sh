#!/usr/bin/env bash
# Installs, from the OS packages, the tools the tests use beside the servers: Chromium (the browser tests; Playwright
# is pointed at /usr/bin/chromium and never downloads one) and kubectl (renders the kustomize base). Used by ./test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOGS="${CONTROLPLANE_STATE:-$ROOT/.state}/logs"
mkdir -p "$LOGS"
say() { printf '[tools] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v kubectl >/dev/null || need+=(kubernetes-client)
[ ${#need[@]} -eq 0 ] && { say "chromium and kubectl present"; exit 0; }

say "installing ${need[*]} from the OS packages (needs root or sudo)"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$LOGS/apt-tools.log" 2>&1 \
  || { say "ERROR: apt-get update failed (see $LOGS/apt-tools.log)"; exit 1; }
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$LOGS/apt-tools.log" 2>&1 \
  || { say "ERROR: apt-get install ${need[*]} failed (see $LOGS/apt-tools.log)"; exit 1; }
