using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Recording;
using ControlPlane.Evidence.Verification.Redaction;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;
using Npgsql;

namespace ControlPlane.Evidence.Redaction;

/// <summary>A committed field's value (canonical JSON text) and salt as evidence keeps them beside the record.</summary>
public sealed record StoredField(long Sequence, string Path, string Value, byte[] Salt, string Commitment);

/// <summary>One field of a disclosure record: which record and path, and whether the reader got its value.</summary>
public sealed record DisclosureField(long Sequence, string Path, bool Disclosed);

/// <summary>
/// The payload of a disclosure record (kinds <see cref="BundleDisclosures.RedactedKind"/> and
/// <see cref="BundleDisclosures.FullKind"/>): who asked for which proposal's bundle, each committed field and
/// whether it was disclosed, and why.
/// </summary>
public sealed record BundleDisclosure(Guid ProposalId, string RequestedBy, string Reason, IReadOnlyList<DisclosureField> Fields, DateTimeOffset At);

/// <summary>
/// Decides what a bundle discloses and records that decision as evidence. A reader holding evidence:read-sensitive
/// through a binding that covers the proposal gets each committed field's value and salt; anyone else gets the
/// commitments only. Either way, when the bundle holds committed fields, the decision is appended to the
/// proposal's records before the bundle is served (no record, no bundle).
/// </summary>
public sealed class BundleDisclosures(EvidenceLog log, NpgsqlDataSource dataSource, TimeProvider clock)
{
    public const string RedactedKind = "disclosure-redacted";
    public const string FullKind = "disclosure-full";
    public const string LacksPermission = "lacks " + Permissions.EvidenceReadSensitive;

    public static readonly IReadOnlySet<string> Kinds = new HashSet<string>(StringComparer.Ordinal) { RedactedKind, FullKind };

    /// <summary>
    /// Every commitment the records hold (in record, then path order), with value and salt when
    /// <paramref name="disclose"/> and evidence still keeps them (a value erased since is left out).
    /// </summary>
    public static IReadOnlyList<BundleCommitment> Commitments(IReadOnlyList<EvidenceRecord> records, IReadOnlyList<StoredField> values, bool disclose)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(values);
        var kept = values.ToDictionary(v => (v.Sequence, v.Path));
        var commitments = new List<BundleCommitment>();
        foreach (var record in records)
        {
            foreach (var (path, commitment) in SensitiveFields.Find(record).OrderBy(f => f.Path, StringComparer.Ordinal))
            {
                commitments.Add(disclose && kept.TryGetValue((record.Sequence, path), out var value) && value.Commitment == commitment
                    ? new BundleCommitment(record.Sequence, path, commitment, JsonNode.Parse(value.Value), Convert.ToBase64String(value.Salt))
                    : new BundleCommitment(record.Sequence, path, commitment, null, null));
            }
        }

        return commitments;
    }

    /// <summary>The disclosure record of a bundle served to <paramref name="caller"/>; null when the bundle holds no committed field.</summary>
    public static EvidenceDraft? Draft(Guid proposalId, Caller caller, bool permitted, IReadOnlyList<BundleCommitment> commitments, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(commitments);
        if (commitments.Count == 0)
        {
            return null;
        }

        var leftOut = commitments.Count(c => !c.Disclosed);
        var reason = !permitted ? LacksPermission
            : leftOut == 0 ? "holds " + Permissions.EvidenceReadSensitive
            : $"holds {Permissions.EvidenceReadSensitive}; {leftOut} value(s) no longer kept";
        var disclosure = new BundleDisclosure(proposalId, caller.Id, reason,
            [.. commitments.Select(c => new DisclosureField(c.Sequence, c.Path, c.Disclosed))], at);
        return new EvidenceDraft(leftOut > 0 ? RedactedKind : FullKind, proposalId, caller.Id, at, CanonicalJson.Serialize(disclosure));
    }

    /// <summary>Appends the disclosure record of a bundle (when it holds committed fields); returns after it committed.</summary>
    public async Task RecordAsync(Guid proposalId, Caller caller, bool permitted, IReadOnlyList<BundleCommitment> commitments, CancellationToken cancellationToken)
    {
        if (Draft(proposalId, caller, permitted, commitments, clock.GetUtcNow()) is not { } draft)
        {
            return;
        }

        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        await log.AppendAsync(work, draft, messageId: null, cancellationToken);
        await work.CommitAsync(cancellationToken);
    }
}
