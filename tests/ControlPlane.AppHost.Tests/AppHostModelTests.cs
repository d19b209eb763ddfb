using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using ControlPlane.AppHost;

namespace ControlPlane.AppHost.Tests;

/// <summary>The AppHost's model in both kinds of machine, built without starting anything.</summary>
public sealed class AppHostModelTests
{
    private static readonly string[] Plane =
        ["identity", "system-graph", "policy", "orchestrator", "fleet", "evidence", "console", "witness", "runner-testing-1", "runner-remediation-1"];

    [Fact]
    public async Task With_containers_the_servers_are_containers()
    {
        var resources = await ModelAsync("containers");

        var containers = resources.OfType<ContainerResource>().Select(r => r.Name).Order().ToArray();
        Assert.Equal(["cache", "messaging", "postgres"], containers);
        Assert.Equal(Servers.DatabaseNames.Order(), resources.OfType<PostgresDatabaseResource>().Select(d => d.Name).Order());
        Assert.Equal(Plane.Order(), resources.OfType<ProjectResource>().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task Without_containers_no_container_resource_exists_and_the_local_servers_are_connection_strings()
    {
        var resources = await ModelAsync("local");

        Assert.Empty(resources.OfType<ContainerResource>());
        string[] servers = ["messaging", "cache", .. Servers.DatabaseNames];
        Assert.Equal(servers.Order(), resources.OfType<ConnectionStringResource>().Select(c => c.Name).Order());
        // Each local server has a health check of its own, so WaitFor holds the services until it answers.
        Assert.All(resources.OfType<ConnectionStringResource>(), c => Assert.Single(c.Annotations.OfType<HealthCheckAnnotation>()));
        Assert.Equal(Plane.Order(), resources.OfType<ProjectResource>().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task Every_service_and_runner_keeps_its_fixed_local_port_without_a_proxy()
    {
        var resources = await ModelAsync("local");

        var ports = resources.OfType<ProjectResource>().ToDictionary(
            p => p.Name, p => p.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http"));
        Assert.All(ports, p => Assert.Equal((LocalPorts.Defaults[p.Key], false), (p.Value.Port!.Value, p.Value.IsProxied)));
    }

    [Theory]
    [InlineData(null, true, ServerMode.Containers)]
    [InlineData(null, false, ServerMode.Local)]
    [InlineData("auto", false, ServerMode.Local)]
    [InlineData("Local", true, ServerMode.Local)]
    [InlineData("containers", false, ServerMode.Containers)]
    public void The_mode_is_the_switch_or_else_whether_a_container_runtime_answers(string? configured, bool runtimeAnswers, ServerMode expected) =>
        Assert.Equal(expected, Servers.ChooseMode(configured, () => runtimeAnswers));

    [Fact]
    public void An_unknown_mode_names_the_choices()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Servers.ChooseMode("kubernetes", () => false));
        Assert.Contains("auto, containers or local", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("amqp://guest:guest@127.0.0.1:5672", "127.0.0.1", 5672)]
    [InlineData("amqp://u:p@broker", "broker", 5672)]
    [InlineData("Host=db.local;Port=5433;Username=postgres;Database=x", "db.local", 5433)]
    [InlineData("127.0.0.1:6380,password=secret", "127.0.0.1", 6380)]
    public void A_local_servers_address_is_read_from_its_connection_string(string connectionString, string host, int port) =>
        Assert.Equal((host, port), LocalEndpoint.Parse(connectionString));

    private static async Task<IReadOnlyList<IResource>> ModelAsync(string mode)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ControlPlane_AppHost>(
            [$"--{Servers.ModeKey}={mode}", "--Parameters:identity-key-encryption-key=x", "--Parameters:fleet-key-encryption-key=x",
             "--Parameters:evidence-key-encryption-key=x", "--Parameters:orchestrator-key-encryption-key=x"], TestContext.Current.CancellationToken);
        await using (builder)
        {
            return [.. builder.Resources];
        }
    }
}
