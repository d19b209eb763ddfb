using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Data;
using ControlPlane.Policy.Simulation;
using ControlPlane.ServiceDefaults.Http;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace ControlPlane.Policy.Apis;

/// <summary>The body of POST /policies/evaluate: the facts of a would-be proposal, and optionally a bundle to try instead of the active one.</summary>
public sealed record EvaluateRequest(
    string? Action,
    string? Environment,
    string? AgentId,
    bool? RollbackPlanPresent,
    ImpactReport? Impact,
    int? HighestCriticality,
    bool? RevenuePath,
    IReadOnlyList<string>? DataClasses,
    int? Dependents,
    bool? InternetExposed,
    bool? UnknownTargets,
    string? Bundle,
    bool? DriftDetected = null);

public sealed record BundleSource(string Hash, string Version, string Source);

public sealed record EvaluateResponse(PolicyDecision Decision, PolicyFacts Facts, BundleSource? Bundle, IReadOnlyList<RuleEvaluation> Rules);

/// <summary>Policy bundles over HTTP: upload (YAML), read, activate, and dry-run evaluation with an explanation per rule.</summary>
public static class PolicyApi
{
    public const int MaxBundleBytes = 512 * 1024;
    private static readonly string[] YamlMediaTypes = ["application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml"];

    public static IEndpointRouteBuilder MapPolicyApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/policies").WithTags("Policies");

