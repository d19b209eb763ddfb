using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;

namespace ControlPlane.Evidence.Verification;

/// <summary>The verifier's signature checks: keys against their records, work-package and result envelopes, the checkpoint and the transparency log.</summary>
public static partial class EvidenceBundleVerifier
{
    private sealed partial class Run
    {
        public string? Keys()
        {
            foreach (var key in Bundle.Keys)
            {
                var record = key.Record;
                if (record.Kind != nameof(SigningKeyPublished) || record.ProposalId is not null)
                {
                    return $"{KeyLabel(key)}: is not a SigningKeyPublished record";
                }

                foreach (var (field, value) in (ReadOnlySpan<(string Field, string Value)>)[("keyId", key.KeyId), ("owner", key.Owner), ("ownerKind", key.OwnerKind), ("publicKey", key.PublicKey)])
                {
                    if (!string.Equals(EvidenceBundleBuilder.KeyText(record, field), value, StringComparison.Ordinal))
                    {
                        return $"key '{key.KeyId}': {field} differs from what record {record.Sequence} published";
                    }
                }

                if (EvidenceFormat.ImportP256(key.PublicKey) is not { } imported)
                {
                    return $"key '{key.KeyId}': publicKey is not a base64 DER ECDSA P-256 SubjectPublicKeyInfo";
                }

                _keys[key.KeyId] = (key, imported);
            }

            return null;
        }

        public string? WorkPackages()
        {
            foreach (var package in Bundle.WorkPackages)
            {
                if (Redactions.Resolve(package.Envelope) is not { } envelope)
                {
                    RedactedPackages++;
                    continue;
                }

                if (VerifyStatement<WorkPackage>(envelope, WorkPackage.PayloadType, EvidenceFormat.FleetOwner, $"work package {package.WorkId}",
                        package.WorkId, "work package", p => (p.WorkId, p.ProposalId), out _) is { } failure)
                {
                    return failure;
                }
            }

            return null;
        }

        public string? Results()
        {
            foreach (var result in Bundle.Results)
            {
                var label = $"result {result.WorkId}";
                if (Redactions.Resolve(result.SignedResult) is not { } envelope)
                {
                    RedactedResults++;
                    continue;
                }

                if (VerifyStatement<WorkResult>(envelope, WorkResult.PayloadType, EvidenceFormat.RunnerOwner, label,
                        result.WorkId, "work result", r => (r.WorkId, r.ProposalId), out var signed) is { } failure)
                {
                    return failure;
                }

                if (signed!.RunnerId != result.RunnerId)
                {
                    return $"{label}: the signed result names runner '{signed.RunnerId}', the bundle says '{result.RunnerId}'";
                }

                // A runner's key vouches for that runner's results only.
                foreach (var signature in result.SignedResult.Signatures)
                {
                    var owner = _keys[signature.KeyId].Key.Owner;
                    if (owner != signed.RunnerId)
                    {
                        return $"{label}: signed with '{signature.KeyId}', the key of runner '{owner}', but the result is runner '{signed.RunnerId}''s";
                    }
                }
            }

            return null;
        }

