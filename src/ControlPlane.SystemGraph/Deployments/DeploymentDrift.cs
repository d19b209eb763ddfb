using ControlPlane.Contracts;

namespace ControlPlane.SystemGraph.Deployments;

/// <summary>Adds open drift to an impact report: the policy fact driftDetected, since when, and a reason naming each node.</summary>
public static class DeploymentDrift
{
    public static ImpactReport Apply(ImpactReport report, IReadOnlyList<OpenDrift> drift)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(drift);
        if (drift.Count == 0)
        {
            return report;
        }

        var reasons = report.Reasons.Concat(drift.Select(d =>
            $"deployed outside the plane: {d.NodeId} in {d.Environment} since {d.Since.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}")).ToList();
        return report with { DriftDetected = true, DriftSince = drift.Min(d => d.Since), Reasons = reasons };
    }
}
