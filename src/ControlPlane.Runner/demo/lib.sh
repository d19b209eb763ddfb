# Shared by the demo commands: which service a package is about (the allow-listed parameter "service", else
# the first target) and a folder for the demo's visible state under the runner's workspace.
SERVICE="${CP_PARAM_SERVICE:-${CP_TARGETS%%,*}}"
SERVICE="${SERVICE:-unknown-service}"
case "$SERVICE" in
  *[!A-Za-z0-9._-]*) echo "refusing odd service name: $SERVICE" >&2; exit 2 ;;
esac
DEMO_STATE="${CP_STATE_DIR:-$PWD}/services"
mkdir -p "$DEMO_STATE"
say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# A package credential for the targets (CP_TARGET_CREDENTIAL) is used, never shown: the demo keeps only its digest.
if [ -n "${CP_TARGET_CREDENTIAL:-}" ]; then
  printf '%s' "$CP_TARGET_CREDENTIAL" | sha256sum | cut -d' ' -f1 > "$DEMO_STATE/$SERVICE.credential-sha256"
fi
