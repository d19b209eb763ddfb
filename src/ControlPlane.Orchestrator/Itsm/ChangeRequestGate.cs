using ControlPlane.Orchestrator.Proposals;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Orchestrator.Itsm;

/// <summary>
/// Holds a scheduled proposal whose policy decision made the change request mandatory (approval
/// <c>change-request: required</c>) until ServiceNow confirmed the change request exists. Fails closed: mandatory
/// without ServiceNow configured holds too. Optional change requests never hold anything.
/// </summary>
public sealed class ChangeRequestGate(IOptions<ServiceNowOptions> options)
{
    public async Task<string?> WaitReasonAsync(NpgsqlConnection connection, ProposalRecord proposal, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        if (!ChangeRequestContent.Mandatory(proposal))
        {
            return null;
        }

        if (!options.Value.Enabled)
        {
            return "policy makes a ServiceNow change request mandatory, but Integrations:ServiceNow is not configured";
        }

        await using var command = new NpgsqlCommand("select sys_id is not null from change_requests where proposal_id = $1", connection);
        command.Parameters.Add(new() { Value = proposal.Id });
        return await command.ExecuteScalarAsync(ct) is true
            ? null
            : "policy makes a ServiceNow change request mandatory; waiting until ServiceNow has confirmed it";
    }
}
