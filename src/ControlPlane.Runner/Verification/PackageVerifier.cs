using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Runner.FleetLink;

namespace ControlPlane.Runner.Verification;

/// <summary>A delivered package after verification: the package when it may run, else the refusal reason (and the package if it could be read).</summary>
public sealed record Verdict(WorkPackage? Package, string? Refusal, bool Duplicate = false)
{
    public bool Accepted => Refusal is null && !Duplicate;
}

/// <summary>
/// Everything the runner checks before it does anything: fleet's signature and the payload type, the validity
/// window, the audience, the nonce, the execution ledger and the fencing tokens. Nothing is recorded here: the
/// executor accepts the package (durably) once fleet confirmed it is still the current offer.
/// </summary>
public sealed class PackageVerifier(FleetKeyCache keys, ReplayStore replay, RunnerOptions options, TimeProvider clock)
{
    public async Task<Verdict> VerifyAsync(DeliverWorkPackage delivery, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        if (delivery.Envelope is null)
        {
            return new Verdict(null, "the delivery carries no envelope");
        }

        var (payload, failure) = await keys.VerifyAsync(delivery.Envelope, WorkPackage.PayloadType, ct);
        if (payload is null)
        {
            return new Verdict(null, $"signature check failed: {failure}");
        }

        WorkPackage? package;
        try
        {
            package = JsonSerializer.Deserialize<WorkPackage>(payload, ContractJson.Options);
        }
        catch (JsonException ex)
        {
            return new Verdict(null, $"the signed payload is not a work package: {ex.Message}");
        }

        if (package is null || package.Nonce is null || package.Audience is null || package.ActionKind is null)
        {
            return new Verdict(null, "the signed payload is not a complete work package");
        }

        if (replay.IsInFlight(package))
        {
            return new Verdict(package, null, Duplicate: true); // a second copy of a delivery already being handled
        }

        var now = clock.GetUtcNow();
        var refusal = PackageRules.CheckClaims(package, delivery.WorkId, options.Id, now, options.ClockSkew) ?? replay.Check(package);
        return new Verdict(package, refusal);
    }
}
