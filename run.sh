#!/usr/bin/env bash
# Runs ControlPlane on this machine without Docker: installs and starts RabbitMQ, PostgreSQL and Redis from the
# OS packages (eng/servers.sh), builds, starts every service and the runners with the configuration keys the
# Aspire AppHost injects, waits for every /health, prints where everything is, and stops what it started on
# Ctrl-C. State (databases, broker, keys) lives in .state/ and is reused by the next run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="$PWD"
STATE="$ROOT/.state"
LOGS="$STATE/logs"
CONFIGURATION="${CONFIGURATION:-Debug}"
mkdir -p "$LOGS" "$STATE/secrets"

say() { printf '[run] %s\n' "$*"; }

# ---- servers -------------------------------------------------------------------------------------------
servers_were_started_before=$([ -s "$STATE/servers-started" ] && echo yes || echo no)
eng/servers.sh up
[ "$servers_were_started_before" = no ] && [ -s "$STATE/servers-started" ] && we_started_servers=yes || we_started_servers=no

# ---- build ---------------------------------------------------------------------------------------------
say "building ($CONFIGURATION)"
dotnet build ControlPlane.CI.slnf -c "$CONFIGURATION" -nologo -v:quiet -clp:ErrorsOnly >"$LOGS/build.log" 2>&1 \
  || { tail -n 30 "$LOGS/build.log"; say "build failed; full log: $LOGS/build.log"; exit 1; }

# ---- secrets: generated once, kept in .state/secrets (git-ignored) ---------------------------------------
secret() { local f="$STATE/secrets/$1"; [ -s "$f" ] || head -c 32 /dev/urandom | base64 | tr -d '\n=' >"$f"; chmod 600 "$f"; cat "$f"; }

# ---- the topology: the same names and keys as ControlPlane.AppHost/Program.cs ----------------------------
declare -A PORT=([identity]=5101 [system-graph]=5102 [policy]=5103 [orchestrator]=5104 [fleet]=5105 [evidence]=5106)
declare -A PROJECT=([identity]=Identity [system-graph]=SystemGraph [policy]=Policy [orchestrator]=Orchestrator [fleet]=Fleet [evidence]=Evidence)
declare -A DATABASE=([identity]=identity-db [system-graph]=graph-db [policy]=policy-db [orchestrator]=orchestrator-db [fleet]=fleet-db [evidence]=evidence-db)
ORDER=(identity system-graph policy orchestrator fleet evidence)
RUNNERS=(runner-testing-1:testing:5110 runner-remediation-1:remediation:5111)

common_env() { # service-name port
  local name=$1 port=$2 s
  echo "ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}"
  echo "ASPNETCORE_URLS=http://127.0.0.1:$port"
  echo "OTEL_SERVICE_NAME=$name"
  [ -n "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" ] && echo "OTEL_EXPORTER_OTLP_ENDPOINT=$OTEL_EXPORTER_OTLP_ENDPOINT"
  echo "ConnectionStrings__messaging=amqp://guest:guest@127.0.0.1:5672"
  echo "ConnectionStrings__cache=127.0.0.1:6379"
  for s in "${ORDER[@]}"; do echo "services__${s}__http__0=http://127.0.0.1:${PORT[$s]}"; done
}

service_env() { # service-name
  local name=$1
  common_env "$name" "${PORT[$name]}"
  echo "ConnectionStrings__${DATABASE[$name]}=Host=127.0.0.1;Port=5432;Username=postgres;Database=${DATABASE[$name]}"
  case "$name" in
    identity)
      echo "Identity__Issuer=http://127.0.0.1:${PORT[identity]}"
      echo "Identity__KeyEncryptionKey=$(secret identity-kek)"
      echo "Identity__SeedFile=$ROOT/src/ControlPlane.Identity/Seed/demo-identity.json" ;;
    system-graph)
      echo "SystemGraph__SeedFile=$ROOT/src/ControlPlane.SystemGraph/Seed/demo-graph.json" ;;
    fleet)
      echo "Fleet__KeyEncryptionKey=$(secret fleet-kek)" ;;
    evidence)
      echo "Evidence__KeyEncryptionKey=$(secret evidence-kek)" ;;
  esac
}

