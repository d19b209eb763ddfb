using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification.Redaction;

namespace ControlPlane.Evidence.Verification;

/// <summary>Outcome of verifying a bundle: the checks that passed, in order, and the first failure (check and reason).</summary>
public sealed record BundleVerification(IReadOnlyList<string> Passed, string? FailedCheck, string? Failure)
{
    public bool Ok => Failure is null;
}

/// <param name="TrustedEvidenceKey">When set, the checkpoint must be signed by the evidence key with this fingerprint ("sha256:…").</param>
/// <param name="RequireLogProof">When set, a bundle without its transparency-log section fails (bundles from before the log have none).</param>
/// <param name="Witnesses">Witnesses whose cosignatures on the log checkpoint count (c2sp.org/tlog-cosignature).</param>
/// <param name="RequiredWitnesses">How many of them must have cosigned; more than zero implies <paramref name="RequireLogProof"/>.</param>
public sealed record BundleVerifyOptions(string? TrustedEvidenceKey = null, bool RequireLogProof = false,
    IReadOnlyList<Transparency.WitnessKey>? Witnesses = null, int RequiredWitnesses = 0);

/// <summary>
/// Verifies an evidence bundle offline, with nothing but the bundle (pure, no I/O). Checks, in this order, and
/// stops at the first failure with a reason that names the record, envelope, key or field: the JSON shape and
/// format version; each record's payload hash; each record hash; the proposal chain links; the keys against
/// their records; every work-package envelope against fleet keys; every signed result against its runner's
/// key; the summary sections against the records; the checkpoint signature and what it covers.
/// </summary>
public static partial class EvidenceBundleVerifier
{
    public const string ShapeCheck = "shape";
    public const string PayloadHashCheck = "payload hashes";
    public const string RecordHashCheck = "record hashes";
    public const string ChainCheck = "proposal chain";
    public const string RedactionCheck = "redaction";
    public const string KeysCheck = "keys";
    public const string WorkPackagesCheck = "work packages";
    public const string ResultsCheck = "results";
    public const string SummaryCheck = "summary";
    public const string CheckpointCheck = "checkpoint";
    public const string LogCheck = "transparency log";

    public static BundleVerification Verify(ReadOnlySpan<byte> json, BundleVerifyOptions? options = null, Action<string, string>? onPassed = null)
    {
        var passed = new List<string>();
        var run = new Run(options ?? new BundleVerifyOptions());
        try
        {
            (string Name, Func<string?> Check, Func<string> Describe)[] steps =
            [
                (PayloadHashCheck, run.PayloadHashes, () => $"payload hashes of {run.Bundle.Records.Count} records and {run.Bundle.Keys.Count} key records"),
                (RecordHashCheck, run.RecordHashes, () => $"record hashes of {run.Bundle.Records.Count} records and {run.Bundle.Keys.Count} key records"),
                (ChainCheck, run.ProposalChain, () => $"proposal chain: {run.Bundle.Records.Count} records linked from genesis, sequences {run.Bundle.Records[0].Sequence}..{run.Bundle.Records[^1].Sequence}"),
                (RedactionCheck, run.CheckRedaction, () => $"redaction: {run.Redactions.Describe()}"),
                (KeysCheck, run.Keys, () => $"keys: {string.Join(", ", run.Bundle.Keys.Select(k => $"{k.OwnerKind} '{k.KeyId}'"))} match their SigningKeyPublished records"),
                (WorkPackagesCheck, run.WorkPackages, () => $"work packages: {run.Bundle.WorkPackages.Count - run.RedactedPackages} envelopes verify against fleet keys ({WorkPackage.PayloadType}){Unchecked(run.RedactedPackages)}"),
                (ResultsCheck, run.Results, () => $"results: {run.Bundle.Results.Count - run.RedactedResults} signed results verify against their runners' keys ({WorkResult.PayloadType}){Unchecked(run.RedactedResults)}"),
                (SummaryCheck, run.Summary, () => "summary: proposal, impact, decision, approvals, work packages and results agree with the records"),
                (CheckpointCheck, run.Checkpoint, () => run.CheckpointDescription),
                (LogCheck, run.Log, () => run.LogDescription),
            ];

            if (run.Shape(json) is { } shapeFailure)
            {
                return new BundleVerification(passed, ShapeCheck, shapeFailure);
            }

            Pass(ShapeCheck, $"shape: {EvidenceFormat.BundleFormat}, proposal {run.Bundle.ProposalId}, {run.Bundle.Records.Count} records, {run.Bundle.Keys.Count} keys");
            foreach (var (name, check, describe) in steps)
            {
                string? failure;
                try
                {
                    failure = check();
                }
                catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or FormatException or CryptographicException)
                {
                    // Anything the checks did not foresee still fails the bundle, never the verifier.
                    failure = $"the bundle could not be checked: {ex.Message}";
                }

                if (failure is not null)
                {
                    return new BundleVerification(passed, name, failure);
                }

                Pass(name, describe());
            }

            return new BundleVerification(passed, null, null);
        }
        finally
        {
            run.Dispose();
        }

