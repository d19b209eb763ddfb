using ControlPlane.ServiceDefaults.Security;
using ControlPlane.Testing;

namespace ControlPlane.ServiceDefaults.Tests.Security;

/// <summary>
/// Issue 9 item 6: a service whose stored keys do not open with the configured key-encryption key refuses to
/// start, naming the key, the database and the way out (it used to start and answer 500 on every signing request).
/// </summary>
public sealed class KeyEncryptionKeyTests
{
    public static TheoryData<string, string, string> Signers => new()
    {
        { "identity", "identity-db", "Identity:KeyEncryptionKey" },
        { "fleet", "fleet-db", "Fleet:KeyEncryptionKey" },
        { "evidence", "evidence-db", "Evidence:KeyEncryptionKey" },
    };

    [Theory]
    [MemberData(nameof(Signers))]
    public async Task A_service_started_with_another_key_encryption_key_refuses_to_start_and_says_what_to_do(string service, string connection, string kekSetting)
    {
        await using var db = await TestDatabase.CreateAsync(service);
        await using var vhost = await TestVirtualHost.CreateAsync("kek");
        IReadOnlyDictionary<string, string?> Settings(string kek) => new PlaneSettings(vhost, PlaneSettings.NewRedisPrefix())
            .Database(connection, db.ConnectionString)
            .Service("identity", new Uri("http://127.0.0.1:9"))
            .Set(kekSetting, kek)
            .Build();

        // First start creates the signing key, encrypted with the first clone's key-encryption key.
        await using (var first = Start(service, Settings("first-clone-key-encryption-key")))
        {
            await first.ReadyAsync();
        }

        await using var second = Start(service, Settings("second-clone-key-encryption-key"));
        var thrown = await Record.ExceptionAsync(second.ReadyAsync);

        var mismatch = Find<KeyEncryptionKeyMismatchException>(thrown);
        Assert.True(mismatch is not null, $"{service} should refuse to start with another key-encryption key; got {thrown?.GetType().Name ?? "a start"}: {thrown?.Message}");
        Assert.Contains(kekSetting, mismatch.Message, StringComparison.Ordinal);
        Assert.Contains(kekSetting.Replace(":", "__", StringComparison.Ordinal), mismatch.Message, StringComparison.Ordinal);
        Assert.Contains($"database '{db.Name}'", mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("Way out", mismatch.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("second-clone-key-encryption-key", mismatch.Message, StringComparison.Ordinal); // never the secret

        // The right key opens them again.
        await using var third = Start(service, Settings("first-clone-key-encryption-key"));
        await third.ReadyAsync();
    }

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (var e = exception; e is not null; e = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    private static Started Start(string service, IReadOnlyDictionary<string, string?> settings) => service switch
    {
        "identity" => new Started(new ServiceHost<ControlPlane.Identity.IdentityService>(settings)),
        "fleet" => new Started(new ServiceHost<ControlPlane.Fleet.FleetService>(settings)),
        "evidence" => new Started(new ServiceHost<ControlPlane.Evidence.EvidenceService>(settings)),
        _ => throw new ArgumentOutOfRangeException(nameof(service), service, null),
    };

    private sealed class Started(IAsyncDisposable host) : IAsyncDisposable
    {
        public Task ReadyAsync() => host switch
        {
            ServiceHost<ControlPlane.Identity.IdentityService> h => h.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)),
            ServiceHost<ControlPlane.Fleet.FleetService> h => h.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)),
            ServiceHost<ControlPlane.Evidence.EvidenceService> h => h.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)),
            _ => throw new InvalidOperationException(),
        };

        public ValueTask DisposeAsync() => host.DisposeAsync();
    }
}