runner_env() { # id fleet port
  common_env "$1" "$3"
  echo "Runner__Id=$1"
  echo "Runner__Fleet=$2"
  echo "Runner__ClientId=$1"
  echo "Runner__ClientSecret=demo-secret-$1-development-only"   # the demo seed's secret (Development only)
  echo "Runner__StateDirectory=$STATE/runners/$1"
  echo "Runner__ConfigFile=$ROOT/src/ControlPlane.Runner/demo/runner.$2.json"
}

PIDS=()
declare -A PID_OF
start() { # display-name project-dir env-function args...
  local name=$1 dir=$ROOT/$2; shift 2
  local dll="$dir/bin/$CONFIGURATION/net10.0/$(basename "$dir").dll"
  # The content root is the project folder, as under `dotnet run` and the AppHost.
  ( cd "$dir" && mapfile -t vars < <("$@") && exec env "${vars[@]}" dotnet "$dll" ) >"$LOGS/$name.log" 2>&1 &
  PIDS+=($!)
  PID_OF[$name]=$!
}

stop_all() {
  trap - INT TERM EXIT
  echo
  say "stopping services"
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$we_started_servers" = yes ]; then eng/servers.sh down; else say "servers were already running; left running"; fi
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT

declare -A URL
for name in "${ORDER[@]}"; do URL[$name]="http://127.0.0.1:${PORT[$name]}"; done
for runner in "${RUNNERS[@]}"; do IFS=: read -r id _ port <<<"$runner"; URL[$id]="http://127.0.0.1:$port"; done
deadline=$((SECONDS + 180))
wait_healthy() { # names...
  local name
  for name in "$@"; do
    until curl -fsS "${URL[$name]}/health" >/dev/null 2>&1; do
      if ! kill -0 "${PID_OF[$name]}" 2>/dev/null; then
        say "$name exited during start. Last lines of $LOGS/$name.log:"
        tail -n 20 "$LOGS/$name.log"; exit 1
      fi
      if [ $SECONDS -gt $deadline ]; then
        say "$name did not become healthy within 180 s. Last lines of $LOGS/$name.log:"
        tail -n 20 "$LOGS/$name.log"; exit 1
      fi
      sleep 1
    done
  done
}

# Started in waves, consumers before publishers: a message published before its consumer's queue exists is
# dropped by the exchange, so on a first run evidence (which records every event) binds first, then fleet
# (which takes orchestrator's WorkRequested), then the other services, then identity (whose seed events policy
# projects), then the runners. Queues are durable, so this
# only matters the first time; the AppHost expresses the same order with WaitFor.
say "starting (logs in $LOGS/)"
start evidence "src/ControlPlane.${PROJECT[evidence]}" service_env evidence
wait_healthy evidence
start fleet "src/ControlPlane.${PROJECT[fleet]}" service_env fleet
wait_healthy fleet
for name in system-graph policy orchestrator; do
  start "$name" "src/ControlPlane.${PROJECT[$name]}" service_env "$name"
done
wait_healthy system-graph policy orchestrator
start identity "src/ControlPlane.${PROJECT[identity]}" service_env identity
wait_healthy identity
for runner in "${RUNNERS[@]}"; do
  IFS=: read -r id fleet port <<<"$runner"
  start "$id" "src/ControlPlane.Runner" runner_env "$id" "$fleet" "$port"
done
wait_healthy "${RUNNERS[@]%%:*}"

printf '\n%-22s %-28s %s\n' SERVICE URL LOG
for name in "${ORDER[@]}" "${RUNNERS[@]%%:*}"; do printf '%-22s %-28s %s\n' "$name" "${URL[$name]}" "$LOGS/$name.log"; done
printf '%-22s %-28s %s\n' "rabbitmq-management" "http://127.0.0.1:15672" "guest / guest"
printf '%-22s %-28s %s\n' "postgresql" "127.0.0.1:5432" "user postgres"
printf '%-22s %-28s %s\n' "redis" "127.0.0.1:6379" ""
echo
say "all healthy. Try: dotnet src/ControlPlane.Cli/bin/$CONFIGURATION/net10.0/controlplane.dll status   (Ctrl-C stops everything)"
# A process that exits on its own is a fault worth seeing: say which, then stop the rest.
wait -n "${PIDS[@]}" || true
for i in "${!PIDS[@]}"; do
  kill -0 "${PIDS[$i]}" 2>/dev/null || say "a process exited (pid ${PIDS[$i]}); see the logs in $LOGS/"
done
