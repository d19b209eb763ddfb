using ControlPlane.EndToEnd.Tests.Support;
using ControlPlane.ServiceDefaults.Messaging;

namespace ControlPlane.EndToEnd.Tests.Messaging;

/// <summary>
/// Issue 9 item 4: PlaneTopology is the one list of consumer queues every publisher declares before it publishes.
/// With every service running, the broker shows what each one really consumes; anything not in the list would
/// lose the messages published before that consumer first started.
/// </summary>
[Collection(PlaneCollection.Name)]
public sealed class PlaneTopologyTests(Plane plane)
{
    private const string ContractsPrefix = "ControlPlane.Contracts:";

    [Fact]
    public async Task Every_consumer_of_every_service_is_in_the_plane_topology()
    {
        var temporary = await plane.Vhost.TemporaryQueueNamesAsync();
        // Consumer endpoints bind their message types' exchanges to an exchange named after their queue.
        var consumed = (await plane.Vhost.BindingsAsync())
            .Where(b => b.Source.StartsWith(ContractsPrefix, StringComparison.Ordinal) && b.DestinationType == "exchange" && !temporary.Contains(b.Destination))
            .Select(b => $"{b.Destination} <- {b.Source[ContractsPrefix.Length..]}")
            .ToHashSet(StringComparer.Ordinal);
        var listed = PlaneTopology.Bindings.Select(b => $"{b.Queue} <- {b.Message.Name}").ToHashSet(StringComparer.Ordinal);

        var missing = consumed.Except(listed).Order().ToList();
        var stale = listed.Except(consumed).Order().ToList();

        Assert.True(consumed.Count >= 20, $"the plane should consume many event types; the broker shows {consumed.Count}");
        Assert.True(missing.Count == 0, "Consumers missing from ControlPlane.ServiceDefaults/Messaging/PlaneTopology.cs (add them there): " + string.Join("; ", missing));
        Assert.True(stale.Count == 0, "PlaneTopology lists queues no running service consumes (renamed or removed consumer?): " + string.Join("; ", stale));
    }
}
