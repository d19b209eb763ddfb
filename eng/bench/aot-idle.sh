#!/usr/bin/env bash
# Idle memory of a service compiled ahead of time (Native AOT), next to the same service as it runs (README "Load",
# eleventh round):
#   eng/bench/aot-idle.sh <service> <port>      e.g. eng/bench/aot-idle.sh Identity 5101
# Publishes src/ControlPlane.<service> with PublishAot into a scratch directory - trimmed, except MassTransit, the
# contracts, ServiceDefaults and the service itself, which are kept whole (trimmed, MassTransit loses the constructors
# its consumers are made with), and with reflection-based JSON on (the services do not use source-generated JSON) -
# then runs it as the copy of eng/bench/idle-rss.sh (EXE=...) beside the service on <port> of a running ./run.sh.
# An experiment, not a way to run the plane: the build warns about trimming and AOT, and a copy can start and still
# fail requests (the script prints its /health answer). Needs clang (apt-get install clang); AOT compiling one
# service takes 4-7 minutes on two cores.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
[ $# -eq 2 ] || { echo "usage: eng/bench/aot-idle.sh <service> <port>   e.g. Identity 5101" >&2; exit 2; }
service="$1" port="$2"
project="src/ControlPlane.$service"
[ -d "$project" ] || { echo "no project $project" >&2; exit 2; }
ss -ltnH "sport = :$port" | grep -q . || { echo "nothing listens on port $port: start the plane with ./run.sh" >&2; exit 2; }
linker="$(command -v clang || ls /usr/bin/clang-[0-9]* 2>/dev/null | sort -V | tail -n1 || true)"
[ -n "$linker" ] || { echo "Native AOT links with clang: apt-get install clang" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/roots.targets" <<'TARGETS'
<Project>
  <ItemGroup>
    <TrimmerRootAssembly Include="MassTransit;MassTransit.Abstractions;MassTransit.RabbitMqTransport" />
    <TrimmerRootAssembly Include="ControlPlane.Contracts;ControlPlane.ServiceDefaults;$(AssemblyName)" />
  </ItemGroup>
</Project>
TARGETS
echo "== publishing $project with Native AOT (linker $(basename "$linker"))" >&2
dotnet publish "$project" -c Release -r linux-x64 -o "$work/out" -v:q -nologo -clp:ErrorsOnly \
  -p:PublishAot=true -p:CppCompilerAndLinker="$(basename "$linker")" -p:JsonSerializerIsReflectionEnabledByDefault=true \
  -p:CustomAfterMicrosoftCommonTargets="$work/roots.targets" -p:TreatWarningsAsErrors=false >&2
exe="$work/out/ControlPlane.$service"
echo "== $(basename "$exe"): $(( $(stat -c %s "$exe") / 1048576 )) MB" >&2
EXE="$exe" "$ROOT/eng/bench/idle-rss.sh" "$port"
