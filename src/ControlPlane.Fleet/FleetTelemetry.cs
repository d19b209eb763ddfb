using System.Diagnostics.Metrics;
using ControlPlane.ServiceDefaults.Telemetry;

namespace ControlPlane.Fleet;

/// <summary>Fleet's own meter (exported with the other ControlPlane.* meters).</summary>
internal static class FleetTelemetry
{
    private static readonly Meter Meter = new(ControlPlaneTelemetry.SourcePrefix + "Fleet");

    public static readonly Counter<long> PackagesIssued = Meter.CreateCounter<long>("controlplane.fleet.packages_issued", "{package}", "Signed work packages sent to runners");
    public static readonly Counter<long> PackagesReoffered = Meter.CreateCounter<long>("controlplane.fleet.packages_reoffered", "{package}", "Packages offered again because no runner accepted them within Fleet:AckTimeout");
    public static readonly Counter<long> ResultsAccepted = Meter.CreateCounter<long>("controlplane.fleet.results_accepted", "{result}", "Signed results accepted from runners");
    public static readonly Counter<long> ResultsRejected = Meter.CreateCounter<long>("controlplane.fleet.results_rejected", "{result}", "Results or refusals rejected (bad signature, wrong runner, not outstanding)");
    public static readonly Counter<long> Refusals = Meter.CreateCounter<long>("controlplane.fleet.refusals", "{refusal}", "Refusals reported by runners");
    public static readonly Counter<long> WorkFailed = Meter.CreateCounter<long>("controlplane.fleet.work_unplaced", "{package}", "Work failed because no live runner could take it");
    public static readonly Counter<long> CredentialsMinted = Meter.CreateCounter<long>("controlplane.fleet.credentials_minted", "{credential}", "Package credentials minted and sealed to a runner");
    public static readonly Counter<long> CredentialsRevoked = Meter.CreateCounter<long>("controlplane.fleet.credentials_revoked", "{credential}", "Package credentials revoked (package closed, re-offered or expired)");
    public static readonly Counter<long> WorkTimedOut = Meter.CreateCounter<long>("controlplane.fleet.work_timed_out", "{package}", "Packages that expired without a result");
}
