#!/usr/bin/env bash
# Idle memory of one service under runtime settings, next to the same service as it runs (README "Load", tenth round):
#   eng/bench/idle-rss.sh <port> [NAME=VALUE ...]      e.g. eng/bench/idle-rss.sh 5104 DOTNET_TieredPGO=0
# Finds the process listening on <port> (a service of ./run.sh), starts a copy of it with the same environment plus the
# given settings on <port>+100, lets it idle for IDLE_SECONDS (75), prints both processes' VmRSS and its anonymous,
# file and shared parts (/proc/<pid>/status), then stops the copy. The copy joins the plane's queues like a second
# replica, so run it on an idle plane. EXE=<path> runs another build of the service as the copy (eng/bench/aot-idle.sh).
set -euo pipefail
port="${1:?usage: eng/bench/idle-rss.sh <port> [NAME=VALUE ...]}"; shift
pid="$(ss -ltnpH "sport = :$port" | grep -o "pid=[0-9]*" | head -n1 | cut -d= -f2 || true)"
[ -n "$pid" ] || { echo "nothing listens on port $port: start the plane with ./run.sh" >&2; exit 2; }
rss() { awk '/^(VmRSS|RssAnon|RssFile|RssShmem):/ { printf "%s %d MB  ", $1, $2 / 1024 }' "/proc/$1/status"; }
running_exe="$(readlink "/proc/$pid/exe")"
exe="${EXE:-$running_exe}"
mapfile -d '' environment < "/proc/$pid/environ"
copy_port=$((port + 100))
log="$(mktemp)"
( cd "$(readlink "/proc/$pid/cwd")" && exec env -i "${environment[@]}" "ASPNETCORE_URLS=http://127.0.0.1:$copy_port" "$@" "$exe" ) > "$log" 2>&1 &
copy=$!
trap 'kill "$copy" 2>/dev/null || true; rm -f "$log"' EXIT
sleep "${IDLE_SECONDS:-75}"
if ! kill -0 "$copy" 2>/dev/null; then
  # A stack trace runs to hundreds of lines: its exception lines first, then how the output ended.
  { echo "the copy stopped; its exceptions:"; { grep -m 5 "Exception:" "$log" || true; } | cut -c1-600; echo "its last lines:"; tail -n 5 "$log"; } >&2
  exit 1
fi
echo "running ($(basename "$running_exe"), pid $pid):  $(rss "$pid")"
echo "copy${EXE:+ $EXE}${*:+ with $*} (port $copy_port):  $(rss "$copy")"
# Alive is not working: say whether the copy answers its health check.
health="$(curl -s -o /dev/null -m 10 -w '%{http_code}' "http://127.0.0.1:$copy_port/health" || true)"
echo "copy's /health: ${health/#000/no answer}"
