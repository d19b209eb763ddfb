using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Signing;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;
using ControlPlane.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Fleet.Tests.Integration;

/// <summary>
/// Fleet's key reaches evidence even when its first announcement was lost (published on a first deployment before
/// evidence's queue existed): every start announces the active key again, through the outbox.
/// </summary>
public sealed class SigningKeyAnnouncementTests
{
    [Fact]
    public async Task Every_start_announces_the_same_active_key_again_and_creates_no_second_key()
    {
        await using var database = await TestDatabase.CreateAsync("fleet-keys");
        await using var dataSource = database.OpenDataSource();
        await new DatabaseMigrator(dataSource, new MigrationSet(typeof(FleetService).Assembly), NullLogger<DatabaseMigrator>.Instance)
            .MigrateAsync(TestContext.Current.CancellationToken);
        var protector = new KeyProtector("test-only-key-encryption-key", "fleet-signing-keys");

        await new FleetSigningKeys(dataSource, protector, TimeProvider.System).EnsureActiveKeyAsync(TestContext.Current.CancellationToken);
        await new FleetSigningKeys(dataSource, protector, TimeProvider.System).EnsureActiveKeyAsync(TestContext.Current.CancellationToken);

        await using var announcements = dataSource.CreateCommand(
            "select body::text from outbox_messages where message_type = $1 order by id");
        announcements.Parameters.Add(new() { Value = typeof(SigningKeyPublished).FullName });
        var published = new List<SigningKeyPublished>();
        await using (var reader = await announcements.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                published.Add(JsonSerializer.Deserialize<SigningKeyPublished>(reader.GetString(0), ContractJson.Options)!);
            }
        }

        await using var keys = dataSource.CreateCommand("select count(*) from signing_keys");
        Assert.Equal(1L, await keys.ExecuteScalarAsync(TestContext.Current.CancellationToken));
        Assert.Equal(2, published.Count);
        Assert.All(published, p => Assert.Equal(("fleet", "fleet"), (p.Owner, p.OwnerKind)));
        Assert.Equal(published[0].KeyId, published[1].KeyId);
        Assert.Equal(published[0].PublicKey, published[1].PublicKey);
    }
}
