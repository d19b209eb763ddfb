using ControlPlane.Contracts;
using ControlPlane.ServiceDefaults.Data;
using Npgsql;

namespace ControlPlane.Identity.Authorization;

/// <summary>Sign-ins and sign-outs go through the outbox like every identity event, so evidence shows who used the console.</summary>
public sealed class SessionEvents(NpgsqlDataSource dataSource, TimeProvider clock)
{
    public Task SignedInAsync(string humanId, string client, CancellationToken cancellationToken) =>
        EnqueueAsync(new HumanSignedIn(humanId, client, clock.GetUtcNow()), cancellationToken);

    public Task SignedOutAsync(string humanId, string client, CancellationToken cancellationToken) =>
        EnqueueAsync(new HumanSignedOut(humanId, client, clock.GetUtcNow()), cancellationToken);

    private async Task EnqueueAsync<T>(T message, CancellationToken cancellationToken) where T : class
    {
        await using var work = await UnitOfWork.BeginAsync(dataSource, cancellationToken);
        await work.EnqueueAsync(message, cancellationToken);
        await work.CommitAsync(cancellationToken);
    }
}
