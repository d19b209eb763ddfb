using System.Globalization;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Policy.Bundles;
using ControlPlane.ServiceDefaults.Data;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Policy.Data;

public sealed record StoredBundle(string Hash, long Version, string Yaml, string UploadedBy, DateTimeOffset UploadedAt);

public sealed record ActiveBundle(StoredBundle Bundle, long ActivationId, string ActivatedBy, DateTimeOffset ActivatedAt);

/// <summary>What storing a bundle did: Created is false when that content was stored before (same hash).</summary>
public sealed record BundleSave(string Hash, long Version, bool Created, bool Activated);

public sealed record BundleSummary(string Hash, long Version, string UploadedBy, DateTimeOffset UploadedAt, bool Active);

/// <summary>
/// policy-db: bundles (versioned, content-hashed), activations, decisions. Storing and activating take one
/// transaction-scoped advisory lock so versions are gapless and two activations cannot interleave; activation
/// enqueues <see cref="PolicyBundleActivated"/> in the same transaction.
/// </summary>
public sealed class PolicyStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    private const long BundleLockKey = 0x506F6C696379; // "Policy"

    private const string ActiveQuery = """
        select b.hash, b.version, b.yaml, b.uploaded_by, b.uploaded_at, a.id, a.activated_by, a.activated_at
        from policy_activations a join policy_bundles b on b.hash = a.bundle_hash
        order by a.id desc limit 1
        """;

    /// <summary>Stores the bundle when its content is new and, when asked, makes it the active one.</summary>
    public async Task<BundleSave> SaveAsync(PolicyBundle bundle, string yaml, string actor, bool activate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        await LockAsync(work, cancellationToken);
        var save = await SaveInAsync(work, bundle, yaml, actor, activate, cancellationToken);
        await work.CommitAsync(cancellationToken);
        return save;
    }

    /// <summary>Activates a stored bundle; null when no bundle has that hash.</summary>
    public async Task<BundleSave?> ActivateAsync(string hash, string actor, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        await LockAsync(work, cancellationToken);
        await using var find = await work.CommandAsync("select version from policy_bundles where hash = $1");
        find.Parameters.Add(new() { Value = hash });
        if (await find.ExecuteScalarAsync(cancellationToken) is not long version)
        {
            return null;
        }

        var activated = await ActivateInAsync(work, hash, version, actor, cancellationToken);
        await work.CommitAsync(cancellationToken);
        return new BundleSave(hash, version, false, activated);
    }

    /// <summary>At first start: stores and activates <paramref name="bundle"/> when no bundle was ever activated. True when it did.</summary>
    public async Task<bool> ActivateIfNoneEverAsync(PolicyBundle bundle, string yaml, string actor, CancellationToken cancellationToken)
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        await LockAsync(work, cancellationToken);
        await using (var any = await work.CommandAsync("select exists (select 1 from policy_activations)"))
        {
            if (await any.ExecuteScalarAsync(cancellationToken) is true)
            {
                return false;
            }
        }

        await SaveInAsync(work, bundle, yaml, actor, activate: true, cancellationToken);
        await work.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<ActiveBundle?> GetActiveAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ActiveQuery);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ActiveBundle(ReadBundle(reader), reader.GetInt64(5), reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7))
            : null;
    }

    /// <summary>The id of the latest activation (0 when none): cheap enough to ask before every decision.</summary>
    public async Task<long> LatestActivationIdAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select coalesce(max(id), 0) from policy_activations");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<StoredBundle?> GetAsync(string hash, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select hash, version, yaml, uploaded_by, uploaded_at from policy_bundles where hash = $1");
        command.Parameters.Add(new() { Value = hash });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadBundle(reader) : null;
    }

    public async Task<IReadOnlyList<BundleSummary>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select b.hash, b.version, b.uploaded_by, b.uploaded_at,
                   b.hash = (select bundle_hash from policy_activations order by id desc limit 1)
            from policy_bundles b order by b.version desc
            """);
        var bundles = new List<BundleSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            bundles.Add(new BundleSummary(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                !reader.IsDBNull(4) && reader.GetBoolean(4)));
        }

        return bundles;
    }

    /// <summary>Records a decision in the consumer's unit of work (with its inbox row and outgoing message); held back with its other writes.</summary>
    public static void RecordDecision(UnitOfWork work, Guid proposalId, string contentHash, long graphVersion, PolicyDecision decision)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(decision);
        var insert = work.Defer("""
            insert into policy_decisions (proposal_id, content_hash, graph_version, bundle_hash, outcome, decision, decided_at)
            values ($1, $2, $3, $4, $5, $6, $7)
            """);
        insert.Parameters.Add(new() { Value = proposalId });
        insert.Parameters.Add(new() { Value = contentHash });
        insert.Parameters.Add(new() { Value = graphVersion });
        insert.Parameters.Add(new() { Value = decision.BundleHash });
        insert.Parameters.Add(new() { Value = JsonSerializer.SerializeToElement(decision.Outcome, ContractJson.Options).GetString()! });
        insert.Parameters.Add(new() { Value = JsonSerializer.Serialize(decision, ContractJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new() { Value = decision.DecidedAt });
    }

    private async Task<BundleSave> SaveInAsync(UnitOfWork work, PolicyBundle bundle, string yaml, string actor, bool activate, CancellationToken cancellationToken)
    {
        var hash = CompiledPolicy.HashOf(bundle);
        long version;
        var created = false;
        await using (var find = await work.CommandAsync("select version from policy_bundles where hash = $1"))
        {
            find.Parameters.Add(new() { Value = hash });
            if (await find.ExecuteScalarAsync(cancellationToken) is long existing)
            {
                version = existing;
            }
            else
            {
                await using var next = await work.CommandAsync("select coalesce(max(version), 0) + 1 from policy_bundles");
                version = (long)(await next.ExecuteScalarAsync(cancellationToken))!;
                await using var insert = await work.CommandAsync("""
                    insert into policy_bundles (hash, version, yaml, canonical, uploaded_by, uploaded_at) values ($1, $2, $3, $4, $5, $6)
                    """);
                insert.Parameters.Add(new() { Value = hash });
                insert.Parameters.Add(new() { Value = version });
                insert.Parameters.Add(new() { Value = yaml });
                insert.Parameters.Add(new() { Value = CanonicalJson.ToText(bundle), NpgsqlDbType = NpgsqlDbType.Jsonb });
                insert.Parameters.Add(new() { Value = actor });
                insert.Parameters.Add(new() { Value = time.GetUtcNow() });
                await insert.ExecuteNonQueryAsync(cancellationToken);
                created = true;
            }
        }

        var activated = activate && await ActivateInAsync(work, hash, version, actor, cancellationToken);
        return new BundleSave(hash, version, created, activated);
    }

    /// <summary>Adds an activation unless the bundle already is the active one; false when it was.</summary>
    private async Task<bool> ActivateInAsync(UnitOfWork work, string hash, long version, string actor, CancellationToken cancellationToken)
    {
        await using (var current = await work.CommandAsync("select bundle_hash from policy_activations order by id desc limit 1"))
        {
            if (await current.ExecuteScalarAsync(cancellationToken) is string active && active == hash)
            {
                return false;
            }
        }

        var at = time.GetUtcNow();
        await using (var insert = await work.CommandAsync("insert into policy_activations (bundle_hash, activated_by, activated_at) values ($1, $2, $3)"))
        {
            insert.Parameters.Add(new() { Value = hash });
            insert.Parameters.Add(new() { Value = actor });
            insert.Parameters.Add(new() { Value = at });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await work.EnqueueAsync(new PolicyBundleActivated(hash, VersionText(version), actor, at), cancellationToken);
        return true;
    }

    public static string VersionText(long version) => version.ToString(CultureInfo.InvariantCulture);

    private static async Task LockAsync(UnitOfWork work, CancellationToken cancellationToken)
    {
        await using var command = await work.CommandAsync($"select pg_advisory_xact_lock({BundleLockKey})");
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static StoredBundle ReadBundle(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4));
}
