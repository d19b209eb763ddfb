using ControlPlane.Contracts;
using Npgsql;

namespace ControlPlane.Policy.Data;

/// <summary>An agent as identity last described it: what it may propose (environments, action kinds) and its fleet.</summary>
public sealed record AgentRecord(
    string AgentId,
    string DisplayName,
    string? SponsorId,
    string? Fleet,
    IReadOnlyList<string> AllowedEnvironments,
    IReadOnlyList<string> AllowedActionKinds,
    DateTimeOffset? RevokedAt,
    DateTimeOffset ChangedAt);

/// <summary>What a fleet's live runners can execute, as fleet last reported it.</summary>
public sealed record FleetCapabilities(string Fleet, IReadOnlyList<string> ActionKinds, int LiveRunners, DateTimeOffset ChangedAt);

/// <summary>
/// policy-db projections of identity's agents and fleet's capabilities, for the autonomy report. Events are
/// applied idempotently and only when newer than what is stored, so redelivery and reordering are harmless.
/// </summary>
public sealed class AgentProjections(NpgsqlDataSource dataSource)
{
    public async Task ApplyAsync(PrincipalChanged change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        await using var command = dataSource.CreateCommand("""
            insert into agents (agent_id, display_name, sponsor_id, fleet, allowed_environments, allowed_action_kinds, changed_at)
            values ($1, $2, $3, $4, $5, $6, $7)
            on conflict (agent_id) do update set display_name = excluded.display_name, sponsor_id = excluded.sponsor_id, fleet = excluded.fleet,
                allowed_environments = excluded.allowed_environments, allowed_action_kinds = excluded.allowed_action_kinds, changed_at = excluded.changed_at
            where agents.changed_at <= excluded.changed_at
            """);
        Add(command, change.PrincipalId, change.DisplayName, (object?)change.SponsorId ?? DBNull.Value, (object?)change.Fleet ?? DBNull.Value,
            (change.AllowedEnvironments ?? []).ToArray(), (change.AllowedActionKinds ?? []).ToArray(), change.At);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Marks the agent revoked (the earliest revocation wins); an agent not seen yet gets a placeholder a later PrincipalChanged fills.</summary>
    public async Task ApplyAsync(PrincipalRevoked revoked, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(revoked);
        await using var command = dataSource.CreateCommand("""
            insert into agents (agent_id, display_name, allowed_environments, allowed_action_kinds, revoked_at, changed_at)
            values ($1, $1, '{}', '{}', $2, $3)
            on conflict (agent_id) do update set revoked_at = least(coalesce(agents.revoked_at, excluded.revoked_at), excluded.revoked_at)
            """);
        Add(command, revoked.PrincipalId, revoked.At, DateTimeOffset.UnixEpoch);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task ApplyAsync(FleetCapabilitiesChanged change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        await using var command = dataSource.CreateCommand("""
            insert into fleet_capabilities (fleet, action_kinds, live_runners, changed_at) values ($1, $2, $3, $4)
            on conflict (fleet) do update set action_kinds = excluded.action_kinds, live_runners = excluded.live_runners, changed_at = excluded.changed_at
            where fleet_capabilities.changed_at <= excluded.changed_at
            """);
        Add(command, change.Fleet, (change.ActionKinds ?? []).ToArray(), change.LiveRunners, change.At);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Replaces the routes with a newer catalog; an older announcement (reordered delivery) changes nothing.</summary>
    public async Task ApplyAsync(ActionCatalogPublished catalog, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var newer = new NpgsqlCommand("select coalesce(max(published_at), '-infinity') > $1 from action_routes", connection, tx))
        {
            Add(newer, catalog.At);
            if (await newer.ExecuteScalarAsync(cancellationToken) is true)
            {
                return;
            }
        }

        await using (var clear = new NpgsqlCommand("delete from action_routes", connection, tx))
        {
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var route in catalog.Routes ?? [])
        {
            await using var insert = new NpgsqlCommand(
                "insert into action_routes (proposal_kind, fleet, runner_action, command, published_at) values ($1, $2, $3, $4, $5)", connection, tx);
            Add(insert, route.ProposalKind, route.Fleet, route.RunnerAction, (object?)route.Command ?? DBNull.Value, catalog.At);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ActionRoute>> ListRoutesAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select proposal_kind, fleet, runner_action, command from action_routes order by proposal_kind");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var routes = new List<ActionRoute>();
        while (await reader.ReadAsync(cancellationToken))
        {
            routes.Add(new ActionRoute(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        }

        return routes;
    }

    public async Task<AgentRecord?> FindAgentAsync(string agentId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select agent_id, display_name, sponsor_id, fleet, allowed_environments, allowed_action_kinds, revoked_at, changed_at
            from agents where agent_id = $1 and changed_at > 'epoch'
            """);
        Add(command, agentId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new AgentRecord(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetFieldValue<string[]>(4), reader.GetFieldValue<string[]>(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6), reader.GetFieldValue<DateTimeOffset>(7))
            : null;
    }

    public async Task<FleetCapabilities?> FindFleetAsync(string fleet, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select fleet, action_kinds, live_runners, changed_at from fleet_capabilities where fleet = $1");
        Add(command, fleet);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new FleetCapabilities(reader.GetString(0), reader.GetFieldValue<string[]>(1), reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(3))
            : null;
    }

    private static void Add(NpgsqlCommand command, params object[] values)
    {
        foreach (var value in values)
        {
            command.Parameters.Add(new() { Value = value });
        }
    }
}
