namespace ControlPlane.Contracts;

/// <summary>
/// Event: CI/CD reported a successful deployment of a node to an environment that no governed change of the plane
/// explains (none was executing on that node and environment around that time). Evidence records it; impact
/// assessments of later proposals on the node carry it as the policy fact driftDetected until a governed change
/// completes there.
/// </summary>
public sealed record DeploymentDriftDetected(
    string NodeId,
    string Environment,
    string Version,
    string Source,
    string DeliveryId,
    string? Repository,
    string? Actor,
    string? Url,
    DateTimeOffset DeployedAt,
    DateTimeOffset DetectedAt);
