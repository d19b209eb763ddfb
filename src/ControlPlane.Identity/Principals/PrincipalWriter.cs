using System.Security.Cryptography;
using ControlPlane.Contracts;
using ControlPlane.Identity.Data;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;
using Npgsql;

namespace ControlPlane.Identity.Principals;

public sealed record IssuedSecret(string CredentialId, string Secret);

public sealed record RegisteredAgentKey(string CredentialId, string Kid);

/// <summary>A human as the corporate IdP asserted them in a validated token.</summary>
public sealed record ExternalLogin(string Id, string DisplayName, string? Email, string Issuer, string Subject, IReadOnlyList<string> Groups);

/// <summary>
/// Every change to principals, credentials and bindings: the state change and the events naming who made it
/// (PrincipalChanged, RoleBindingChanged, PrincipalRevoked) commit in one transaction through the outbox.
/// Revocations also take effect in this replica at once, before the bus carries them to the others.
/// </summary>
public sealed class PrincipalWriter(NpgsqlDataSource dataSource, TimeProvider clock, RevocationList revocations)
{
    public const int MaxLiveCredentials = 5;
    public const string DirectSource = "direct";
    public const string GroupSource = "idp-group";
    private const string SecretKind = "secret";
    private const string KeyKind = "private-key-jwt";

