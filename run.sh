#!/usr/bin/env bash
# Runs ControlPlane on this machine: starts RabbitMQ, PostgreSQL and Redis (eng/servers.sh: from the OS packages,
# or the ones already listening), builds, and runs the Aspire AppHost, which starts every service, both runners and
# the dashboard under DCP. Prints where everything is once all are healthy. Ctrl-C stops the plane (and the servers,
# if this run started them). State (databases, broker, keys) lives in .state/ and is reused by the next run.
#   ./run.sh                         Release build, local servers (no container runtime needed)
#   CONFIGURATION=Debug ./run.sh     Debug build (to attach a debugger)
#   INTAKE_PER_MINUTE=0 ./run.sh     no per-agent proposal intake limit (load runs, README "Load"; default 120/min)
#   TRACE_SAMPLE_RATIO=0.1 ./run.sh  keep a tenth of the traces (load runs; default: every trace, as Aspire sets it)
#   METRIC_EXPORT_SECONDS=10 ./run.sh  services export metrics every 10 s (load runs; default: every second, as Aspire sets it)
#   ControlPlane__Servers=containers ./run.sh   RabbitMQ, PostgreSQL and Redis as containers (Docker or Podman)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="$PWD"
STATE="$ROOT/.state"
LOGS="$STATE/logs"
CONFIGURATION="${CONFIGURATION:-Release}"
MODE="${ControlPlane__Servers:-auto}"
DASHBOARD="http://127.0.0.1:18888"   # ControlPlane.AppHost/Properties/launchSettings.json
mkdir -p "$LOGS" "$STATE/secrets"

say() { printf '[run] %s\n' "$*"; }

# ---- servers (unless the AppHost runs them as containers) ----------------------------------------------
we_started_servers=no
if [ "$MODE" != containers ]; then
  servers_were_started_before=$([ -s "$STATE/servers-started" ] && echo yes || echo no)
  eng/servers.sh up
  [ "$servers_were_started_before" = no ] && [ -s "$STATE/servers-started" ] && we_started_servers=yes
fi

# ---- build ---------------------------------------------------------------------------------------------
say "building ($CONFIGURATION)"
dotnet build ControlPlane.sln -c "$CONFIGURATION" -nologo -v:quiet -clp:ErrorsOnly >"$LOGS/build.log" 2>&1 \
  || { tail -n 30 "$LOGS/build.log"; say "build failed; full log: $LOGS/build.log"; exit 1; }

# ---- secrets: generated once, kept in .state/secrets (git-ignored), handed to the AppHost as parameters ------
secret() { local f="$STATE/secrets/$1"; [ -s "$f" ] || head -c 32 /dev/urandom | base64 | tr -d '\n=' >"$f"; chmod 600 "$f"; cat "$f"; }
keys_were=$([ -s "$STATE/secrets/identity-kek" ] && echo "reused from .state/secrets" || echo "generated into .state/secrets")

# ---- this clone's names on shared servers --------------------------------------------------------------
# Another clone on this machine shares PostgreSQL, RabbitMQ and Redis; its keys would not open this clone's
# databases. So each clone has its own database names, broker vhost and Redis key prefix, chosen once and kept in
# .state/db-prefix. A clone that ran before prefixes existed (keys already in .state/secrets) keeps its names.
if [ -f "$STATE/db-prefix" ]; then PREFIX="$(cat "$STATE/db-prefix")"
elif [ "$keys_were" = "reused from .state/secrets" ]; then PREFIX=""
else PREFIX="cp_$(printf '%s' "$ROOT" | sha256sum | cut -c1-8)_"; fi
printf '%s' "$PREFIX" >"$STATE/db-prefix"
VHOST="${PREFIX%_}"; CACHE_PREFIX="${PREFIX:+${PREFIX%_}:}"
clone_env=("ControlPlane__LocalServers__DatabasePrefix=$PREFIX")
# A load run offers more proposals per agent than the production intake limit lets through; only this flag raises it.
if [ -n "${INTAKE_PER_MINUTE:-}" ]; then clone_env+=("ControlPlane__IntakePerMinute=$INTAKE_PER_MINUTE"); fi
if [ -n "${TRACE_SAMPLE_RATIO:-}" ]; then clone_env+=("ControlPlane__TraceSampleRatio=$TRACE_SAMPLE_RATIO"); fi
if [ -n "${METRIC_EXPORT_SECONDS:-}" ]; then clone_env+=("ControlPlane__MetricExportSeconds=$METRIC_EXPORT_SECONDS"); fi
if [ "$MODE" != containers ] && [ -n "$VHOST" ]; then
  curl -fsS -u guest:guest -X PUT "http://127.0.0.1:15672/api/vhosts/$VHOST" >/dev/null \
    && curl -fsS -u guest:guest -X PUT -H 'content-type: application/json' -d '{"configure":".*","write":".*","read":".*"}' \
         "http://127.0.0.1:15672/api/permissions/$VHOST/guest" >/dev/null \
    || { say "could not create the RabbitMQ vhost $VHOST through the management API on 15672"; exit 1; }
  clone_env+=("ControlPlane__LocalServers__Messaging=amqp://guest:guest@127.0.0.1:5672/$VHOST" "ControlPlane__CacheKeyPrefix=$CACHE_PREFIX")
