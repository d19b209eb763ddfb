using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Identity.Data;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Principals;

public sealed record IssuedSecret(string CredentialId, string Secret);

public sealed record RegisteredAgentKey(string CredentialId, string Kid);

/// <summary>Agents and their credentials: registration, client secrets and keys, revocation, disabling, and credential locks.</summary>
public sealed partial class PrincipalWriter
{
    public const int MaxLiveCredentials = 5;
    private const string SecretKind = "secret";
    private const string KeyKind = "private-key-jwt";

    public async Task<WriteResult<Principal>> RegisterAgentAsync(AgentRegistration registration, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        var sponsor = await PrincipalStore.FindAsync(work, registration.Sponsor!, cancellationToken);
        if (sponsor is not { Kind: PrincipalKind.Human, IsActive: true })
        {
            return WriteResult<Principal>.Invalid("Unknown sponsor", $"'{registration.Sponsor}' is not an active human; an agent's sponsor must be one.");
        }

        await using (var insert = (await work.CommandAsync("""
            insert into principals (id, kind, display_name, sponsor_id, fleet, allowed_environments, allowed_action_kinds, created_by)
            values ($1, 'agent', $2, $3, $4, $5, $6, $7) on conflict (id) do nothing
            """)).With(registration.Id, registration.Name!.Trim(), registration.Sponsor, registration.Fleet,
                registration.Environments!.ToArray(), registration.ActionKinds!.ToArray(), actor))
        {
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return WriteResult<Principal>.Conflict("Principal exists", $"A principal with id '{registration.Id}' already exists.");
            }
        }

