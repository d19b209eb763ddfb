using ControlPlane.Policy.Autonomy;
using ControlPlane.Policy.Bundles;
using ControlPlane.Policy.Data;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Policy.Apis;

/// <summary>What an agent can do (its fleet's capabilities) against what it is allowed to do (the active policy).</summary>
public static class AgentsApi
{
    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/agents").WithTags("Agents")
            .MapGet("/{id}/autonomy", AutonomyAsync).RequirePermission(Permissions.PolicyRead)
            .WithSummary("For each environment and action kind the agent may propose: can its fleet do it, and may it, unattended, with approval or not at all");
        return app;
    }

    private static async Task<IResult> AutonomyAsync(string id, AgentProjections projections, ActivePolicyCache policies, TrackRecordStore trackRecord,
        TimeProvider time, CancellationToken ct)
    {
        if (await projections.FindAgentAsync(id, ct) is not { } agent)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown agent",
                detail: $"Policy has not heard of agent '{id}' from identity (PrincipalChanged).");
        }

        var routes = await projections.ListRoutesAsync(ct);
        var fleets = new List<FleetCapabilities>();
        foreach (var name in routes.Select(r => r.Fleet).Distinct(StringComparer.Ordinal))
        {
            if (await projections.FindFleetAsync(name, ct) is { } fleet)
            {
                fleets.Add(fleet);
            }
        }

        var policy = (await policies.GetAsync(ct))?.Policy;
        var now = time.GetUtcNow();
        var records = policy is { TrackRecordWindows.Count: > 0 }
            ? await trackRecord.ListAsync(agent.AgentId, null, null, policy.TrackRecordWindows.Max(), now, ct)
            : [];
        return Results.Ok(AutonomyReportBuilder.Build(agent, routes, fleets, policy, now, records));
    }
}
