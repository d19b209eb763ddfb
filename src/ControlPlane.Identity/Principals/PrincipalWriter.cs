using ControlPlane.Contracts;
using ControlPlane.Identity.Data;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;
using Npgsql;

namespace ControlPlane.Identity.Principals;

/// <summary>
/// Every change to principals, credentials and bindings: the state change and the events naming who made it
/// (PrincipalChanged, RoleBindingChanged, PrincipalRevoked) commit in one transaction through the outbox.
/// Revocations also take effect in this replica at once, before the bus carries them to the others.
/// </summary>
public sealed partial class PrincipalWriter(NpgsqlDataSource dataSource, TimeProvider clock, RevocationList revocations)
{
    public const string DirectSource = "direct";
    public const string GroupSource = "idp-group";

    public async Task<WriteResult<Principal>> GrantBindingAsync(string principalId, RoleBinding binding, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(binding);
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        var target = await LockPrincipalAsync(work, principalId, cancellationToken);
        if (target is null)
        {
            return WriteResult<Principal>.NotFound("Unknown principal", $"No principal '{principalId}'.");
        }

        if (target.Value.Kind == "agent" && AgentRules.RefusalForAgent(binding) is { } refusal)
        {
            return WriteResult<Principal>.Invalid("Binding not allowed for an agent", refusal);
        }

        if (target.Value.Disabled)
        {
            return WriteResult<Principal>.Conflict("Principal disabled", $"'{principalId}' is disabled.");
        }

        var text = binding.ToString();
        await using (var grant = (await work.CommandAsync("""
            insert into role_bindings (principal_id, binding, granted_by, source) values ($1, $2, $3, 'direct')
            on conflict (principal_id, binding, source) where revoked_at is null do nothing
            """)).With(principalId, text, actor))
        {
            if (await grant.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return WriteResult<Principal>.Conflict("Already granted", $"'{principalId}' already holds '{text}' directly.");
            }
        }

        await work.EnqueueAsync(new RoleBindingChanged(principalId, text, true, actor, clock.GetUtcNow()), cancellationToken);
        var principal = (await PrincipalStore.FindAsync(work, principalId, cancellationToken))!;
        await work.CommitAsync(cancellationToken);
        return WriteResult<Principal>.Done(principal);
    }

    /// <summary>
    /// Revokes a directly granted binding. Tokens carrying it are revoked too (PrincipalRevoked), so the
    /// principal's next request needs a fresh token without the binding. The last global admin cannot be removed.
    /// </summary>
    public async Task<WriteResult<Principal>> RevokeBindingAsync(string principalId, RoleBinding binding, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(binding);
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        if (await LockPrincipalAsync(work, principalId, cancellationToken) is null)
        {
            return WriteResult<Principal>.NotFound("Unknown principal", $"No principal '{principalId}'.");
        }

        var text = binding.ToString();
        var sources = new List<string>();
        await using (var held = (await work.CommandAsync("select source from role_bindings where principal_id = $1 and binding = $2 and revoked_at is null")).With(principalId, text))
        await using (var reader = await held.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                sources.Add(reader.GetString(0));
            }
        }

        if (!sources.Contains(DirectSource))
        {
            return sources.Count > 0
                ? WriteResult<Principal>.Conflict("Granted by the IdP", $"'{text}' comes from '{principalId}''s IdP groups; change the group membership or Identity:ExternalIdp:GroupBindings.")
                : WriteResult<Principal>.NotFound("Binding not held", $"'{principalId}' does not hold '{text}'.");
        }

        if (text == Roles.Admin && sources.Count == 1 && await CountOtherAdminsAsync(work, principalId, cancellationToken) == 0)
        {
            return WriteResult<Principal>.Conflict("Last admin", "This is the last active global admin binding; grant admin to someone else first.");
        }

        await using (var revoke = (await work.CommandAsync("""
            update role_bindings set revoked_at = now(), revoked_by = $3 where principal_id = $1 and binding = $2 and source = 'direct' and revoked_at is null
            """)).With(principalId, text, actor))
        {
            await revoke.ExecuteNonQueryAsync(cancellationToken);
        }

        var at = clock.GetUtcNow();
        await work.EnqueueAsync(new RoleBindingChanged(principalId, text, false, actor, at), cancellationToken);
        var stillHeld = sources.Count > 1;
        if (!stillHeld)
        {
            await work.EnqueueAsync(new PrincipalRevoked(principalId, null, $"binding {text} revoked", actor, at), cancellationToken);
        }

        var principal = (await PrincipalStore.FindAsync(work, principalId, cancellationToken))!;
        await work.CommitAsync(cancellationToken);
        if (!stillHeld)
        {
            revocations.Revoke(principalId, at);
        }

        return WriteResult<Principal>.Done(principal);
    }

    private async Task ReplaceBindingsAsync(UnitOfWork work, string principalId, IReadOnlyList<string> desired, string source, string actor, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var current = new List<string>();
        await using (var read = (await work.CommandAsync("select binding from role_bindings where principal_id = $1 and source = $2 and revoked_at is null")).With(principalId, source))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                current.Add(reader.GetString(0));
            }
        }

        var diff = BindingDiff.Between(current, desired);
        foreach (var binding in diff.Revoke)
        {
            await using var revoke = (await work.CommandAsync("""
                update role_bindings set revoked_at = now(), revoked_by = $4 where principal_id = $1 and binding = $2 and source = $3 and revoked_at is null
                """)).With(principalId, binding, source, actor);
            await revoke.ExecuteNonQueryAsync(cancellationToken);
            await work.EnqueueAsync(new RoleBindingChanged(principalId, binding, false, actor, at), cancellationToken);
        }

        foreach (var binding in diff.Grant)
        {
            await using var grant = (await work.CommandAsync("insert into role_bindings (principal_id, binding, granted_by, source) values ($1, $2, $3, $4)"))
                .With(principalId, binding, actor, source);
            await grant.ExecuteNonQueryAsync(cancellationToken);
            await work.EnqueueAsync(new RoleBindingChanged(principalId, binding, true, actor, at), cancellationToken);
        }
    }

    private static async Task EnqueueChangedAsync(UnitOfWork work, string principalId, string change, string actor, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var principal = (await PrincipalStore.FindAsync(work, principalId, cancellationToken))!;
        await work.EnqueueAsync(principal.Changed(change, actor, at), cancellationToken);
    }

    private static async Task<long> CountOtherAdminsAsync(UnitOfWork work, string principalId, CancellationToken cancellationToken)
    {
        await using var count = (await work.CommandAsync("""
            select count(distinct b.principal_id) from role_bindings b join principals p on p.id = b.principal_id
            where b.binding = 'admin' and b.revoked_at is null and p.disabled_at is null and b.principal_id <> $1
            """)).With(principalId);
        return (long)(await count.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Row-locks a principal for the rest of the transaction; null when it does not exist.</summary>
    private static async Task<(string Kind, bool Disabled)?> LockPrincipalAsync(UnitOfWork work, string principalId, CancellationToken cancellationToken)
    {
        await using var command = (await work.CommandAsync("select kind, disabled_at is not null from principals where id = $1 for update")).With(principalId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.GetBoolean(1)) : null;
    }

    private static string Normalize(string text) => RoleBinding.TryParse(text, out var binding)
        ? binding.ToString()
        : throw new ArgumentException($"'{text}' is not a role binding (role, or role@environment:x, role@node:x, role@team:x).", nameof(text));
}
