using System.Text;
using ControlPlane.Evidence.Attestations;
using ControlPlane.Evidence.Data;
using ControlPlane.Evidence.Signing;
using ControlPlane.Evidence.Transparency;
using ControlPlane.Evidence.Verification.InToto;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Evidence.Apis;

/// <summary>
/// A proposal's decisions, approvals and runner results as in-toto statements in DSSE envelopes signed by evidence's
/// key, one per line (an in-toto attestation bundle). Read exactly like the proposal's evidence bundle: evidence:read
/// through a binding that covers the proposal.
/// </summary>
public static class AttestationApi
{
    public static IEndpointRouteBuilder MapAttestationApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/evidence").WithTags("Evidence attestations")
            .MapGet("/proposals/{id}/in-toto", GetInTotoAsync)
            .RequirePermission(Permissions.EvidenceRead)
            .WithSummary($"The proposal's policy decisions, approvals and runner results as in-toto Statement v1 in DSSE envelopes ({InTotoFormat.BundleMediaType}, one envelope per line)");
        return app;
    }

    private static async Task<IResult> GetInTotoAsync(string id, HttpContext http, EvidenceStore store, EvidenceKeyStore keys, EvidenceTree tree,
        CheckpointLog checkpoints, CancellationToken ct)
    {
        if (!EvidenceApi.TryParseId(id, out var proposalId, out var invalid))
        {
            return invalid;
        }

        // The snapshot brings the values of committed fields: a runner result's predicate needs its signed payload
        // (exit code, durations, output digest), never the output itself, which the evidence log keeps as a commitment.
        if (await store.BundleSnapshotAsync(proposalId, ct) is not { Records.Count: > 0 } snapshot)
        {
            return EvidenceApi.NoEvidence(proposalId);
        }

        var records = snapshot.Records;

        if (EvidenceApi.Forbidden(http.GetCaller(), records) is { } forbidden)
        {
            return forbidden;
        }

        var leaves = await tree.ReadAsync(t => records.Where(r => r.Sequence <= t.Size).ToDictionary(r => r.Sequence, r => Convert.ToBase64String(t.LeafHash(r.Sequence - 1))), ct);
        if (leaves.Count < records.Count)
        {
            // Records are read only once committed, so the tree lags at most for the moment it takes to catch up.
            http.Response.Headers.RetryAfter = "1";
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Log catching up",
                detail: "The transparency log does not hold every record of this proposal yet; retry in a moment.");
        }

        IReadOnlyList<InTotoStatement> statements;
        try
        {
            statements = InTotoAttestations.Build(InTotoAttestations.WithResultPayloads(records, snapshot.Fields), sequence => leaves[sequence], checkpoints.Origin);
        }
        catch (NoSubjectException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "No subject", detail: ex.Message);
        }

        var (_, signer) = await keys.GetSignerAsync(ct);
        using (signer.Key)
        {
            var lines = new StringBuilder();
            foreach (var statement in statements)
            {
                lines.Append(InTotoAttestations.Sign(statement, signer)).Append('\n');
            }

            return Results.Text(lines.ToString(), InTotoFormat.BundleMediaType, Encoding.UTF8);
        }
    }
}
