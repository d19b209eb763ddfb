#!/usr/bin/env bash
# Installs (from the OS packages) and starts the servers ControlPlane needs: RabbitMQ (+ management plugin),
# PostgreSQL and Redis, on loopback, with their state under .state/. A server already listening on its standard
# port is reused, not fought. Used by ./run.sh and ./test.sh.
#
#   eng/servers.sh up       install what is missing, start what is not running, wait until all answer
#   eng/servers.sh down     stop the servers this script started (never ones it found running)
#   eng/servers.sh status   say what listens where
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${CONTROLPLANE_STATE:-$ROOT/.state}"
LOGS="$STATE/logs"
STARTED="$STATE/servers-started"   # one line per server this script started
PG_PORT=5432; AMQP_PORT=5672; MGMT_PORT=15672; REDIS_PORT=6379
# A commit is durable when acknowledged, as on a production database. CONTROLPLANE_PG_SYNCHRONOUS_COMMIT=off trades
# that away for speed (a crash of the machine can lose acknowledged commits); it applies when this script starts
# PostgreSQL, not to a server it reuses.
PG_SYNCHRONOUS_COMMIT="${CONTROLPLANE_PG_SYNCHRONOUS_COMMIT:-on}"

say()  { printf '[servers] %s\n' "$*"; }
fail() { printf '[servers] ERROR: %s\n' "$*" >&2; exit 1; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
wait_for() { # name port seconds
  local i; for ((i = 0; i < $3 * 5; i++)); do listening "$2" && return 0; sleep 0.2; done
  fail "$1 did not start listening on 127.0.0.1:$2 within $3 s; see $LOGS/"
}

install_missing() {
  local need=()
  command -v rabbitmq-server >/dev/null || [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  [ ${#need[@]} -eq 0 ] && return 0
  say "installing ${need[*]} from the OS packages (needs root or sudo)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$LOGS/apt.log" 2>&1 \
    || fail "apt-get update failed (see $LOGS/apt.log); install ${need[*]} yourself or run as root"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$LOGS/apt.log" 2>&1 \
    || fail "apt-get install ${need[*]} failed (see $LOGS/apt.log)"
}

start_postgres() {
  case "$PG_SYNCHRONOUS_COMMIT" in
    on|off|local|remote_write|remote_apply) ;;
    *) fail "CONTROLPLANE_PG_SYNCHRONOUS_COMMIT must be on, off, local, remote_write or remote_apply (got '$PG_SYNCHRONOUS_COMMIT')" ;;
  esac
  local bin; bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  if listening $PG_PORT; then
    local current; current="$("$bin/psql" -h 127.0.0.1 -p $PG_PORT -U postgres -Atc 'show synchronous_commit' 2>/dev/null || echo unknown)"
    say "PostgreSQL: reusing the server on 127.0.0.1:$PG_PORT (synchronous_commit=$current)"
    [ "$current" = "$PG_SYNCHRONOUS_COMMIT" ] || [ "$current" = unknown ] \
      || say "PostgreSQL: it was not started with synchronous_commit=$PG_SYNCHRONOUS_COMMIT; 'eng/servers.sh down' then 'up' applies it"
    return
  fi
  local data="$STATE/postgres" run_as=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses root; the data folder must be reachable by the postgres user.
    if ! su postgres -s /bin/sh -c "test -x '$STATE'" 2>/dev/null; then
      data="/var/lib/postgresql/controlplane-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)"
    fi
    mkdir -p "$data"; chown postgres:postgres "$data"; chmod 700 "$data"
    touch "$LOGS/postgres.log"; chown postgres "$LOGS/postgres.log"
    run_as=(su postgres -s /bin/sh -c)
  else
    mkdir -p "$data"; chmod 700 "$data"
    run_as=(sh -c)
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    say "PostgreSQL: initialising $data"
    "${run_as[@]}" "'$bin/initdb' -D '$data' -A trust -U postgres -E UTF8" >"$LOGS/postgres-initdb.log" 2>&1 \
      || fail "initdb failed; see $LOGS/postgres-initdb.log"
  fi
  say "PostgreSQL: starting on 127.0.0.1:$PG_PORT (data $data, synchronous_commit=$PG_SYNCHRONOUS_COMMIT)"
  "${run_as[@]}" "'$bin/pg_ctl' -D '$data' -w -t 60 -l '$LOGS/postgres.log' -o \"-k '$data' -c listen_addresses=127.0.0.1 -p $PG_PORT -c max_connections=400 -c synchronous_commit=$PG_SYNCHRONOUS_COMMIT\" start" >/dev/null \
    || fail "PostgreSQL did not start; see $LOGS/postgres.log"
  echo "postgres $bin/pg_ctl $data" >>"$STARTED"
  wait_for PostgreSQL $PG_PORT 30
}

rabbit_env() {
  export RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$AMQP_PORT
  export RABBITMQ_MNESIA_BASE="$STATE/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$LOGS/rabbitmq"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$STATE/rabbitmq/enabled_plugins" RABBITMQ_CONFIG_FILE="$STATE/rabbitmq/rabbitmq.conf"
  export RABBITMQ_PID_FILE="$STATE/rabbitmq/rabbit.pid" HOME="$STATE/rabbitmq" ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

start_rabbitmq() {
  if listening $AMQP_PORT; then say "RabbitMQ: reusing the broker on 127.0.0.1:$AMQP_PORT"; return; fi
  mkdir -p "$STATE/rabbitmq" "$LOGS/rabbitmq"
  rabbit_env
  cat >"$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $MGMT_PORT
loopback_users.guest = true
CONF
  /usr/lib/rabbitmq/bin/rabbitmq-plugins enable --offline rabbitmq_management >"$LOGS/rabbitmq-plugins.log" 2>&1 \
    || fail "could not enable the management plugin; see $LOGS/rabbitmq-plugins.log"
  say "RabbitMQ: starting on 127.0.0.1:$AMQP_PORT (management on :$MGMT_PORT)"
  /usr/lib/rabbitmq/bin/rabbitmq-server -detached >"$LOGS/rabbitmq-start.log" 2>&1 || fail "RabbitMQ did not start; see $LOGS/rabbitmq/"
  echo "rabbitmq" >>"$STARTED"
  /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBITMQ_NODENAME" wait "$RABBITMQ_PID_FILE" --timeout 90 >"$LOGS/rabbitmq-wait.log" 2>&1 \
    || fail "RabbitMQ did not become ready; see $LOGS/rabbitmq/ and $LOGS/rabbitmq-wait.log"
  wait_for RabbitMQ $AMQP_PORT 30
  wait_for "RabbitMQ management" $MGMT_PORT 30
}

start_redis() {
  if listening $REDIS_PORT; then say "Redis: reusing the server on 127.0.0.1:$REDIS_PORT"; return; fi
  mkdir -p "$STATE/redis"
  say "Redis: starting on 127.0.0.1:$REDIS_PORT"
  redis-server --port $REDIS_PORT --bind 127.0.0.1 --daemonize yes --dir "$STATE/redis" \
    --pidfile "$STATE/redis/redis.pid" --logfile "$LOGS/redis.log" --protected-mode yes >/dev/null \
    || fail "Redis did not start; see $LOGS/redis.log"
  echo "redis" >>"$STARTED"
  wait_for Redis $REDIS_PORT 15
}

up() {
  mkdir -p "$STATE" "$LOGS"
  install_missing
  start_postgres
  start_rabbitmq
  start_redis
  status
}

down() {
  [ -f "$STARTED" ] || { say "nothing was started by this script"; return 0; }
  while read -r name a b; do
    case "$name" in
      postgres)
        say "stopping PostgreSQL"
        if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "'$a' -D '$b' -m fast stop" >/dev/null 2>&1 || true
        else "$a" -D "$b" -m fast stop >/dev/null 2>&1 || true; fi ;;
      rabbitmq)
        say "stopping RabbitMQ"; rabbit_env
        /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBITMQ_NODENAME" shutdown </dev/null >/dev/null 2>&1 || true ;;
      redis)
        say "stopping Redis"
        [ -f "$STATE/redis/redis.pid" ] && kill "$(cat "$STATE/redis/redis.pid")" 2>/dev/null || true ;;
    esac
  done <"$STARTED"
  rm -f "$STARTED"
}

status() {
  local s
  for s in "PostgreSQL $PG_PORT" "RabbitMQ $AMQP_PORT" "RabbitMQ-management $MGMT_PORT" "Redis $REDIS_PORT"; do
    set -- $s
    if listening "$2"; then say "$(printf '%-20s 127.0.0.1:%-6s up' "$1" "$2")"; else say "$(printf '%-20s 127.0.0.1:%-6s DOWN' "$1" "$2")"; fi
  done
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: eng/servers.sh up|down|status" >&2; exit 2 ;;
esac
