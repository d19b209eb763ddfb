using ControlPlane.Identity.Seeding;

namespace ControlPlane.Testing;

/// <summary>
/// One ControlPlane service under test with what it needs around it: its own vhost and database, the real identity
/// service seeded with the test's principals, and a <see cref="TestBus"/> that publishes like the other services and
/// records what this one publishes. Started ready: /health answers 200 before the test bus subscribes.
/// </summary>
public sealed class ServiceUnderTest<TEntryPoint> : IAsyncDisposable where TEntryPoint : class
{
    private ServiceUnderTest(string audience) => Audience = audience;

    /// <summary>The service's name, which is also the audience of its tokens (e.g. "policy").</summary>
    public string Audience { get; }

    public TestVirtualHost Vhost { get; private set; } = null!;
    public TestIdentity Identity { get; private set; } = null!;
    public TestDatabase Database { get; private set; } = null!;
    public IReadOnlyDictionary<string, string?> Settings { get; private set; } = null!;
    public ServiceHost<TEntryPoint> Host { get; private set; } = null!;
    public TestBus Bus { get; private set; } = null!;

    public static async Task<ServiceUnderTest<TEntryPoint>> StartAsync(string audience, string databaseName, IdentitySeed principals,
        Action<TestBus.Observations> observe, Action<PlaneSettings>? configure = null)
    {
        var plane = new ServiceUnderTest<TEntryPoint>(audience);
        plane.Vhost = await TestVirtualHost.CreateAsync(audience);
        plane.Identity = await TestIdentity.StartAsync(plane.Vhost, principals);
        plane.Database = await TestDatabase.CreateAsync(audience);
        var settings = new PlaneSettings(plane.Vhost, PlaneSettings.NewRedisPrefix())
            .Database(databaseName, plane.Database.ConnectionString)
            .Service("identity", plane.Identity.Address);
        configure?.Invoke(settings);
        plane.Settings = settings.Build();
        plane.Host = new ServiceHost<TEntryPoint>(plane.Settings);
        await plane.Host.WaitUntilReadyAsync();
        plane.Bus = await TestBus.StartAsync(plane.Vhost, observe);
        return plane;
    }

    /// <summary>A client on the service's real port with a token of a seeded human for this service.</summary>
    public async Task<HttpClient> ClientAsync(string principal) => Host.CreateHttpClient(await Identity.HumanTokenAsync(principal, Audience));

    /// <summary>A count (or any bigint) read from the service's database.</summary>
    public async Task<long> CountAsync(string sql)
    {
        await using var dataSource = Database.OpenDataSource();
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Waits until the consumers of <paramref name="queue"/> acknowledged <paramref name="deliveries"/> more deliveries than
    /// <paramref name="acknowledgedBefore"/> and the service's outbox is empty, then a moment for the relay: after that, a
    /// message the deliveries caused has been published, so counting what arrived is final.
    /// </summary>
    public async Task WaitUntilSettledAsync(string queue, long acknowledgedBefore, int deliveries, TimeSpan timeout)
    {
        await Eventually.UntilAsync(async () => await Vhost.AcknowledgedAsync(queue) >= acknowledgedBefore + deliveries, timeout,
            $"{deliveries} deliveries on {queue} handled");
        await Eventually.UntilAsync(async () => await CountAsync("select count(*) from outbox_messages where sent_at is null") == 0, timeout, "the outbox to drain");
        await Task.Delay(TimeSpan.FromSeconds(1));
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Bus.DisposeAsync();
        await Identity.DisposeAsync();
        await Database.DisposeAsync();
        await Vhost.DisposeAsync();
    }
}
