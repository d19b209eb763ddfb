using System.Text.Json;
using ControlPlane.Contracts;

namespace ControlPlane.Fleet.Tests.Support;

/// <summary>What orchestrator would send, with test defaults.</summary>
public static class WorkRequests
{
    public static WorkRequested New(
        string fleet, string actionKind, IReadOnlyDictionary<string, string>? parameters = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, long>? fencingTokens = null, IReadOnlyList<string>? targets = null, WorkStep step = WorkStep.Validate) =>
        new(Guid.NewGuid(), Guid.NewGuid(), step, $"{actionKind} step", fleet, actionKind,
            parameters ?? new Dictionary<string, string>(), targets ?? ["billing"], "staging", "sha256:" + new string('a', 64),
            fencingTokens ?? new Dictionary<string, long>(), timeout ?? TimeSpan.FromSeconds(30), DateTimeOffset.UtcNow);

    /// <summary>The statement inside an envelope, without verifying it (tests verify separately).</summary>
    public static T Read<T>(DsseEnvelope envelope) =>
        JsonSerializer.Deserialize<T>(Convert.FromBase64String(envelope.Payload), ContractJson.Options)!;
}
