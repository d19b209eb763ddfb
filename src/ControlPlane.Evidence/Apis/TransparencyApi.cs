using System.Globalization;
using ControlPlane.Evidence.Transparency;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Evidence.Apis;

/// <summary>An RFC 9162 proof as served: sizes, indexes and the path hashes in base64, leaf side first.</summary>
public sealed record InclusionProofResponse(long Sequence, long LeafIndex, long TreeSize, string LeafHash, IReadOnlyList<string> Proof);

public sealed record ConsistencyProofResponse(long From, long To, IReadOnlyList<string> Proof);

/// <summary>
/// The log's checkpoints (with the cosignatures witnesses returned) and proofs. They carry hashes only, no record content, so any evidence:read binding may
/// read them (a scoped reader needs them to check its own bundle against a checkpoint); signing one on demand is
/// evidence:export.
/// </summary>
public static class TransparencyApi
{
    private const string NoteContentType = "text/plain; charset=utf-8";

    public static IEndpointRouteBuilder MapTransparencyApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/evidence").WithTags("Evidence transparency log");
        group.MapGet("/checkpoint", GetLatestAsync)
            .RequirePermission(Permissions.EvidenceRead)
            .WithSummary("The newest signed checkpoint (C2SP tlog-checkpoint note); ?size= for an earlier one");
        group.MapPost("/checkpoints", PublishAsync)
            .RequirePermission(Permissions.EvidenceExport)
            .WithSummary("Sign a checkpoint of the log as it is now");
        group.MapGet("/proofs/inclusion", GetInclusionAsync)
            .RequirePermission(Permissions.EvidenceRead)
            .WithSummary("RFC 9162 inclusion proof of record ?sequence= in the tree of ?size= leaves");
        group.MapGet("/proofs/consistency", GetConsistencyAsync)
            .RequirePermission(Permissions.EvidenceRead)
            .WithSummary("RFC 9162 consistency proof from the tree of ?from= leaves to the tree of ?to= leaves");
        return app;
    }

    private static async Task<IResult> GetLatestAsync(string? size, CheckpointLog checkpoints, WitnessClient witnesses, CancellationToken ct)
    {
        if (size is not null)
        {
            if (!TryParseCount(size, "size", out var at, out var invalid))
            {
                return invalid;
            }

            return await checkpoints.AtSizeAsync(at, ct) is { } stored
                ? Results.Text(stored.Note + await witnesses.LinesAsync(stored.Size, ct), NoteContentType)
                : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such checkpoint",
                    detail: $"Evidence signed no checkpoint at tree size {at}; GET /evidence/checkpoint gives the newest.");
        }

        var latest = await checkpoints.LatestAsync(ct) ?? await checkpoints.PublishAsync(ct);
        return Results.Text(latest.Note + await witnesses.LinesAsync(latest.Size, ct), NoteContentType);
    }

    private static async Task<IResult> PublishAsync(CheckpointLog checkpoints, WitnessClient witnesses, CancellationToken ct)
    {
        // A log rewritten under its newest checkpoint is 409 (LogRewrittenHandler).
        var checkpoint = await checkpoints.PublishAsync(ct);
        await witnesses.CosignAsync(checkpoint, ct);
        return Results.Text(checkpoint.Note + await witnesses.LinesAsync(checkpoint.Size, ct), NoteContentType);
    }

    private static async Task<IResult> GetInclusionAsync(string? sequence, string? size, EvidenceTree tree, CancellationToken ct)
    {
        if (!TryParseCount(sequence, "sequence", out var seq, out var invalid) || !TryParseCount(size, "size", out var treeSize, out invalid))
        {
            return invalid;
        }

        var proof = await tree.ReadAsync(t => seq < 1 || seq > treeSize || treeSize > t.Size
            ? null
            : new InclusionProofResponse(seq, seq - 1, treeSize, Convert.ToBase64String(t.LeafHash(seq - 1)),
                [.. t.InclusionProof(seq - 1, treeSize).Select(Convert.ToBase64String)]), ct);
        return proof is not null
            ? Results.Json(proof)
            : OutOfRange($"Record {seq} is not in a tree of {treeSize} records, or the log does not have {treeSize} records yet.");
    }

    private static async Task<IResult> GetConsistencyAsync(string? from, string? to, EvidenceTree tree, CancellationToken ct)
    {
        if (!TryParseCount(from, "from", out var first, out var invalid) || !TryParseCount(to, "to", out var second, out invalid))
        {
            return invalid;
        }

        var proof = await tree.ReadAsync(t => first > second || second > t.Size
            ? null
            : new ConsistencyProofResponse(first, second, [.. t.ConsistencyProof(first, second).Select(Convert.ToBase64String)]), ct);
        return proof is not null
            ? Results.Json(proof)
            : OutOfRange($"A consistency proof goes from a smaller tree to a larger one the log has (from ≤ to ≤ its size); got from={first}, to={second}.");
    }

    private static bool TryParseCount(string? text, string name, out long value, out IResult invalid)
    {
        invalid = Results.Empty;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        invalid = Results.ValidationProblem(new Dictionary<string, string[]> { [name] = [$"'{name}' is required: a whole number of records, 0 or more."] });
        return false;
    }

    private static IResult OutOfRange(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Outside the log", detail: detail);
}