fi
psql_bin="$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1 || true)"
existing=""
if [ -n "$psql_bin" ] && [ "$MODE" != containers ]; then
  existing="$("$psql_bin" -h 127.0.0.1 -U postgres -d postgres -Atc \
    "select string_agg(datname, ' ' order by datname) from pg_database where datname in ('${PREFIX}identity-db','${PREFIX}graph-db','${PREFIX}policy-db','${PREFIX}orchestrator-db','${PREFIX}fleet-db','${PREFIX}evidence-db')" 2>/dev/null || true)"
fi
say "this clone: databases ${PREFIX}identity-db … ${PREFIX}evidence-db (prefix in .state/db-prefix); reused: ${existing:-none, created now}"
say "this clone: key-encryption keys ${keys_were}; broker vhost ${VHOST:-/}; Redis key prefix ${CACHE_PREFIX:-cp:}"

# ---- the AppHost ---------------------------------------------------------------------------------------
say "starting the AppHost (log: $LOGS/apphost.log)"
env "Parameters__identity-key-encryption-key=$(secret identity-kek)" \
    "Parameters__fleet-key-encryption-key=$(secret fleet-kek)" \
    "Parameters__evidence-key-encryption-key=$(secret evidence-kek)" \
    "Parameters__orchestrator-key-encryption-key=$(secret orchestrator-kek)" \
    "ControlPlane__Servers=$MODE" \
    "ControlPlane__RunnerStateRoot=$STATE/runners" \
    "ControlPlane__WitnessDataDirectory=$STATE/witness" \
    "${clone_env[@]}" \
  dotnet run --project ControlPlane.AppHost -c "$CONFIGURATION" --no-build --launch-profile http >"$LOGS/apphost.log" 2>&1 &
apphost=$!

stop_all() {
  trap - INT TERM EXIT
  echo
  if kill -0 "$apphost" 2>/dev/null; then
    say "stopping the plane"
    # A background job of a script ignores SIGINT, so the AppHost is asked with SIGTERM; it stops every resource.
    kill -TERM "$apphost" 2>/dev/null || true
    wait "$apphost" 2>/dev/null || true
  fi
  if [ "$we_started_servers" = yes ]; then eng/servers.sh down; elif [ "$MODE" != containers ]; then say "servers were already running; left running"; fi
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT

NAMES=(identity system-graph policy orchestrator fleet evidence console witness runner-testing-1 runner-remediation-1)
PORTS=(5101 5102 5103 5104 5105 5106 5107 5108 5110 5111)
deadline=$((SECONDS + 300))
for i in "${!NAMES[@]}"; do
  until curl -fsS "http://127.0.0.1:${PORTS[$i]}/health" >/dev/null 2>&1; do
    if ! kill -0 "$apphost" 2>/dev/null; then
      say "the AppHost exited during start. Last lines of $LOGS/apphost.log:"; tail -n 30 "$LOGS/apphost.log"; exit 1
    fi
    if [ $SECONDS -gt $deadline ]; then
      say "${NAMES[$i]} did not become healthy within 300 s; its console log is in the dashboard: $DASHBOARD"; exit 1
    fi
    sleep 1
  done
done

printf '\n%-22s %s\n' RESOURCE URL
for i in "${!NAMES[@]}"; do printf '%-22s %s\n' "${NAMES[$i]}" "http://127.0.0.1:${PORTS[$i]}"; done
printf '%-22s %s\n' "dashboard" "$DASHBOARD   (logs, traces, metrics, restart a resource)"
if [ "$MODE" != containers ]; then
  printf '%-22s %s\n' "rabbitmq-management" "http://127.0.0.1:15672   guest / guest"
  printf '%-22s %s\n' "postgresql" "127.0.0.1:5432   user postgres"
  printf '%-22s %s\n' "redis" "127.0.0.1:6379"
fi
echo
say "all healthy. Try: dotnet src/ControlPlane.Cli/bin/$CONFIGURATION/net10.0/controlplane.dll demo billing   (Ctrl-C stops everything)"
# A service that crashes does not stop the plane: the dashboard shows it and restarts it on request.
wait "$apphost" || true
say "the AppHost exited; see $LOGS/apphost.log"