        void Pass(string name, string description)
        {
            passed.Add(description);
            onPassed?.Invoke(name, description);
        }
    }

    private static string Unchecked(int redacted) =>
        redacted == 0 ? string.Empty : $"; {redacted} with a redacted payload, signature checked only on disclosure";

    /// <summary>One verification: the parsed bundle and the keys imported from it.</summary>
    private sealed partial class Run(BundleVerifyOptions options) : IDisposable
    {
        private readonly Dictionary<string, (BundleKey Key, ECDsa Public)> _keys = new(StringComparer.Ordinal);

        // Canonical bytes of every payload, computed once while checking the shape, reused for the payload hashes.
        private readonly Dictionary<EvidenceRecord, byte[]> _canonical = new(ReferenceEqualityComparer.Instance);

        public EvidenceBundle Bundle { get; private set; } = null!;

        public string CheckpointDescription { get; private set; } = string.Empty;

        public string LogDescription { get; private set; } = string.Empty;

        public RedactionSummary Redactions { get; private set; } = RedactionSummary.None;

        public int RedactedPackages { get; private set; }

        public int RedactedResults { get; private set; }

        public string? CheckRedaction()
        {
            var failure = RedactionVerifier.Verify(Bundle, out var summary);
            Redactions = summary;
            return failure;
        }

        public string? Shape(ReadOnlySpan<byte> json)
        {
            try
            {
                Bundle = JsonSerializer.Deserialize<EvidenceBundle>(json, EvidenceFormat.Json)!;
            }
            catch (JsonException ex)
            {
                return $"not a well-formed evidence bundle: {ex.Message}";
            }
            catch (ArgumentException ex)
            {
                // JsonObject reports a repeated member inside a payload this way.
                return $"not a well-formed evidence bundle: {ex.Message}";
            }

            if (Bundle is null)
            {
                return "not a well-formed evidence bundle: the document is null";
            }

            if (!string.Equals(Bundle.Format, EvidenceFormat.BundleFormat, StringComparison.Ordinal))
            {
                return $"format is '{Bundle.Format}', expected '{EvidenceFormat.BundleFormat}'";
            }

            if (!EvidenceFormat.IsId(Bundle.ProposalId))
            {
                return $"proposalId '{Bundle.ProposalId}' is not a lowercase UUID";
            }

            if (Bundle.Records.Count == 0 || Bundle.Records.Any(r => r is null))
            {
                return Bundle.Records.Count == 0 ? "the bundle holds no records" : "records: an entry is null";
            }

            if (Bundle.Approvals.Any(a => a is null) || Bundle.WorkPackages.Any(p => p is null) || Bundle.Results.Any(r => r is null) || Bundle.Keys.Any(k => k is null))
            {
                return "a summary or key entry is null";
            }

            // JsonNode reads member names lazily; walk every tree now so a repeated member or invalid UTF-8 is a
            // shape error here rather than an exception in a later check.
            foreach (var (record, label) in Bundle.Records.Select(r => (r, Label(r))).Concat(Bundle.Keys.Select(k => (k.Record, KeyLabel(k)))))
            {
                try
                {
                    _canonical[record] = CanonicalJson.Serialize(record.Payload);
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
                {
                    return $"{label}: payload is not well-formed: {ex.Message}";
                }
            }

            var trees = Bundle.Approvals.Select((a, i) => ((JsonNode?)a, $"section 'approvals'[{i}]"))
                .Append((Bundle.Proposal, "section 'proposal'"))
                .Append((Bundle.Impact, "section 'impact'"))
                .Append((Bundle.Decision, "section 'decision'"))
                .Append(((JsonNode?)Bundle.Checkpoint.Statement, "checkpoint: statement"));
            foreach (var (tree, label) in trees)
            {
                try
                {
                    CanonicalJson.Serialize(tree);
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
                {
                    return $"{label} is not well-formed: {ex.Message}";
                }
            }

            foreach (var record in Bundle.Records)
            {
                if (RecordShape(record, Label(record)) is { } failure)
                {
                    return failure;
                }
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var key in Bundle.Keys)
            {
                if (!seen.Add(key.KeyId))
                {
                    return $"key '{key.KeyId}' is listed twice";
                }

                if (RecordShape(key.Record, KeyLabel(key)) is { } failure)
                {
                    return failure;
                }
            }

            // A package's or result's payload may stand as its commitment (redacted); the checkpoint's never.
            var envelopes = Bundle.WorkPackages.Select(p => (p.Envelope, $"work package {p.WorkId}", Committable: true))
                .Concat(Bundle.Results.Select(r => (r.SignedResult, $"result {r.WorkId}", Committable: true)))
                .Append((Bundle.Checkpoint.Envelope, "checkpoint", Committable: false));
            foreach (var (envelope, label, committable) in envelopes)
            {
                if (envelope.Signatures.Count == 0 || envelope.Signatures.Any(s => s is null))
                {
                    return $"{label}: the envelope has no usable signature";
                }

                if (!(EvidenceFormat.TryDecodeStrictBase64(envelope.Payload, out _) || (committable && EvidenceFormat.IsHash(envelope.Payload))) || envelope.Signatures.Any(s => !EvidenceFormat.TryDecodeStrictBase64(s.Sig, out _)))
                {
                    return $"{label}: the envelope's payload or a signature is not canonical base64";
                }
            }

            return null;
        }

        public string? PayloadHashes() => FirstFailure(r =>
            string.Equals(EvidenceHash.Payload(_canonical[r]), r.PayloadHash, StringComparison.Ordinal) ? null : $"{Label(r)}: payload hash mismatch");

        public string? RecordHashes() => FirstFailure(EvidenceChain.CheckRecordHash);

        public string? ProposalChain()
        {
            var previous = (EvidenceRecord?)null;
            foreach (var record in Bundle.Records)
            {
                if (!string.Equals(record.ProposalId, Bundle.ProposalId, StringComparison.Ordinal))
                {
                    return $"{Label(record)}: belongs to proposal {record.ProposalId ?? "(none)"}, not {Bundle.ProposalId}";
                }

                if (previous is not null && record.Sequence <= previous.Sequence)
                {
                    return $"{Label(record)}: out of order after record {previous.Sequence}";
                }

                var expected = previous?.RecordHash ?? EvidenceFormat.Genesis;
                if (!string.Equals(record.ProposalPrevHash, expected, StringComparison.Ordinal))
                {
                    return previous is null
                        ? $"{Label(record)}: proposal chain broken: the first record does not link to genesis (records are missing before it)"
                        : $"{Label(record)}: proposal chain broken: proposal_prev_hash is not the hash of record {previous.Sequence}";
                }

                previous = record;
            }

            return null;
        }

        public string? Summary()
        {
            BundleSummary derived;
            try
            {
                derived = BundleSections.Derive(Bundle.Records);
            }
            catch (BundleSectionException ex)
            {
                return ex.Message;
            }

            return Compare("proposal", Bundle.Proposal, derived.Proposal, nameof(ProposalSubmitted))
                ?? Compare("impact", Bundle.Impact, derived.Impact, nameof(ImpactAssessed))
                ?? Compare("decision", Bundle.Decision, derived.Decision, nameof(PolicyDecided))
                ?? CompareList("approvals", Bundle.Approvals, derived.Approvals.Select(a => (a.Value, a.Sequence, a.Kind)).ToList())
                ?? CompareItems("workPackages", Bundle.WorkPackages, derived.WorkPackages, nameof(WorkPackageIssued), p => p.RecordSequence,
                    (a, b) => a with { Envelope = b.Envelope } == b && SameEnvelope(a.Envelope, b.Envelope))
                ?? CompareItems("results", Bundle.Results, derived.Results, nameof(WorkCompleted), r => r.RecordSequence,
                    (a, b) => a with { SignedResult = b.SignedResult } == b && SameEnvelope(a.SignedResult, b.SignedResult));
        }

        public void Dispose()
        {
            foreach (var (_, key) in _keys.Values)
            {
                key.Dispose();
            }
        }

        private string? FirstFailure(Func<EvidenceRecord, string?> check)
        {
            foreach (var record in Bundle.Records)
            {
                if (check(record) is { } failure)
                {
                    return failure;
                }
            }

            foreach (var key in Bundle.Keys)
            {
                if (check(key.Record) is { } failure)
                {
                    return $"key '{key.KeyId}': {failure}";
                }
            }

            return null;
        }
    }
}
