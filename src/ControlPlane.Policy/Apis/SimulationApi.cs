using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Data;
using ControlPlane.Policy.Simulation;
using ControlPlane.ServiceDefaults.Http;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.Extensions.Options;

namespace ControlPlane.Policy.Apis;

/// <summary>The body of POST /policies/{hash}/simulate: the last N decided proposals, or a window of decisions; optionally one environment or agent.</summary>
public sealed record SimulateRequest(int? Last, DateTimeOffset? From, DateTimeOffset? To, string? Environment, string? Agent);

/// <summary>
/// Simulation before activation: replay recorded decisions (read from evidence) against a stored bundle and store
/// the report; reading a simulation marks it viewed, which activation can require (Policy:Activation:RequireSimulation).
/// </summary>
public static class SimulationApi
{
    public static IEndpointRouteBuilder MapSimulationApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/policies").WithTags("Policies");
        // policy:write, not policy:evaluate: a simulation shows every agent's decisions in every environment (read with
        // policy's own evidence:read), and it is a step of activating a bundle, which only bundle authors do.
        api.MapPost("/{hash}/simulate", SimulateAsync).RequirePermission(Permissions.PolicyWrite).Accepts<SimulateRequest>("application/json")
            .WithSummary("Replay recorded decisions (last N, or a window) against a stored bundle; stores the report and answers its id and totals");
        api.MapGet("/simulations/{id}", GetAsync).RequirePermission(Permissions.PolicyWrite)
            .WithSummary("A stored simulation with every changed decision; the first read marks it viewed (by whom, when)");
        return app;
    }

    private static async Task<IResult> SimulateAsync(string hash, HttpContext http, PolicyStore bundles, SimulationStore simulations, EvidenceHistory history,
        IOptions<PolicyOptions> options, TimeProvider time, CancellationToken ct)
    {
        var body = await http.Request.ReadJsonBodyAsync<SimulateRequest>(ct);
        if (body.Problem is not null)
        {
            return body.Problem;
        }

        var request = body.Value!;
        var max = options.Value.Simulation.MaxProposals;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.Last is null == request.From is null)
        {
            errors["last"] = ["give either last (the last N decided proposals) or from (with an optional to), not both and not neither."];
        }

        if (request.Last is < 1 || request.Last > max)
        {
            errors["last"] = [$"last is a number from 1 to {max}."];
        }

        if (request.To is not null && request.From is null)
        {
            errors["to"] = ["to needs from."];
        }

        if (request is { From: { } from, To: { } to } && from >= to)
        {
            errors["to"] = ["to must be after from."];
        }

        foreach (var (name, value) in new[] { ("environment", request.Environment), ("agent", request.Agent) })
        {
            if (value is { Length: 0 or > 256 })
            {
                errors[name] = [$"{name} must be 1 to 256 characters."];
            }
        }

        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors);
        }

        if (await bundles.GetAsync(hash, ct) is not { } stored)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown policy bundle",
                detail: $"No bundle with hash '{hash}'. Upload it first: PUT /policies?activate=false.");
        }

        if (BundleTestResults.Reparse(hash, stored.Yaml, out var unparsable) is not { } bundle)
        {
            return unparsable!;
        }

        if (history.MissingConfiguration() is { } missing)
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Simulation is not configured",
                detail: $"Policy reads recorded decisions from evidence with its own identity, and this deployment lacks: {missing}.");
        }

        var query = new HistoryQuery(request.Last, request.From, request.To, request.Environment, request.Agent);
        History recorded;
        try
        {
            recorded = await history.ReadAsync(query, ct);
        }
        catch (EvidenceUnavailableException ex)
        {
            return Results.Problem(statusCode: ex.Status, title: "Evidence could not be read", detail: ex.Message);
        }

        var candidate = new CompiledPolicy(bundle, PolicyStore.VersionText(stored.Version));
        var report = PolicySimulator.Run(recorded.Decisions, candidate, time.GetUtcNow());
        var saved = await simulations.SaveAsync(hash, http.GetCaller().Id, query, report, recorded.Truncated, ct);
        return Results.Created($"/policies/simulations/{saved.Id}", new
        {
            id = saved.Id,
            bundleHash = hash,
            replayed = report.Replayed,
            unchanged = report.Unchanged,
            changed = report.Changed,
            rulesOnly = report.RulesOnly,
            truncated = recorded.Truncated,
            view = $"/policies/simulations/{saved.Id}",
        });
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, SimulationStore simulations, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var simulationId))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["id is the simulation's id (a UUID)."] });
        }

        return await simulations.ViewAsync(simulationId, http.GetCaller().Id, ct) is { } simulation
            ? Results.Ok(simulation)
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown simulation", detail: $"No simulation with id '{id}'.");
    }

    /// <summary>
    /// With Policy:Activation:RequireSimulation, activation must name a simulation of the same bundle that someone
    /// viewed; the problem (409) says exactly what is missing. Null when activation may go ahead.
    /// </summary>
    public static async Task<IResult?> ActivationRefusedAsync(string hash, string? simulationId, IOptions<PolicyOptions> options, SimulationStore simulations,
        CancellationToken ct)
    {
        if (!options.Value.Activation.RequireSimulation)
        {
            return null;
        }

        var steps = $"Run one (POST /policies/{hash}/simulate), view it (GET /policies/simulations/{{id}}), then activate with ?simulationId={{id}}.";
        string? missing;
        if (simulationId is null)
        {
            missing = $"This plane requires a viewed simulation before activation (Policy:Activation:RequireSimulation) and none was named. {steps}";
        }
        else if (!Guid.TryParse(simulationId, out var id) || await simulations.GetAsync(id, ct) is not { } simulation)
        {
            missing = $"No simulation with id '{simulationId}'. {steps}";
        }
        else if (simulation.BundleHash != hash)
        {
            missing = $"Simulation {simulationId} simulated bundle {simulation.BundleHash}, not {hash}. {steps}";
        }
        else if (simulation.ViewedAt is null)
        {
            missing = $"Simulation {simulationId} of this bundle has not been viewed yet: GET /policies/simulations/{simulationId}, then activate again.";
        }
        else
        {
            return null;
        }

        return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Activation needs a viewed simulation", detail: missing,
            extensions: new Dictionary<string, object?> { ["bundleHash"] = hash, ["simulationId"] = simulationId });
    }
}
