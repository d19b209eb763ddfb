using System.Globalization;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Data;
using ControlPlane.Evidence.Recording;
using ControlPlane.Evidence.Redaction;
using ControlPlane.Evidence.Signing;
using ControlPlane.Evidence.Transparency;
using ControlPlane.ServiceDefaults.Health;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Evidence.Apis;

/// <summary>
/// The evidence API. Reading a proposal's evidence needs evidence:read through a binding that covers the
/// proposal (its environment, targets or teams); listing the whole log needs an unscoped evidence:read and
/// recomputing the chain an unscoped evidence:export. The public keys are open, like JWKS.
/// </summary>
public static partial class EvidenceApi
{
    public const int MaxPageSize = 1000;
    private const int DefaultPageSize = 100;

    public static IEndpointRouteBuilder MapEvidenceApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/evidence").WithTags("Evidence");

        group.MapGet("/keys", GetKeysAsync)
            .AllowAnonymous().WithMetadata(new AnonymousByDesign("evidence's public checkpoint keys, published like JWKS"))
            .WithSummary("Evidence's public checkpoint keys");
        group.MapGet("/proposals/{id}", GetProposalAsync)
            .RequirePermission(Permissions.EvidenceRead)
            .WithSummary("The records of one proposal, in order, with both chain hashes");
        group.MapGet("/proposals/{id}/bundle", GetBundleAsync)
            .RequirePermission(Permissions.EvidenceRead)
            .WithSummary($"A signed evidence bundle ({EvidenceFormat.BundleFormat}) that verifies offline");
        group.MapGet("/records", GetRecordsAsync)
            .RequirePermission(Permissions.EvidenceRead)
            .WithSummary("Records filtered by kind, actor, agent, human, environment and time; since/limit (oldest first) or page/pageSize with total (newest first)");
        group.MapGet("/chain/verify", VerifyChainAsync)
            .RequirePermission(Permissions.EvidenceExport)
            .WithSummary("Recompute the whole global chain; OK or the first broken sequence");
        return app;
    }

    private static async Task<IResult> GetKeysAsync(EvidenceKeyStore keys, CancellationToken ct)
    {
        var stored = await keys.PublicKeysAsync(ct);
        return Results.Json(new EvidenceKeySet([.. stored.Select(k => new EvidencePublicKey(k.KeyId, "ES256", k.PublicKey,
            EvidenceFormat.KeyFingerprint(Convert.FromBase64String(k.PublicKey)), EvidenceFormat.Timestamp(k.CreatedAt)))]), EvidenceFormat.Json);
    }

    private static async Task<IResult> GetProposalAsync(string id, HttpContext http, EvidenceStore store, CancellationToken ct)
    {
        if (!TryParseId(id, out var proposalId, out var invalid))
        {
            return invalid;
        }

        var records = await store.ProposalAsync(proposalId, ct);
        if (records.Count == 0)
        {
            return NoEvidence(proposalId);
        }

        return Forbidden(http.GetCaller(), records)
            ?? Results.Json(new ProposalEvidence(EvidenceFormat.Id(proposalId), records), EvidenceFormat.Json);
    }

    private static async Task<IResult> GetBundleAsync(string id, HttpContext http, EvidenceStore store, EvidenceKeyStore keys, TimeProvider clock,
        CheckpointLog checkpoints, EvidenceTree tree, WitnessClient witnesses, BundleDisclosures disclosures, ILoggerFactory loggers, CancellationToken ct)
    {
        if (!TryParseId(id, out var proposalId, out var invalid))
        {
            return invalid;
        }

        var snapshot = await store.BundleSnapshotAsync(proposalId, ct);
        if (snapshot is null)
        {
            return NoEvidence(proposalId);
        }

        var caller = http.GetCaller();
        if (Forbidden(caller, snapshot.Records) is { } forbidden)
        {
            return forbidden;
        }

        var sensitive = Covers(caller, Permissions.EvidenceReadSensitive, snapshot.Records);
        var commitments = BundleDisclosures.Commitments(snapshot.Records, snapshot.Fields, sensitive);

        var (key, signer) = await keys.GetSignerAsync(ct);
        using (signer.Key)
        {
            // The checkpoint key must itself be evidence: until its announcement has been recorded, no bundle.
            if (!snapshot.KeyRecords.Any(r => r.Payload is JsonObject p && (string?)p["keyId"] == key.KeyId))
            {
                http.Response.Headers.RetryAfter = "2";
                return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Evidence key not recorded yet",
                    detail: $"The announcement of evidence key '{key.KeyId}' has not been recorded yet; retry in a moment.");
            }

            try
            {
                var log = await BundleLogAsync(snapshot, key.KeyId, checkpoints, tree, witnesses, ct);
                var bundle = EvidenceBundleBuilder.Build(proposalId, snapshot.Records, snapshot.KeyRecords, snapshot.Head, signer, clock.GetUtcNow(), log,
                    commitments);

                // What was disclosed or left out is itself evidence, recorded before the bundle leaves.
                await disclosures.RecordAsync(proposalId, caller, sensitive, commitments, ct);
                return Results.Bytes(EvidenceBundleBuilder.Serialize(bundle), "application/json");
            }
            catch (BundleSectionException ex)
            {
                LogUnsummarizable(loggers.CreateLogger(typeof(EvidenceApi)), proposalId, ex.Message);
                return Results.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "Evidence cannot be summarized",
                    detail: ex.Message);
            }
        }
    }

    /// <summary>The newest checkpoint that covers every record the bundle holds (signed now if none does) and their inclusion proofs.</summary>
    private static async Task<BundleLog> BundleLogAsync(BundleSnapshot snapshot, string evidenceKeyId, CheckpointLog checkpoints, EvidenceTree tree,
        WitnessClient witnesses, CancellationToken ct)
    {
        var sequences = snapshot.Records.Select(r => r.Sequence)
            .Concat(EvidenceBundleBuilder.KeySequences(snapshot.Records, snapshot.KeyRecords, evidenceKeyId))
            .Distinct().Order().ToList();
        var checkpoint = await checkpoints.LatestAsync(ct);
        if (checkpoint is null || checkpoint.Size < sequences[^1])
        {
            checkpoint = await checkpoints.PublishAsync(ct);
            await witnesses.CosignAsync(checkpoint, ct);
        }

        var inclusions = await tree.ReadAsync(t => sequences
            .Select(s => new BundleInclusion(s, [.. t.InclusionProof(s - 1, checkpoint.Size).Select(Convert.ToBase64String)]))
            .ToList(), ct);
        return new BundleLog(checkpoint.Note + await witnesses.LinesAsync(checkpoint.Size, ct), inclusions);
    }

    private static async Task<IResult> GetRecordsAsync(string? kind, string? actor, string? agent, string? human, string? environment, string? from, string? to,
        string? since, string? limit, string? page, string? pageSize, HttpContext http, EvidenceStore store, CancellationToken ct)
    {
        if (!http.GetCaller().HasPermission(Permissions.EvidenceRead, environment: null))
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "Listing the whole evidence log needs evidence:read through an unscoped binding.");
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (kind is not null && !EvidenceKinds.Names.Contains(kind) && !BundleDisclosures.Kinds.Contains(kind))
        {
            errors["kind"] = [$"Unknown kind '{kind}'. Known kinds: {string.Join(", ", EvidenceKinds.Names.Concat(BundleDisclosures.Kinds).Order(StringComparer.Ordinal))}."];
        }

        var after = 0L;
        if (since is not null && (!long.TryParse(since, NumberStyles.None, CultureInfo.InvariantCulture, out after) || after < 0))
        {
            errors["since"] = ["since is a record sequence number (0 or more); records after it are returned."];
        }

        var size = DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxPageSize))
        {
            errors["limit"] = [$"limit is a number from 1 to {MaxPageSize}."];
        }

        var pageNumber = 1;
        if (page is not null && (!int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out pageNumber) || pageNumber < 1))
        {
            errors["page"] = ["page is a number from 1."];
        }

        var perPage = DefaultPageSize;
        if (pageSize is not null && (!int.TryParse(pageSize, NumberStyles.None, CultureInfo.InvariantCulture, out perPage) || perPage is < 1 or > MaxPageSize))
        {
            errors["pageSize"] = [$"pageSize is a number from 1 to {MaxPageSize}."];
        }

        if ((page is not null || pageSize is not null) && (since is not null || limit is not null))
        {
            errors["page"] = ["Page with page/pageSize or with since/limit, not both."];
        }

        foreach (var (name, value) in new[] { ("actor", actor), ("agent", agent), ("human", human), ("environment", environment) })
        {
            if (value is { Length: 0 or > 256 })
            {
                errors[name] = [$"{name} must be 1 to 256 characters."];
            }
        }

        if (actor is not null && human is not null && actor != human)
        {
            errors["human"] = ["human and actor both name the record's actor; give one."];
        }

        var start = ParseTime(from, "from", errors);
        var end = ParseTime(to, "to", errors);
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        var query = new EvidenceQuery(kind, human ?? actor, agent, environment, start, end);
        if (page is not null || pageSize is not null)
        {
            var (found, total) = await store.SearchAsync(query, pageNumber, perPage, ct);
            return Results.Json(new EvidenceSearchPage(found, total, pageNumber, perPage), EvidenceFormat.Json);
        }

        var records = await store.PageAsync(query, after, size, ct);
        return Results.Json(new EvidencePage(records, records.Count == size ? records[^1].Sequence : null), EvidenceFormat.Json);
    }

    /// <summary>An ISO-8601 instant with an offset (2026-12-04T10:00:00Z); null when absent; an error when malformed.</summary>
    internal static DateTimeOffset? ParseTime(string? text, string name, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            return value;
        }

        errors[name] = [$"{name} is an ISO-8601 date-time such as 2026-12-04T10:00:00Z."];
        return null;
    }

    private static async Task<IResult> VerifyChainAsync(HttpContext http, EvidenceStore store, ILoggerFactory loggers, CancellationToken ct)
    {
        if (!http.GetCaller().HasPermission(Permissions.EvidenceExport, environment: null))
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "Verifying the whole chain needs evidence:export through an unscoped binding.");
        }

        var result = await store.VerifyChainAsync(ct);
        if (!result.Ok)
        {
            LogChainBroken(loggers.CreateLogger(typeof(EvidenceApi)), result.BrokenAt ?? 0, result.Reason ?? string.Empty);
        }

        return Results.Json(result, EvidenceFormat.Json);
    }

    /// <summary>
    /// Object-level check: a binding scoped to an environment, node or team reads a proposal's evidence only
    /// when the proposal (from its ProposalSubmitted and ImpactAssessed records) lies inside that scope.
    /// </summary>
    internal static IResult? Forbidden(Caller caller, IReadOnlyList<EvidenceRecord> records) =>
        Covers(caller, Permissions.EvidenceRead, records)
            ? null
            : Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "None of your evidence:read bindings covers this proposal's environment, targets or teams.");

    /// <summary>Holds the permission through a binding that covers the proposal (environment, targets, teams).</summary>
    private static bool Covers(Caller caller, string permission, IReadOnlyList<EvidenceRecord> records)
    {
        var submitted = records.FirstOrDefault(r => r.Kind == nameof(ProposalSubmitted))?.Payload as JsonObject;
        var impact = (records.LastOrDefault(r => r.Kind == nameof(ImpactAssessed))?.Payload as JsonObject)?["impact"] as JsonObject;
        var environment = Text(submitted?["environment"]);
        var targets = Texts(submitted?["targets"]);
        var teams = Texts(impact?["teams"]);
        return caller.HasPermission(permission, environment, targets, teams);
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static List<string>? Texts(JsonNode? node) => node is JsonArray array ? [.. array.Select(Text).OfType<string>()] : null;

    internal static bool TryParseId(string id, out Guid proposalId, out IResult invalid)
    {
        invalid = Results.Empty;
        if (Guid.TryParseExact(id, "D", out proposalId))
        {
            return true;
        }

        invalid = Results.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["The proposal id must be a UUID (8-4-4-4-12)."] });
        return false;
    }

    internal static IResult NoEvidence(Guid proposalId) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No evidence",
            detail: $"Evidence holds no records of proposal {EvidenceFormat.Id(proposalId)}.");

    [LoggerMessage(Level = LogLevel.Error, Message = "Evidence of proposal {ProposalId} cannot be summarized: {Reason}")]
    private static partial void LogUnsummarizable(ILogger logger, Guid proposalId, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Evidence chain broken at sequence {Sequence}: {Reason}")]
    private static partial void LogChainBroken(ILogger logger, long sequence, string reason);
}