        var at = clock.GetUtcNow();
        var bindings = (registration.Bindings is { Count: > 0 } requested ? requested : AgentRules.DefaultBindings)
            .Select(Normalize).Distinct(StringComparer.Ordinal).ToList();
        await ReplaceBindingsAsync(work, registration.Id!, bindings, DirectSource, actor, at, cancellationToken);
        var agent = (await PrincipalStore.FindAsync(work, registration.Id!, cancellationToken))!;
        await work.EnqueueAsync(agent.Changed("registered", actor, at), cancellationToken);
        await work.CommitAsync(cancellationToken);
        return WriteResult<Principal>.Done(agent);
    }

    /// <summary>A new client secret: 256 random bits, stored salted and hashed, returned this once.</summary>
    public async Task<WriteResult<IssuedSecret>> IssueSecretAsync(string agentId, string actor, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        if (await LockActiveAgentAsync(work, agentId, cancellationToken) is { } refusal)
        {
            return Refuse<IssuedSecret>(refusal);
        }

        if (await CountLiveAsync(work, agentId, SecretKind, cancellationToken) >= MaxLiveCredentials)
        {
            return WriteResult<IssuedSecret>.Conflict("Too many secrets", $"'{agentId}' already has {MaxLiveCredentials} live secrets; revoke one first.");
        }

        var credentialId = "sec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = SecretHasher.NewSecret();
        await InsertSecretAsync(work, agentId, credentialId, secret, actor, cancellationToken);
        await EnqueueChangedAsync(work, agentId, $"secret-added:{credentialId}", actor, clock.GetUtcNow(), cancellationToken);
        await work.CommitAsync(cancellationToken);
        return WriteResult<IssuedSecret>.Done(new IssuedSecret(credentialId, secret));
    }

    /// <summary>The seed's plain secret (Development only), stored hashed under a fixed credential id; idempotent.</summary>
    public async Task AddSeedSecretAsync(string agentId, string credentialId, string secret, string actor, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        if (await InsertSecretAsync(work, agentId, credentialId, secret, actor, cancellationToken))
        {
            await EnqueueChangedAsync(work, agentId, $"secret-added:{credentialId}", actor, clock.GetUtcNow(), cancellationToken);
        }

        await work.CommitAsync(cancellationToken);
    }

    public async Task<WriteResult<RegisteredAgentKey>> AddKeyAsync(string agentId, AgentPublicKey key, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        if (await LockActiveAgentAsync(work, agentId, cancellationToken) is { } refusal)
        {
            return Refuse<RegisteredAgentKey>(refusal);
        }

        await using (var exists = (await work.CommandAsync("""
            select count(*) from client_credentials where principal_id = $1 and kind = 'private-key-jwt' and revoked_at is null and key_id = $2
            """)).With(agentId, key.Kid))
        {
            if ((long)(await exists.ExecuteScalarAsync(cancellationToken))! > 0)
            {
                return WriteResult<RegisteredAgentKey>.Conflict("Key exists", $"'{agentId}' already has a live key with kid '{key.Kid}'.");
            }
        }

        if (await CountLiveAsync(work, agentId, KeyKind, cancellationToken) >= MaxLiveCredentials)
        {
            return WriteResult<RegisteredAgentKey>.Conflict("Too many keys", $"'{agentId}' already has {MaxLiveCredentials} live keys; revoke one first.");
        }

        var credentialId = "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        await using (var insert = (await work.CommandAsync("""
            insert into client_credentials (id, principal_id, kind, key_id, public_jwk, created_by)
            values ($1, $2, 'private-key-jwt', $3, $4::jsonb, $5)
            """)).With(credentialId, agentId, key.Kid, key.ToJwkJson(), actor))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await EnqueueChangedAsync(work, agentId, $"key-added:{key.Kid}", actor, clock.GetUtcNow(), cancellationToken);
        await work.CommitAsync(cancellationToken);
        return WriteResult<RegisteredAgentKey>.Done(new RegisteredAgentKey(credentialId, key.Kid));
    }

    public Task<WriteResult<string>> RevokeSecretAsync(string agentId, string credentialId, string actor, CancellationToken cancellationToken) =>
        RevokeCredentialAsync(agentId, SecretKind, "id", credentialId, actor, cancellationToken);

    public Task<WriteResult<string>> RevokeKeyAsync(string agentId, string kid, string actor, CancellationToken cancellationToken) =>
        RevokeCredentialAsync(agentId, KeyKind, "key_id", kid, actor, cancellationToken);

    /// <summary>Disables an agent: no new token from now, its live tokens refused everywhere once the event arrives.</summary>
    public async Task<WriteResult<Principal>> DisableAgentAsync(string agentId, string reason, string actor, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        if (await LockActiveAgentAsync(work, agentId, cancellationToken) is { } refusal)
        {
            return Refuse<Principal>(refusal);
        }

        await using (var disable = (await work.CommandAsync("""
            update principals set disabled_at = now(), disabled_by = $2, disabled_reason = $3 where id = $1
            """)).With(agentId, actor, reason))
        {
            await disable.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var revokeAll = (await work.CommandAsync("""
            update client_credentials set revoked_at = now(), revoked_by = $2 where principal_id = $1 and revoked_at is null
            """)).With(agentId, actor))
        {
            await revokeAll.ExecuteNonQueryAsync(cancellationToken);
        }

        var at = clock.GetUtcNow();
        var agent = (await PrincipalStore.FindAsync(work, agentId, cancellationToken))!;
        await work.EnqueueAsync(agent.Changed("disabled", actor, at), cancellationToken);
        await work.EnqueueAsync(new PrincipalRevoked(agentId, null, reason, actor, at), cancellationToken);
        await work.CommitAsync(cancellationToken);
        revocations.Revoke(agentId, at);
        return WriteResult<Principal>.Done(agent);
    }

    /// <summary>Records a credential lock for evidence; only for principals that exist (unknown client ids are not events).</summary>
    public async Task RecordLockAsync(string principalId, string method, int failures, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        if (await LockPrincipalAsync(work, principalId, cancellationToken) is null)
        {
            return;
        }

        await work.EnqueueAsync(new CredentialLocked(principalId, null, method, failures, until, clock.GetUtcNow()), cancellationToken);
        await work.CommitAsync(cancellationToken);
    }

    private async Task<WriteResult<string>> RevokeCredentialAsync(string agentId, string kind, string column, string value, string actor, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        string? credentialId;
        await using (var revoke = (await work.CommandAsync($"""
            update client_credentials set revoked_at = now(), revoked_by = $4
            where principal_id = $1 and kind = $2 and {column} = $3 and revoked_at is null returning id
            """)).With(agentId, kind, value, actor))
        {
            credentialId = await revoke.ExecuteScalarAsync(cancellationToken) as string;
        }

        if (credentialId is null)
        {
            return WriteResult<string>.NotFound("No such live credential", $"'{agentId}' has no live {kind} credential '{value}'.");
        }

        var at = clock.GetUtcNow();
        var what = kind == SecretKind ? "secret" : "key";
        await EnqueueChangedAsync(work, agentId, $"{what}-revoked:{value}", actor, at, cancellationToken);
        // Tokens are not bound to the credential that obtained them, so every token of the agent issued so far dies;
        // the agent fetches a new one with a credential that is still live.
        await work.EnqueueAsync(new PrincipalRevoked(agentId, credentialId, $"{what} {value} revoked", actor, at), cancellationToken);
        await work.CommitAsync(cancellationToken);
        revocations.Revoke(agentId, at);
        return WriteResult<string>.Done(credentialId);
    }

    private static async Task<bool> InsertSecretAsync(UnitOfWork work, string agentId, string credentialId, string secret, string actor, CancellationToken cancellationToken)
    {
        var (salt, hash) = SecretHasher.Hash(secret);
        await using var insert = (await work.CommandAsync("""
            insert into client_credentials (id, principal_id, kind, secret_salt, secret_hash, created_by)
            values ($1, $2, 'secret', $3, $4, $5) on conflict (id) do nothing
            """)).With(credentialId, agentId, salt, hash, actor);
        return await insert.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static async Task<long> CountLiveAsync(UnitOfWork work, string agentId, string kind, CancellationToken cancellationToken)
    {
        await using var count = (await work.CommandAsync("select count(*) from client_credentials where principal_id = $1 and kind = $2 and revoked_at is null")).With(agentId, kind);
        return (long)(await count.ExecuteScalarAsync(cancellationToken))!;
    }

    private sealed record Refusal(WriteStatus Status, string Title, string Detail);

    private static WriteResult<T> Refuse<T>(Refusal refusal) => new(refusal.Status, default, refusal.Title, refusal.Detail);

    private static async Task<Refusal?> LockActiveAgentAsync(UnitOfWork work, string agentId, CancellationToken cancellationToken) =>
        await LockPrincipalAsync(work, agentId, cancellationToken) switch
        {
            null => new Refusal(WriteStatus.NotFound, "Unknown agent", $"No agent '{agentId}'."),
            { Kind: not "agent" } => new Refusal(WriteStatus.NotFound, "Unknown agent", $"'{agentId}' is not an agent."),
            { Disabled: true } => new Refusal(WriteStatus.Conflict, "Agent revoked", $"'{agentId}' is revoked; register a new agent instead."),
            _ => null,
        };
}
