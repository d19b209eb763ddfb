using System.Security.Claims;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.AspNetCore.Components.Authorization;

namespace ControlPlane.Console.Plane;

/// <summary>
/// Who is signed in, and what the pages offer them: the bindings from the id_token decide which buttons show.
/// Display only: every action is still decided by the service with the human's own token.
/// </summary>
public sealed class HumanContext(AuthenticationStateProvider authentication)
{
    public async Task<Caller> CallerAsync()
    {
        var user = (await authentication.GetAuthenticationStateAsync()).User;
        var id = user.FindFirstValue("sub") ?? "";
        var bindings = user.FindAll("roles").Select(c => RoleBinding.TryParse(c.Value, out var b) ? b : null).OfType<RoleBinding>().ToList();
        return new Caller(id, PrincipalKind.Human, user.FindFirstValue("name") ?? id, bindings, null, null);
    }

    /// <summary>The rule orchestrator applies (ApprovalRules): a covering binding with a required role, not the agent's sponsor, not yet decided.</summary>
    public static bool MayDecide(Caller caller, JsonNode proposal)
    {
        if (proposal["state"]?.ToString() != "awaiting-approval" || proposal["sponsorId"]?.ToString() == caller.Id ||
            proposal["agentId"]?.ToString() == caller.Id ||
            (proposal["approvals"]?.AsArray() ?? []).Any(a => a?["approverId"]?.ToString() == caller.Id))
        {
            return false;
        }

        var environment = proposal["environment"]?.ToString();
        string[] nodes = [.. (proposal["targets"]?.AsArray() ?? []).Select(t => t!.ToString())];
        string[] teams = [.. (proposal["impact"]?["teams"]?.AsArray() ?? []).Select(t => t!.ToString())];
        var roles = proposal["approvalStatus"]?["roles"]?.AsArray().Select(r => r!.ToString()).ToList() is { Count: > 0 } required ? required : [Roles.Approver];
        return caller.HasPermission(Permissions.ProposalsApprove, environment, nodes, teams) &&
            caller.Bindings.Any(b => roles.Contains(b.Role) && b.Covers(environment, nodes, teams));
    }

    public static bool MayOperate(Caller caller, string? environment = null) =>
        environment is null ? caller.Bindings.Any(b => Permissions.Grants(b.Role, Permissions.ScheduleOperate) && b.Scope == ScopeKind.Global)
            : caller.HasPermission(Permissions.ScheduleOperate, environment);
}
