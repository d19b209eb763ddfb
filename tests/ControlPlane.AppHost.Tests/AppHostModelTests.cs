using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using ControlPlane.AppHost;
using Microsoft.Extensions.DependencyInjection;

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

    [Fact]
    public async Task Load_run_settings_reach_every_project_as_the_opentelemetry_sdks_variables_and_without_them_aspires_stand()
    {
        var tuned = await EnvironmentsAsync($"--{LoadRunTelemetry.TraceSampleRatioKey}=0.1", $"--{LoadRunTelemetry.MetricExportSecondsKey}=10");
        var plain = await EnvironmentsAsync();

        Assert.Equal(Plane.Order(), tuned.Keys.Order());
        Assert.All(tuned.Values, environment =>
        {
            Assert.Equal("parentbased_traceidratio", environment["OTEL_TRACES_SAMPLER"]);
            Assert.Equal("0.1", environment["OTEL_TRACES_SAMPLER_ARG"]);
            Assert.Equal("10000", environment["OTEL_METRIC_EXPORT_INTERVAL"]);
        });
        // Aspire's own: every trace, metrics each second.
        Assert.All(plain.Values, environment =>
        {
            Assert.Equal("always_on", environment["OTEL_TRACES_SAMPLER"]);
            Assert.Equal("1000", environment["OTEL_METRIC_EXPORT_INTERVAL"]);
        });
    }

    [Fact]
    public async Task Every_project_gets_two_malloc_arenas_unless_the_apphost_is_given_another_number()
    {
        var plain = await EnvironmentsAsync();
        var given = await EnvironmentsAsync($"--{NativeHeap.ArenaMaxKey}=4");

        Assert.Equal(Plane.Order(), plain.Keys.Order());
        Assert.All(plain.Values, environment => Assert.Equal("2", environment[NativeHeap.ArenaMaxKey]));
        Assert.All(given.Values, environment => Assert.Equal("4", environment[NativeHeap.ArenaMaxKey]));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("two")]
    public async Task An_arena_count_it_cannot_read_stops_the_apphost(string value)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ModelAsync("local", $"--{NativeHeap.ArenaMaxKey}={value}"));
        Assert.Contains("from 1 to 1024", MessageOf(error), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TraceSampleRatio", "1.5", "from 0 to 1")]
    [InlineData("TraceSampleRatio", "a tenth", "from 0 to 1")]
    [InlineData("MetricExportSeconds", "0", "from 1 to 3600")]
    [InlineData("MetricExportSeconds", "2.5", "from 1 to 3600")]
    public async Task A_load_run_setting_it_cannot_read_stops_the_apphost_with_the_range_it_takes(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ModelAsync("local", $"--ControlPlane:{key}={value}"));
        Assert.Contains(expected, MessageOf(error), StringComparison.Ordinal);
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

    private static async Task<IReadOnlyList<IResource>> ModelAsync(string mode, params string[] settings)
    {
        var builder = await BuilderAsync(mode, settings);
        await using (builder)
        {
            return [.. builder.Resources];
        }
    }

    /// <summary>The AppHost's own error, wherever building the model wrapped it.</summary>
    private static string MessageOf(Exception error) =>
        error is AggregateException aggregate ? aggregate.Flatten().InnerExceptions[0].Message : error.InnerException?.Message ?? error.Message;

    // Each project's environment as its callbacks write it (Aspire's, then ours), in the order DCP applies them; only
    // plain values, so nothing waits for endpoints that a model which never starts does not allocate.
    private static async Task<Dictionary<string, Dictionary<string, string>>> EnvironmentsAsync(params string[] settings)
    {
        var builder = await BuilderAsync("local", settings);
        await using (builder)
        await using (var app = await builder.BuildAsync(TestContext.Current.CancellationToken))
        {
            var execution = app.Services.GetRequiredService<DistributedApplicationExecutionContext>();
            var environments = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
            foreach (var project in builder.Resources.OfType<ProjectResource>())
            {
                var context = new EnvironmentCallbackContext(execution, project, cancellationToken: TestContext.Current.CancellationToken);
                foreach (var callback in project.Annotations.OfType<EnvironmentCallbackAnnotation>())
                {
                    await callback.Callback(context);
                }

                environments[project.Name] = context.EnvironmentVariables.Where(e => e.Value is string)
                    .ToDictionary(e => e.Key, e => (string)e.Value, StringComparer.Ordinal);
            }

            return environments;
        }
    }

    private static Task<IDistributedApplicationTestingBuilder> BuilderAsync(string mode, string[] settings) =>
        DistributedApplicationTestingBuilder.CreateAsync<Projects.ControlPlane_AppHost>(
            [$"--{Servers.ModeKey}={mode}", "--Parameters:identity-key-encryption-key=x", "--Parameters:fleet-key-encryption-key=x",
             "--Parameters:evidence-key-encryption-key=x", "--Parameters:orchestrator-key-encryption-key=x", .. settings], TestContext.Current.CancellationToken);
}
