// The runner tests start bash scripts, /usr/bin/env and read /proc: they run where the reference runner runs (Linux).
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
