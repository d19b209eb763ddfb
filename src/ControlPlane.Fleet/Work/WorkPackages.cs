using System.Buffers.Text;
using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Runners;

namespace ControlPlane.Fleet.Work;

/// <summary>Turns a work request into the statement fleet signs. Pure: the clock and the nonce come in.</summary>
public static class WorkPackages
{
    public const string Issuer = "fleet";

    /// <summary>Why the request cannot become a package, or null.</summary>
    public static string? Validate(WorkRequested request, TimeSpan maxTimeout)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ProposalId == Guid.Empty)
        {
            return "proposalId is missing";
        }

        if (!RegistrationRules.IsName(request.Fleet))
        {
            return "fleet is missing";
        }

        if (!RegistrationRules.IsActionKind(request.ActionKind))
        {
            return $"'{request.ActionKind}' is not an action kind";
        }

        if (request.Timeout <= TimeSpan.Zero || request.Timeout > maxTimeout)
        {
            return $"timeout {request.Timeout} is not between 0 and {maxTimeout}";
        }

        if (request.Parameters?.Keys.FirstOrDefault(k => string.IsNullOrWhiteSpace(k)) is not null)
        {
            return "a parameter has an empty name";
        }

        return null;
    }

    public static WorkPackage Create(WorkRequested request, string runnerId, DateTimeOffset now, TimeSpan expiryMargin, string nonce)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new WorkPackage(
            request.WorkId,
            request.ProposalId,
            request.ContentHash ?? string.Empty,
            request.Step,
            request.Name ?? request.ActionKind,
            request.ActionKind,
            request.Parameters ?? new Dictionary<string, string>(),
            request.Targets ?? [],
            request.Environment ?? string.Empty,
            request.FencingTokens ?? new Dictionary<string, long>(),
            NotBefore: now,
            ExpiresAt: now + request.Timeout + expiryMargin,
            Nonce: nonce,
            Audience: runnerId,
            Fleet: request.Fleet,
            Issuer: Issuer);
    }

    /// <summary>256 random bits, base64url: never repeats in practice, and the database keeps nonces unique anyway.</summary>
    public static string NewNonce() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string NoRunnerReason(string fleet, string actionKind) => $"no live runner in fleet {fleet} can run {actionKind}";
}

/// <summary>A candidate runner with the packages it holds right now.</summary>
public sealed record RunnerLoad(string RunnerId, int Outstanding, DateTimeOffset? LastAssignedAt);

/// <summary>Least busy first; among equals the one that waited longest for work (round robin); then by id, so the pick is deterministic.</summary>
public static class RunnerSelection
{
    public static RunnerLoad? Pick(IEnumerable<RunnerLoad> candidates) => candidates
        .OrderBy(c => c.Outstanding)
        .ThenBy(c => c.LastAssignedAt ?? DateTimeOffset.MinValue)
        .ThenBy(c => c.RunnerId, StringComparer.Ordinal)
        .FirstOrDefault();
}
