using ControlPlane.Identity.Data;
using ControlPlane.ServiceDefaults.Data;

namespace ControlPlane.Identity.Principals;

/// <summary>A human as the corporate IdP asserted them in a validated token.</summary>
public sealed record ExternalLogin(string Id, string DisplayName, string? Email, string Issuer, string Subject, IReadOnlyList<string> Groups);

/// <summary>Principals upserted by id from outside the API: the seed file, and humans signing in through the corporate IdP.</summary>
public sealed partial class PrincipalWriter
{
    /// <summary>Seeds a principal: creates or updates it and makes its direct bindings exactly the seed's. Events only for real changes.</summary>
    public async Task UpsertSeedAsync(Principal principal, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        // The seed is the operator's own configuration: it may give any binding (the APIs refuse approval roles to agents).
        var bindings = principal.Bindings.Select(Normalize).Distinct(StringComparer.Ordinal).ToList();
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        await LockIdAsync(work, principal.Id, cancellationToken);
        var before = await PrincipalStore.FindAsync(work, principal.Id, cancellationToken);
        await using (var upsert = (await work.CommandAsync("""
            insert into principals (id, kind, display_name, email, sponsor_id, fleet, allowed_environments, allowed_action_kinds, created_by)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            on conflict (id) do update set display_name = excluded.display_name, email = excluded.email, sponsor_id = excluded.sponsor_id,
                fleet = excluded.fleet, allowed_environments = excluded.allowed_environments, allowed_action_kinds = excluded.allowed_action_kinds
            """)).With(principal.Id, principal.KindName, principal.DisplayName, principal.Email, principal.SponsorId, principal.Fleet,
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
        await using (var existing = (await work.CommandAsync("select kind, disabled_at is not null, external_issuer, external_subject from principals where id = $1")).With(login.Id))
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

        var before = exists ? await PrincipalStore.FindAsync(work, login.Id, cancellationToken) : null;
        await using (var upsert = (await work.CommandAsync("""
            insert into principals (id, kind, display_name, email, external_issuer, external_subject, created_by, last_login_at)
            values ($1, 'human', $2, $3, $4, $5, $6, now())
            on conflict (id) do update set display_name = excluded.display_name, email = excluded.email,
                external_issuer = excluded.external_issuer, external_subject = excluded.external_subject, last_login_at = now()
            """)).With(login.Id, login.DisplayName, login.Email, login.Issuer, login.Subject, actor))
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

        var principal = (await PrincipalStore.FindAsync(work, login.Id, cancellationToken))!;
        await work.CommitAsync(cancellationToken);
        return WriteResult<Principal>.Done(principal);
    }

    /// <summary>Serializes upserts of one id (a row lock cannot lock a row that does not exist yet).</summary>
    private static async Task LockIdAsync(UnitOfWork work, string id, CancellationToken cancellationToken)
    {
        await using var command = (await work.CommandAsync("select pg_advisory_xact_lock(hashtextextended($1, 42))")).With(id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static bool SameFacts(Principal a, Principal b) =>
        a.DisplayName == b.DisplayName && a.Email == b.Email && a.SponsorId == b.SponsorId && a.Fleet == b.Fleet &&
        a.AllowedEnvironments.SequenceEqual(b.AllowedEnvironments, StringComparer.Ordinal) &&
        a.AllowedActionKinds.SequenceEqual(b.AllowedActionKinds, StringComparer.Ordinal);
}