        public string? Checkpoint()
        {
            var checkpoint = Bundle.Checkpoint;
            if (VerifyEnvelope(checkpoint.Envelope, EvidenceFormat.CheckpointPayloadType, EvidenceFormat.EvidenceOwner, "checkpoint", out var payload) is { } failure)
            {
                return failure;
            }

            if (!CanonicalJson.Serialize(checkpoint.Statement).AsSpan().SequenceEqual(payload))
            {
                return "checkpoint: the statement in clear differs from the signed statement";
            }

            CheckpointStatement? statement;
            try
            {
                statement = JsonSerializer.Deserialize<CheckpointStatement>(payload, EvidenceFormat.Json);
            }
            catch (JsonException ex)
            {
                return $"checkpoint: the signed statement is malformed: {ex.Message}";
            }

            var head = Bundle.Records[^1];
            var keys = Bundle.Keys.Select(k => new CheckpointKey(k.KeyId, k.Record.Sequence, k.Record.RecordHash));
            var highest = Bundle.Keys.Select(k => k.Record.Sequence).Append(head.Sequence).Max();
            var mismatch = statement switch
            {
                null => "the signed statement is null",
                { Type: var type } when type != EvidenceFormat.CheckpointType => $"statement type is '{type}', expected '{EvidenceFormat.CheckpointType}'",
                { ProposalId: var id } when id != Bundle.ProposalId => $"signed for proposal {id}, the bundle is {Bundle.ProposalId}",
                { RecordCount: var count } when count != Bundle.Records.Count => $"signed for {count} records, the bundle holds {Bundle.Records.Count}",
                { HeadSequence: var seq } when seq != head.Sequence => $"signed head is record {seq}, the bundle ends at record {head.Sequence}",
                { HeadRecordHash: var hash } when hash != head.RecordHash => $"signed head hash {hash} is not record {head.Sequence}'s hash",
                { Keys: var signedKeys } when signedKeys is null || !signedKeys.SequenceEqual(keys) => "the signed key records differ from the bundle's keys",
                { GlobalSequence: var global } when global < highest => $"global head {global} is older than record {highest} in the bundle",
                { GlobalHeadHash: var globalHash } when !EvidenceFormat.IsHash(globalHash) => "the global head hash is malformed",
                { IssuedAt: var issued } when !EvidenceFormat.IsTimestamp(issued) => "issuedAt is malformed",
                _ => null,
            };
            if (mismatch is not null)
            {
                return $"checkpoint: {mismatch}";
            }

            var signer = _keys[checkpoint.Envelope.Signatures[0].KeyId].Key;
            var fingerprint = EvidenceFormat.KeyFingerprint(Convert.FromBase64String(signer.PublicKey));
            if (options.TrustedEvidenceKey is { } trusted && !string.Equals(trusted, fingerprint, StringComparison.Ordinal))
            {
                return $"checkpoint: signed by evidence key '{signer.KeyId}' with fingerprint {fingerprint}, not the trusted {trusted}";
            }

            CheckpointDescription = $"checkpoint: signed by evidence key '{signer.KeyId}' ({fingerprint}{(options.TrustedEvidenceKey is null ? ", not pinned" : ", pinned")}), " +
                $"covers {statement!.RecordCount} records up to {statement.HeadRecordHash}; global chain head is record {statement.GlobalSequence} {statement.GlobalHeadHash}";
            return null;
        }

        public string? Log()
        {
            if (Bundle.Log is null)
            {
                LogDescription = "transparency log: this bundle carries no inclusion proofs (not checked)";
                return options.RequireLogProof || options.RequiredWitnesses > 0 ? "the bundle carries no transparency-log section, and one is required" : null;
            }

            var signer = _keys[Bundle.Checkpoint.Envelope.Signatures[0].KeyId].Public;
            var failure = Transparency.BundleLogVerifier.Verify(Bundle, signer, out var description, options.Witnesses, options.RequiredWitnesses);
            LogDescription = description;
            return failure;
        }

        private string? VerifyEnvelope(DsseEnvelope envelope, string payloadType, string ownerKind, string label, out byte[] payload)
        {
            payload = [];
            foreach (var signature in envelope.Signatures)
            {
                if (!_keys.TryGetValue(signature.KeyId, out var key))
                {
                    return $"{label}: signed by '{signature.KeyId}', a key the bundle does not carry";
                }

                if (key.Key.OwnerKind != ownerKind)
                {
                    return $"{label}: signed by '{signature.KeyId}', a {key.Key.OwnerKind} key, not a {ownerKind} key";
                }
            }

            var verified = Dsse.Verify(envelope, payloadType, id => _keys.TryGetValue(id, out var k) ? k.Public : null, out var failure);
            if (verified is null)
            {
                return $"{label}: {failure}";
            }

            payload = verified;
            return null;
        }

        /// <summary>Verifies a signed statement of work (package or result) and that it is about this work of this proposal.</summary>
        private string? VerifyStatement<T>(DsseEnvelope envelope, string payloadType, string ownerKind, string label, string workId, string what,
            Func<T, (Guid WorkId, Guid ProposalId)> ids, out T? signed) where T : class
        {
            signed = null;
            if (VerifyEnvelope(envelope, payloadType, ownerKind, label, out var payload) is { } failure)
            {
                return failure;
            }

            if (Decode<T>(payload) is not { } statement)
            {
                return $"{label}: the signed payload is not a {what}";
            }

            var (signedWork, signedProposal) = ids(statement);
            if (EvidenceFormat.Id(signedWork) != workId || EvidenceFormat.Id(signedProposal) != Bundle.ProposalId)
            {
                return $"{label}: the signed {what} is for work {signedWork} of proposal {signedProposal}";
            }

            signed = statement;
            return null;
        }
    }
}