        api.MapPut(string.Empty, PutAsync).RequirePermission(Permissions.PolicyWrite)
            .WithSummary("Upload a YAML bundle (Content-Type application/yaml); activates it unless ?activate=false");
        api.MapGet(string.Empty, ListAsync).RequirePermission(Permissions.PolicyRead)
            .WithSummary("Every stored bundle, newest first, with the active one marked");
        api.MapGet("/active", GetActiveAsync).RequirePermission(Permissions.PolicyRead)
            .WithSummary("The active bundle: hash, version, who activated it when, and its YAML");
        api.MapGet("/{hash}", GetAsync).RequirePermission(Permissions.PolicyRead)
            .WithSummary("A stored bundle by content hash");
        api.MapPost("/{hash}/activate", ActivateAsync).RequirePermission(Permissions.PolicyWrite)
            .WithSummary("Make a stored bundle the active one (e.g. roll back); refused when its tests fail, or without ?simulationId= of a viewed simulation where required");
        api.MapPost("/evaluate", EvaluateAsync).RequirePermission(Permissions.PolicyEvaluate).Accepts<EvaluateRequest>("application/json")
            .WithSummary("Dry run: decide the given facts with the active bundle, or with the YAML bundle in the body, explaining every rule");
        return app;
    }

    private static async Task<IResult> PutAsync(bool? activate, HttpContext http, PolicyStore store, TimeProvider time, IOptions<PolicyOptions> options,
        CancellationToken ct)
    {
        var contentType = MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var parsedType) ? parsedType.MediaType.Value : null;
        if (contentType is null || !YamlMediaTypes.Contains(contentType, StringComparer.OrdinalIgnoreCase))
        {
            return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Upload the bundle as YAML with Content-Type application/yaml or text/yaml.");
        }

        if (await ReadTextAsync(http.Request, ct) is not { } yaml)
        {
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Bundle too large",
                detail: $"A bundle is at most {MaxBundleBytes / 1024} KiB.");
        }

        var parsed = BundleParser.Parse(yaml);
        if (!parsed.IsValid)
        {
            return Invalid(parsed.Errors, "bundle");
        }

        // A bundle whose own tests fail is never activated; stored without activation, its results say what to fix.
        var tests = BundleTestResults.Run(parsed.Bundle!, time.GetUtcNow());
        if ((activate ?? true) && !tests.AllPassed)
        {
            return BundleTestResults.Refused(CompiledPolicy.HashOf(parsed.Bundle!), tests);
        }

        // A simulation needs the bundle stored first, so where activation requires one, an upload cannot activate.
        if ((activate ?? true) && options.Value.Activation.RequireSimulation)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Activation needs a viewed simulation",
                detail: "This plane requires a viewed simulation before activation (Policy:Activation:RequireSimulation): upload with " +
                    "?activate=false, simulate (POST /policies/{hash}/simulate), view it (GET /policies/simulations/{id}), then POST /policies/{hash}/activate?simulationId={id}.");
        }

        var save = await store.SaveAsync(parsed.Bundle!, yaml, http.GetCaller().Id, activate ?? true, ct);
        var body = new
        {
            hash = save.Hash, version = PolicyStore.VersionText(save.Version), created = save.Created, activated = save.Activated,
            tests = BundleTestResults.Summary(tests),
        };
        return save.Created ? Results.Created($"/policies/{save.Hash}", body) : Results.Ok(body);
    }

    private static async Task<IResult> ListAsync(PolicyStore store, CancellationToken ct) => Results.Ok(await store.ListAsync(ct));

    private static async Task<IResult> GetActiveAsync(PolicyStore store, CancellationToken ct) =>
        await store.GetActiveAsync(ct) is { } active
            ? Results.Ok(new
            {
                hash = active.Bundle.Hash,
                version = PolicyStore.VersionText(active.Bundle.Version),
                activatedAt = active.ActivatedAt,
                activatedBy = active.ActivatedBy,
                yaml = active.Bundle.Yaml,
            })
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No active policy bundle",
                detail: "No bundle was ever activated; every proposal is denied until one is (PUT /policies).");

    private static async Task<IResult> GetAsync(string hash, PolicyStore store, CancellationToken ct) =>
        await store.GetAsync(hash, ct) is { } bundle
            ? Results.Ok(new
            {
                hash = bundle.Hash,
                version = PolicyStore.VersionText(bundle.Version),
                uploadedAt = bundle.UploadedAt,
                uploadedBy = bundle.UploadedBy,
                yaml = bundle.Yaml,
            })
            : UnknownBundle(hash);

    private static async Task<IResult> ActivateAsync(string hash, string? simulationId, HttpContext http, PolicyStore store, SimulationStore simulations,
        IOptions<PolicyOptions> options, TimeProvider time, CancellationToken ct)
    {
        if (await store.GetAsync(hash, ct) is not { } stored)
        {
            return UnknownBundle(hash);
        }

        if (await SimulationApi.ActivationRefusedAsync(hash, simulationId, options, simulations, ct) is { } refused)
        {
            return refused;
        }

        if (BundleTestResults.Reparse(hash, stored.Yaml, out var unparsable) is not { } bundle)
        {
            return unparsable!;
        }

        var tests = BundleTestResults.Run(bundle, time.GetUtcNow());
        if (!tests.AllPassed)
        {
            return BundleTestResults.Refused(hash, tests);
        }

        return await store.ActivateAsync(hash, http.GetCaller().Id, ct) is { } save
            ? Results.Ok(new { hash = save.Hash, version = PolicyStore.VersionText(save.Version), activated = save.Activated, tests = BundleTestResults.Summary(tests) })
            : UnknownBundle(hash);
    }

    private static async Task<IResult> EvaluateAsync(HttpContext http, ActivePolicyCache policies, TimeProvider time, CancellationToken ct)
    {
        var body = await http.Request.ReadJsonBodyAsync<EvaluateRequest>(ct);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var request = body.Value!;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(request.Action))
        {
            errors["action"] = ["action is required: the action kind, e.g. 'deploy'."];
        }

        if (string.IsNullOrWhiteSpace(request.Environment))
        {
            errors["environment"] = ["environment is required, e.g. 'production'."];
        }

        var factFields = new (string Name, bool Given)[]
        {
            ("highestCriticality", request.HighestCriticality is not null), ("revenuePath", request.RevenuePath is not null),
            ("dataClasses", request.DataClasses is not null), ("dependents", request.Dependents is not null),
            ("internetExposed", request.InternetExposed is not null), ("unknownTargets", request.UnknownTargets is not null),
            ("driftDetected", request.DriftDetected is not null),
        };
        if (request.Impact is not null && factFields.Any(f => f.Given))
        {
            errors["impact"] = [$"give either impact (an ImpactReport) or the fact fields, not both; fact fields given: {string.Join(", ", factFields.Where(f => f.Given).Select(f => f.Name))}."];
        }

        if (request.HighestCriticality is < 0 or > 3)
        {
            errors["highestCriticality"] = ["highestCriticality is a tier from 0 (most critical) to 3."];
        }

        if (request.Dependents is < 0)
        {
            errors["dependents"] = ["dependents cannot be negative."];
        }

        CompiledPolicy? policy;
        string source;
        if (request.Bundle is { Length: > MaxBundleBytes })
        {
            errors["bundle"] = [$"an inline bundle is at most {MaxBundleBytes / 1024} KiB."];
            policy = null;
            source = "inline";
        }
        else if (request.Bundle is { } yaml)
        {
            var parsed = BundleParser.Parse(yaml);
            if (!parsed.IsValid)
            {
                foreach (var (key, messages) in BundleErrors(parsed.Errors, "bundle"))
                {
                    errors[key] = messages;
                }
            }

            policy = parsed.IsValid ? new CompiledPolicy(parsed.Bundle!, "inline") : null;
            source = "inline";
        }
        else
        {
            policy = errors.Count == 0 ? (await policies.GetAsync(ct))?.Policy : null;
            source = "active";
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        var facts = request.Impact is { } impact
            ? PolicyFacts.From(request.Action!, request.Environment!, request.AgentId, request.RollbackPlanPresent ?? false, impact)
            : new PolicyFacts(request.Action!, request.Environment!, request.AgentId, request.RollbackPlanPresent ?? false, request.HighestCriticality,
                request.RevenuePath ?? false, request.DataClasses ?? [], request.Dependents ?? 0, request.InternetExposed ?? false, request.UnknownTargets ?? false,
                request.DriftDetected ?? false);
        var evaluation = PolicyEvaluator.Explain(policy, facts, time.GetUtcNow());
        return Results.Ok(new EvaluateResponse(evaluation.Decision, facts,
            policy is null ? null : new BundleSource(policy.Hash, policy.Version, source), evaluation.Rules));
    }

    /// <summary>The body as text, or null when it is larger than <see cref="MaxBundleBytes"/>.</summary>
    private static async Task<string?> ReadTextAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBundleBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBundleBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Bundle errors in the RFC 9457 "errors" shape: keyed by YAML path, each message with line, column and rule.</summary>
    private static Dictionary<string, string[]> BundleErrors(IEnumerable<BundleError> errors, string prefix) =>
        errors.GroupBy(e => prefix + e.Path.TrimStart('$'), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.ToString()).ToArray(), StringComparer.Ordinal);

    private static IResult Invalid(IEnumerable<BundleError> errors, string prefix) =>
        Results.ValidationProblem(BundleErrors(errors, prefix), title: "The policy bundle is invalid");

    private static IResult UnknownBundle(string hash) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown policy bundle", detail: $"No bundle with hash '{hash}'.");
}
