using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification.Transparency;

namespace ControlPlane.Evidence.Verification.InToto;

/// <summary>
/// Ties verified attestations to the proposal's evidence bundle (pure): the bundle is of the statements' proposal,
/// and every attested record is one of its records (same sequence, id, kind and record hash), is leaf sequence − 1
/// with the statement's leaf hash, and has an inclusion proof in the bundle's log, whose checkpoint origin is the
/// statement's log. The bundle itself is checked by <see cref="EvidenceBundleVerifier"/> first (with its log
/// required), so an attestation that passes both is proven to be in the transparency log at a signed checkpoint.
/// </summary>
public static class InTotoBundleLink
{
    /// <summary>Null when every statement is tied to the bundle, else the first that is not and why.</summary>
    public static string? Check(InTotoVerification attestations, EvidenceBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(attestations);
        ArgumentNullException.ThrowIfNull(bundle);
        if (!attestations.Ok || attestations.Subject is null)
        {
            return "the attestations did not verify";
        }

        if (!string.Equals(attestations.Subject.Name, InTotoFormat.SubjectName(bundle.ProposalId), StringComparison.Ordinal))
        {
            return $"the bundle is of proposal {bundle.ProposalId}, the attestations of {attestations.Subject.Name}";
        }

        if (bundle.Log is null)
        {
            return "the bundle carries no transparency-log section";
        }

        var origin = bundle.Log.Checkpoint.Split('\n')[0];
        var records = bundle.Records.ToDictionary(r => r.Sequence);
        var proven = bundle.Log.Inclusions.Select(i => i.Sequence).ToHashSet();
        foreach (var statement in attestations.Statements)
        {
            var attested = statement.Evidence;
            var where = $"line {statement.Line} (record {attested.Sequence})";
            if (!records.TryGetValue(attested.Sequence, out var record))
            {
                return $"{where}: the bundle holds no record {attested.Sequence}";
            }

            if (!string.Equals(record.RecordId, attested.RecordId, StringComparison.Ordinal) || !string.Equals(record.Kind, attested.Kind, StringComparison.Ordinal)
                || !string.Equals(record.RecordHash, attested.RecordHash, StringComparison.Ordinal))
            {
                return $"{where}: the bundle's record {record.Sequence} is {record.Kind} {record.RecordId} {record.RecordHash}, the statement names {attested.Kind} {attested.RecordId} {attested.RecordHash}";
            }

            if (!string.Equals(Convert.ToBase64String(BundleLogVerifier.LeafHash(record.RecordHash)), attested.LeafHash, StringComparison.Ordinal))
            {
                return $"{where}: the leaf hash is not that of the bundle's record";
            }

            if (!proven.Contains(attested.Sequence) || !string.Equals(origin, attested.Log, StringComparison.Ordinal))
            {
                return $"{where}: the bundle's log ({origin}) does not prove it, or the statement names another log ({attested.Log})";
            }
        }

        return null;
    }
}
