using System.Security.Cryptography;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Identity.Tokens;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Identity.Keys;

/// <summary>An ES256 key identity signs tokens with; Kid is the RFC 7638 thumbprint of its public JWK.</summary>
public sealed record SigningKey(string Kid, ECDsa Key, DateTimeOffset CreatedAt, DateTimeOffset? ActivatedAt, DateTimeOffset? RetiredAt, DateTimeOffset? PublishUntil)
{
    public ECDsaSecurityKey SecurityKey { get; } = new(Key) { KeyId = Kid };

    public PublicJwk PublicJwk => PublicJwk.From(Kid, Key);

    public bool IsActive => ActivatedAt is not null && RetiredAt is null;

    public string State => RetiredAt is not null ? "retired" : ActivatedAt is null ? "pending" : "active";
}

/// <summary>The public half as published in JWKS.</summary>
public sealed record PublicJwk(string Kty, string Crv, string X, string Y, string Kid, string Use, string Alg)
{
    public static PublicJwk From(string kid, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var p = key.ExportParameters(includePrivateParameters: false);
        return new PublicJwk("EC", "P-256", Base64UrlEncoder.Encode(p.Q.X), Base64UrlEncoder.Encode(p.Q.Y), kid, "sig", "ES256");
    }

    /// <summary>RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.</summary>
    public static string Thumbprint(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var p = key.ExportParameters(includePrivateParameters: false);
        return Thumbprint(Base64UrlEncoder.Encode(p.Q.X), Base64UrlEncoder.Encode(p.Q.Y));
    }

    public static string Thumbprint(string x, string y)
    {
        var canonical = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{x}\",\"y\":\"{y}\"}}";
        return Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical)));
    }
}

/// <summary>A rotation that happened: the key that signs now and the one that retired (published until when).</summary>
public sealed record KeyRotation(string Kid, string? PreviousKid, DateTimeOffset? PreviousPublishedUntil, DateTimeOffset At);

/// <summary>
/// Keeps identity's signing keys in identity-db: creates the first one, serves the active key for signing and
/// every key that may still have live tokens (or is about to sign) for JWKS, and rotates. Every change runs
/// under one advisory lock, so replicas never rotate twice, and records its events through the outbox.
/// Cached for <see cref="TokenSettings.KeyCacheDuration"/>, and never past the moment a retired key leaves JWKS.
/// </summary>
public sealed class SigningKeyStore(NpgsqlDataSource dataSource, KeyProtector protector, TimeProvider clock, TokenSettings settings)
{
    public const string Owner = "identity";
    public const string ScheduledRotationActor = "system:key-rotation";
    private const long LockKey = 7364836;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyList<SigningKey> _keys = [];
    private static readonly TimeSpan MinReloadGap = TimeSpan.FromSeconds(10);
    private DateTimeOffset _validUntil = DateTimeOffset.MinValue;
    private DateTimeOffset _lastRequestedReload = DateTimeOffset.MinValue;