    public async Task<WriteResult<Principal>> RegisterAgentAsync(AgentRegistration registration, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        var sponsor = await PrincipalStore.FindAsync(work.Connection, work.Transaction, registration.Sponsor!, cancellationToken);
        if (sponsor is not { Kind: PrincipalKind.Human, IsActive: true })
        {
            return WriteResult<Principal>.Invalid("Unknown sponsor", $"'{registration.Sponsor}' is not an active human; an agent's sponsor must be one.");
        }

        await using (var insert = work.Command("""
            insert into principals (id, kind, display_name, sponsor_id, fleet, allowed_environments, allowed_action_kinds, created_by)
            values ($1, 'agent', $2, $3, $4, $5, $6, $7) on conflict (id) do nothing
            """).With(registration.Id, registration.Name!.Trim(), registration.Sponsor, registration.Fleet,
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
        var agent = (await PrincipalStore.FindAsync(work.Connection, work.Transaction, registration.Id!, cancellationToken))!;
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

        await using (var exists = work.Command("""
            select count(*) from client_credentials where principal_id = $1 and kind = 'private-key-jwt' and revoked_at is null and key_id = $2
            """).With(agentId, key.Kid))
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
        await using (var insert = work.Command("""
            insert into client_credentials (id, principal_id, kind, key_id, public_jwk, created_by)
            values ($1, $2, 'private-key-jwt', $3, $4::jsonb, $5)
            """).With(credentialId, agentId, key.Kid, key.ToJwkJson(), actor))
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

        await using (var disable = work.Command("""
            update principals set disabled_at = now(), disabled_by = $2, disabled_reason = $3 where id = $1
            """).With(agentId, actor, reason))
        {
            await disable.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var revokeAll = work.Command("""
            update client_credentials set revoked_at = now(), revoked_by = $2 where principal_id = $1 and revoked_at is null
            """).With(agentId, actor))
        {
            await revokeAll.ExecuteNonQueryAsync(cancellationToken);
        }

        var at = clock.GetUtcNow();
        var agent = (await PrincipalStore.FindAsync(work.Connection, work.Transaction, agentId, cancellationToken))!;
        await work.EnqueueAsync(agent.Changed("disabled", actor, at), cancellationToken);
        await work.EnqueueAsync(new PrincipalRevoked(agentId, null, reason, actor, at), cancellationToken);
        await work.CommitAsync(cancellationToken);
        revocations.Revoke(agentId, at);
        return WriteResult<Principal>.Done(agent);
    }

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
        await using (var grant = work.Command("""
            insert into role_bindings (principal_id, binding, granted_by, source) values ($1, $2, $3, 'direct')
            on conflict (principal_id, binding, source) where revoked_at is null do nothing
            """).With(principalId, text, actor))
        {
            if (await grant.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return WriteResult<Principal>.Conflict("Already granted", $"'{principalId}' already holds '{text}' directly.");
            }
        }

        await work.EnqueueAsync(new RoleBindingChanged(principalId, text, true, actor, clock.GetUtcNow()), cancellationToken);
        var principal = (await PrincipalStore.FindAsync(work.Connection, work.Transaction, principalId, cancellationToken))!;
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
        await using (var held = work.Command("select source from role_bindings where principal_id = $1 and binding = $2 and revoked_at is null").With(principalId, text))
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

        await using (var revoke = work.Command("""
            update role_bindings set revoked_at = now(), revoked_by = $3 where principal_id = $1 and binding = $2 and source = 'direct' and revoked_at is null
            """).With(principalId, text, actor))
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

        var principal = (await PrincipalStore.FindAsync(work.Connection, work.Transaction, principalId, cancellationToken))!;
        await work.CommitAsync(cancellationToken);
        if (!stillHeld)
        {
            revocations.Revoke(principalId, at);
        }

        return WriteResult<Principal>.Done(principal);
    }

    /// <summary>Seeds a principal: creates or updates it and makes its direct bindings exactly the seed's. Events only for real changes.</summary>
    public async Task UpsertSeedAsync(Principal principal, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        // The seed is the operator's own configuration: it may give any binding (the APIs refuse approval roles to agents).
        var bindings = principal.Bindings.Select(Normalize).Distinct(StringComparer.Ordinal).ToList();
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        await LockIdAsync(work, principal.Id, cancellationToken);
        var before = await PrincipalStore.FindAsync(work.Connection, work.Transaction, principal.Id, cancellationToken);
        await using (var upsert = work.Command("""
            insert into principals (id, kind, display_name, email, sponsor_id, fleet, allowed_environments, allowed_action_kinds, created_by)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            on conflict (id) do update set display_name = excluded.display_name, email = excluded.email, sponsor_id = excluded.sponsor_id,
                fleet = excluded.fleet, allowed_environments = excluded.allowed_environments, allowed_action_kinds = excluded.allowed_action_kinds
            """).With(principal.Id, principal.KindName, principal.DisplayName, principal.Email, principal.SponsorId, principal.Fleet,
                principal.AllowedEnvironments.ToArray(), principal.AllowedActionKinds.ToArray(), actor))
        {
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        var at = clock.GetUtcNow();
        var change = before is null ? "registered" : SameFacts(before, principal) ? null : "updated";
        await ReplaceBindingsAsync(work, principal.Id, bindings, DirectSource, actor, at, cancellationToken);
        if (change is not null)
        {
            await EnqueueChangedAsync(work, principal.Id, change, actor, at, cancellationToken);
        }

        await work.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// A human signed in through the corporate IdP: created on first sight, name and email refreshed, and the
    /// bindings granted by group mapping replaced by <paramref name="groupBindings"/> (direct ones are kept).
    /// </summary>
    public async Task<WriteResult<Principal>> SignInExternalAsync(ExternalLogin login, IReadOnlyList<string> groupBindings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(login);
        var actor = "idp:" + login.Issuer;
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        await LockIdAsync(work, login.Id, cancellationToken);
        string? linkedSubject = null;
        var exists = false;
        await using (var existing = work.Command("select kind, disabled_at is not null, external_issuer, external_subject from principals where id = $1").With(login.Id))
        await using (var reader = await existing.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                exists = true;
                if (reader.GetString(0) != "human")
                {
                    return WriteResult<Principal>.Invalid("Not a human", $"'{login.Id}' is an agent; the IdP cannot sign it in.");
                }

                if (reader.GetBoolean(1))
                {
                    return WriteResult<Principal>.Conflict("Principal disabled", $"'{login.Id}' is disabled.");
                }

                linkedSubject = reader.GetNullableString(2) == login.Issuer ? reader.GetNullableString(3) : null;
            }
        }

        // A recycled address must not inherit its previous owner's bindings: the IdP subject is the anchor.
        if (linkedSubject is not null && linkedSubject != login.Subject)
        {
            return WriteResult<Principal>.Conflict("Subject mismatch", $"'{login.Id}' is linked to another subject of this IdP; an admin must resolve it.");
        }

        var before = exists ? await PrincipalStore.FindAsync(work.Connection, work.Transaction, login.Id, cancellationToken) : null;
        await using (var upsert = work.Command("""
            insert into principals (id, kind, display_name, email, external_issuer, external_subject, created_by, last_login_at)
            values ($1, 'human', $2, $3, $4, $5, $6, now())
            on conflict (id) do update set display_name = excluded.display_name, email = excluded.email,
                external_issuer = excluded.external_issuer, external_subject = excluded.external_subject, last_login_at = now()
            """).With(login.Id, login.DisplayName, login.Email, login.Issuer, login.Subject, actor))
        {
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        var at = clock.GetUtcNow();
        await ReplaceBindingsAsync(work, login.Id, groupBindings, GroupSource, actor, at, cancellationToken);
        var change = before is null ? "registered-from-idp"
            : before.DisplayName != login.DisplayName || before.Email != login.Email ? "updated-from-idp" : null;
        if (change is not null)
        {
            await EnqueueChangedAsync(work, login.Id, change, actor, at, cancellationToken);
        }

        var principal = (await PrincipalStore.FindAsync(work.Connection, work.Transaction, login.Id, cancellationToken))!;
        await work.CommitAsync(cancellationToken);
        return WriteResult<Principal>.Done(principal);
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
        await using (var revoke = work.Command($"""
            update client_credentials set revoked_at = now(), revoked_by = $4
            where principal_id = $1 and kind = $2 and {column} = $3 and revoked_at is null returning id
            """).With(agentId, kind, value, actor))
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

    private async Task ReplaceBindingsAsync(UnitOfWork work, string principalId, IReadOnlyList<string> desired, string source, string actor, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var current = new List<string>();
        await using (var read = work.Command("select binding from role_bindings where principal_id = $1 and source = $2 and revoked_at is null").With(principalId, source))
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
            await using var revoke = work.Command("""
                update role_bindings set revoked_at = now(), revoked_by = $4 where principal_id = $1 and binding = $2 and source = $3 and revoked_at is null
                """).With(principalId, binding, source, actor);
            await revoke.ExecuteNonQueryAsync(cancellationToken);
            await work.EnqueueAsync(new RoleBindingChanged(principalId, binding, false, actor, at), cancellationToken);
        }

        foreach (var binding in diff.Grant)
        {
            await using var grant = work.Command("insert into role_bindings (principal_id, binding, granted_by, source) values ($1, $2, $3, $4)")
                .With(principalId, binding, actor, source);
            await grant.ExecuteNonQueryAsync(cancellationToken);
            await work.EnqueueAsync(new RoleBindingChanged(principalId, binding, true, actor, at), cancellationToken);
        }
    }

    private static async Task EnqueueChangedAsync(UnitOfWork work, string principalId, string change, string actor, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var principal = (await PrincipalStore.FindAsync(work.Connection, work.Transaction, principalId, cancellationToken))!;
        await work.EnqueueAsync(principal.Changed(change, actor, at), cancellationToken);
    }

    private static async Task<bool> InsertSecretAsync(UnitOfWork work, string agentId, string credentialId, string secret, string actor, CancellationToken cancellationToken)
    {
        var (salt, hash) = SecretHasher.Hash(secret);
        await using var insert = work.Command("""
            insert into client_credentials (id, principal_id, kind, secret_salt, secret_hash, created_by)
            values ($1, $2, 'secret', $3, $4, $5) on conflict (id) do nothing
            """).With(credentialId, agentId, salt, hash, actor);
        return await insert.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static async Task<long> CountLiveAsync(UnitOfWork work, string agentId, string kind, CancellationToken cancellationToken)
    {
        await using var count = work.Command("select count(*) from client_credentials where principal_id = $1 and kind = $2 and revoked_at is null").With(agentId, kind);
        return (long)(await count.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<long> CountOtherAdminsAsync(UnitOfWork work, string principalId, CancellationToken cancellationToken)
    {
        await using var count = work.Command("""
            select count(distinct b.principal_id) from role_bindings b join principals p on p.id = b.principal_id
            where b.binding = 'admin' and b.revoked_at is null and p.disabled_at is null and b.principal_id <> $1
            """).With(principalId);
        return (long)(await count.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Row-locks a principal for the rest of the transaction; null when it does not exist.</summary>
    private static async Task<(string Kind, bool Disabled)?> LockPrincipalAsync(UnitOfWork work, string principalId, CancellationToken cancellationToken)
    {
        await using var command = work.Command("select kind, disabled_at is not null from principals where id = $1 for update").With(principalId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.GetBoolean(1)) : null;
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

    /// <summary>Serializes upserts of one id (a row lock cannot lock a row that does not exist yet).</summary>
    private static async Task LockIdAsync(UnitOfWork work, string id, CancellationToken cancellationToken)
    {
        await using var command = work.Command("select pg_advisory_xact_lock(hashtextextended($1, 42))").With(id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static bool SameFacts(Principal a, Principal b) =>
        a.DisplayName == b.DisplayName && a.Email == b.Email && a.SponsorId == b.SponsorId && a.Fleet == b.Fleet &&
        a.AllowedEnvironments.SequenceEqual(b.AllowedEnvironments, StringComparer.Ordinal) &&
        a.AllowedActionKinds.SequenceEqual(b.AllowedActionKinds, StringComparer.Ordinal);

    private static string Normalize(string text) => RoleBinding.TryParse(text, out var binding)
        ? binding.ToString()
        : throw new ArgumentException($"'{text}' is not a role binding (role, or role@environment:x, role@node:x, role@team:x).", nameof(text));
}