    /// <summary>Published keys: the active one first, then the next (pending) one, then retired ones whose tokens may still live.</summary>
    public async Task<IReadOnlyList<SigningKey>> GetKeysAsync(CancellationToken cancellationToken)
    {
        if (clock.GetUtcNow() < _validUntil && _keys.Count > 0)
        {
            return _keys;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (clock.GetUtcNow() >= _validUntil || _keys.Count == 0)
            {
                _keys = await LoadAsync(cancellationToken);
                var firstExpiry = _keys.Where(k => k.PublishUntil is not null).Select(k => k.PublishUntil!.Value).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
                var cacheEnd = clock.GetUtcNow() + settings.KeyCacheDuration;
                _validUntil = firstExpiry < cacheEnd ? firstExpiry : cacheEnd;
            }

            return _keys;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<SigningKey> GetActiveAsync(CancellationToken cancellationToken)
    {
        var keys = await GetKeysAsync(cancellationToken);
        return keys.FirstOrDefault(k => k.IsActive)
            ?? throw new InvalidOperationException("identity has no active signing key; it creates one at start.");
    }

    /// <summary>Refuses to go on (with the way out) when the stored keys do not open with the configured key-encryption key.</summary>
    public Task VerifyStoredKeysAsync(CancellationToken cancellationToken) =>
        protector.VerifyStoredKeysAsync(dataSource, "signing_keys", "kid", cancellationToken);

    /// <summary>At start: makes sure one key signs (promotes a published next key, else creates one).</summary>
    public async Task EnsureActiveKeyAsync(CancellationToken cancellationToken)
    {
        await using var work = await LockedAsync(cancellationToken);
        var state = await ReadStateAsync(work, cancellationToken);
        if (state.Active is not null)
        {
            return;
        }

        if (state.Pending is { } pending)
        {
            await ActivateAsync(work, pending.Kid, cancellationToken);
        }
        else
        {
            await InsertKeyAsync(work, active: true, state.Now, cancellationToken);
        }

        await work.CommitAsync(cancellationToken);
        Invalidate();
    }

    /// <summary>
    /// Rotates now (an admin asked): a fresh key signs from this moment; the previous one stays published until
    /// its last token has expired. A published next key is dropped: it never signed, and a rotation on demand
    /// usually means the keys are distrusted.
    /// </summary>
    public async Task<KeyRotation> RotateAsync(string actor, CancellationToken cancellationToken)
    {
        await using var work = await LockedAsync(cancellationToken);
        var state = await ReadStateAsync(work, cancellationToken);
        await using (var dropPending = await work.CommandAsync("update signing_keys set retired_at = now(), publish_until = now() where activated_at is null and retired_at is null"))
        {
            await dropPending.ExecuteNonQueryAsync(cancellationToken);
        }

        var until = await RetireActiveAsync(work, cancellationToken);
        var kid = await InsertKeyAsync(work, active: true, state.Now, cancellationToken);
        var rotation = new KeyRotation(kid, state.Active?.Kid, until, state.Now);
        await work.EnqueueAsync(new SigningKeyRotated(Owner, kid, rotation.PreviousKid, until, actor, state.Now), cancellationToken);
        await work.CommitAsync(cancellationToken);
        Invalidate();
        return rotation;
    }

    /// <summary>The scheduled rotation: publishes the next key ahead of time, then promotes it when due.</summary>
    public async Task<KeyScheduleStep> RotateIfDueAsync(CancellationToken cancellationToken)
    {
        await using var work = await LockedAsync(cancellationToken);
        var state = await ReadStateAsync(work, cancellationToken);
        var step = KeySchedule.Decide(state.Active?.Since, state.Pending?.Since, state.Now, settings);
        switch (step)
        {
            case KeyScheduleStep.PublishNext:
                await InsertKeyAsync(work, active: false, state.Now, cancellationToken);
                break;
            case KeyScheduleStep.Promote:
                var until = await RetireActiveAsync(work, cancellationToken);
                await ActivateAsync(work, state.Pending!.Kid, cancellationToken);
                await work.EnqueueAsync(new SigningKeyRotated(Owner, state.Pending.Kid, state.Active?.Kid, until, ScheduledRotationActor, state.Now), cancellationToken);
                break;
            default:
                return step;
        }

        await work.CommitAsync(cancellationToken);
        Invalidate();
        return step;
    }

    /// <summary>
    /// A token named a kid this replica does not know (another replica may have rotated): read the keys again at
    /// the next use, at most every 10 s, so made-up kids cannot turn into a database read per request.
    /// </summary>
    public void RequestReload()
    {
        var now = clock.GetUtcNow();
        if (now - _lastRequestedReload >= MinReloadGap)
        {
            _lastRequestedReload = now;
            Invalidate();
        }
    }

    private void Invalidate() => _validUntil = DateTimeOffset.MinValue;

    private sealed record KeyRow(string Kid, DateTimeOffset Since);

    private sealed record KeyState(KeyRow? Active, KeyRow? Pending, DateTimeOffset Now);

    private async Task<UnitOfWork> LockedAsync(CancellationToken cancellationToken)
    {
        var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        try
        {
            await using var lockCommand = await work.CommandAsync($"select pg_advisory_xact_lock({LockKey})");
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            return work;
        }
        catch
        {
            await work.DisposeAsync();
            throw;
        }
    }

    private static async Task<KeyState> ReadStateAsync(UnitOfWork work, CancellationToken cancellationToken)
    {
        // The database's clock decides, so replicas with skewed clocks agree on the schedule.
        DateTimeOffset now;
        await using (var clockCommand = await work.CommandAsync("select now()"))
        {
            now = AsUtc(await clockCommand.ExecuteScalarAsync(cancellationToken)) ?? throw new InvalidOperationException("PostgreSQL returned no time.");
        }

        await using var command = await work.CommandAsync("""
            select kid, created_at, activated_at from signing_keys where retired_at is null
            order by activated_at desc nulls last, created_at
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        KeyRow? active = null;
        KeyRow? pending = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!reader.IsDBNull(2))
            {
                active ??= new KeyRow(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(2));
            }
            else
            {
                pending ??= new KeyRow(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1));
            }
        }

        return new KeyState(active, pending, now);
    }

    private static DateTimeOffset? AsUtc(object? value) => value is DateTime utc ? new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)) : null;

    /// <summary>Retires whatever signs now; returns until when it stays published.</summary>
    private async Task<DateTimeOffset?> RetireActiveAsync(UnitOfWork work, CancellationToken cancellationToken)
    {
        await using var retire = await work.CommandAsync("""
            update signing_keys set retired_at = now(), publish_until = now() + $1
            where activated_at is not null and retired_at is null returning publish_until
            """);
        retire.Parameters.Add(new() { Value = settings.RetiredKeyRetention });
        return AsUtc(await retire.ExecuteScalarAsync(cancellationToken));
    }

    private static async Task ActivateAsync(UnitOfWork work, string kid, CancellationToken cancellationToken)
    {
        await using var activate = await work.CommandAsync("update signing_keys set activated_at = now() where kid = $1");
        activate.Parameters.Add(new() { Value = kid });
        await activate.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<string> InsertKeyAsync(UnitOfWork work, bool active, DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var kid = PublicJwk.Thumbprint(key);
        await using (var insert = await work.CommandAsync("""
            insert into signing_keys (kid, algorithm, public_jwk, protected_private_key, activated_at)
            values ($1, 'ES256', $2, $3, case when $4 then now() end)
            """))
        {
            insert.Parameters.Add(new() { Value = kid });
            insert.Parameters.Add(new() { Value = JsonSerializer.Serialize(PublicJwk.From(kid, key)), NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new() { Value = protector.Protect(key.ExportPkcs8PrivateKey()) });
            insert.Parameters.Add(new() { Value = active });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        // Evidence keeps every key that ever signed a token, so old tokens stay verifiable offline.
        await work.EnqueueAsync(new SigningKeyPublished(Owner, "token-issuer", kid, Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()), now), cancellationToken);
        return kid;
    }

    private async Task<IReadOnlyList<SigningKey>> LoadAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select kid, protected_private_key, created_at, activated_at, retired_at, publish_until from signing_keys
            where retired_at is null or publish_until > now()
            order by retired_at desc nulls first, activated_at desc nulls last, created_at desc
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<SigningKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var ecdsa = ECDsa.Create();
            ecdsa.ImportPkcs8PrivateKey(protector.Unprotect((byte[])reader[1]), out _);
            keys.Add(new SigningKey(reader.GetString(0), ecdsa, reader.GetFieldValue<DateTimeOffset>(2), Nullable(reader, 3), Nullable(reader, 4), Nullable(reader, 5)));
        }

        return keys;
    }

    private static DateTimeOffset? Nullable(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
