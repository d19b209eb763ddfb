using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Signing;
using ControlPlane.Fleet.Tests.Support;
using ControlPlane.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Runner.Tests.Integration;

/// <summary>
/// Fleet's plane plus the real runner "runner-a" of fleet testing, hosted in-process on the real bus, with
/// allow-listed test commands (scripts in a temp folder) and an HTTP endpoint to check.
/// </summary>
public sealed class RunnerPlane : FleetPlane
{
    public const string RunnerId = "runner-a";
    public const string CanaryVariable = "CP_TEST_CANARY_NOT_FOR_COMMANDS";

    private WebApplication? _target;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"cpt-runner-{Guid.NewGuid():N}");

    public string Scripts => Path.Combine(Root, "scripts");

    public string StateDirectory => Path.Combine(Root, "state-" + RunnerId);

    /// <summary>Where commands run: CP_STATE_DIR.</summary>
    public string Workspace => Path.Combine(StateDirectory, "workspace");

    public ServiceHost<RunnerService> Runner { get; private set; } = null!;

    public Uri Target { get; private set; } = null!;

    /// <summary>A second runner, alone in fleet observe, that reaches fleet through a TCP proxy the tests cut (started by the test that needs it).</summary>
    public const string LinkedRunnerId = "runner-k";

    protected override IEnumerable<(string Id, string Fleet)> RunnerPrincipals() => [(RunnerId, "testing"), (LinkedRunnerId, "observe")];

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Directory.CreateDirectory(Scripts);
        WriteScript("hello.sh", """printf 'hello from %s\nwork %s\n' "$CP_RUNNER_ID" "$CP_WORK_ID" """);
        WriteScript("marker.sh", """echo "$CP_WORK_ID" >> "$CP_STATE_DIR/markers.log"; echo marked""");
        WriteScript("sleepy.sh", """
            echo $$ > "$CP_STATE_DIR/sleepy-$CP_WORK_ID.pids"
            sleep 300 &
            echo $! >> "$CP_STATE_DIR/sleepy-$CP_WORK_ID.pids"
            echo started
            wait
            """);
        WriteScript("fail.sh", """echo "about to fail" >&2; exit 3""");
        // Keeps a digest of its target credential (never the token), echoes the token (the capture must cut it), and
        // holds until the test releases it, so the test can introspect while the command runs.
        WriteScript("credential.sh", """
            printf '%s' "${CP_TARGET_CREDENTIAL:-}" | sha256sum | cut -d' ' -f1 > "$CP_STATE_DIR/credential-$CP_WORK_ID.sha256"
            echo "credential: ${CP_TARGET_CREDENTIAL:-none}"
            for _ in $(seq 1 150); do [ -e "$CP_STATE_DIR/release-$CP_WORK_ID" ] && break; sleep 0.1; done
            echo released
            """);
        Environment.SetEnvironmentVariable(CanaryVariable, "the runner's own environment must not reach commands");
        _target = await StartTargetAsync();

        Runner = StartRunner(RunnerId, StateDirectory);
        _ = Runner.BaseAddress;
        using var admin = await ClientForAsync(Admin);
        await Eventually.UntilAsync(async () =>
        {
            using var response = await admin.GetAsync($"fleet/runners/{RunnerId}");
            return response.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(30), "runner-a to register with fleet");
    }

    public ServiceHost<RunnerService> StartRunner(string runnerId, string stateDirectory, Uri? fleet = null, string fleetName = "testing")
    {
        var settings = new PlaneSettings(VirtualHost, PlaneSettings.NewRedisPrefix())
            .Service("identity", Identity.Address)
            .Service("fleet", fleet ?? Fleet.BaseAddress)
            .Set("Runner:Id", runnerId)
            .Set("Runner:Fleet", fleetName)
            .Set("Runner:ClientSecret", TestIdentity.AgentSecret)
            .Set("Runner:StateDirectory", stateDirectory)
            .Set("Runner:BaseDirectory", Scripts)
            .Set("Runner:HeartbeatInterval", "00:00:01")
            .Set("Messaging:Retry:Transient:MinInterval", "00:00:00.500")
            .Set("Messaging:Retry:Transient:MaxInterval", "00:00:02")
            .Set("Runner:Actions:http-check:Enabled", "true")
            .Set("Runner:Actions:http-check:AllowedHosts:0", "127.0.0.1");
        void Command(string name, string executable, string? timeout = null)
        {
            settings.Set($"Runner:Actions:run-command:Commands:{name}:Executable", executable);
            settings.Set($"Runner:Actions:run-command:Commands:{name}:Timeout", timeout ?? "00:00:20");
        }

        Command("hello", "./hello.sh");
        Command("marker", "./marker.sh");
        Command("sleepy", "./sleepy.sh", "00:00:01");
        Command("fail", "./fail.sh");
        Command("credential", "./credential.sh");
        Command("print-env", "/usr/bin/env");
        settings.Set("Runner:Actions:run-command:Commands:print-env:AllowParameters:0", "message");
        settings.Set("Runner:Actions:run-command:Commands:print-env:Environment:FIXED_SETTING", "from-config");
        return new ServiceHost<RunnerService>(settings.Build());
    }

    /// <summary>The runner's registered public key, as fleet serves it.</summary>
    public async Task<(string KeyId, string PublicKey)> RunnerKeyAsync(string runnerId)
    {
        using var admin = await ClientForAsync(Admin);
        var runner = await admin.GetFromJsonAsync<JsonElement>($"fleet/runners/{runnerId}");
        return (runner.GetProperty("keyId").GetString()!, runner.GetProperty("publicKey").GetString()!);
    }

    /// <summary>Signs with fleet's real key: how the tests forge packages that pass the signature check but break another rule.</summary>
    public async Task<DsseEnvelope> SignAsFleetAsync(WorkPackage package)
    {
        var key = await Fleet.Services.GetRequiredService<FleetSigningKeys>().GetActiveAsync(CancellationToken.None);
        return Dsse.Sign(package, WorkPackage.PayloadType, key.Key, key.KeyId);
    }

    public Task DeliverAsync(Guid workId, DsseEnvelope envelope) =>
        Bus.SendAsync(DeliverWorkPackage.QueueFor(RunnerId), new DeliverWorkPackage(workId, envelope));

    /// <summary>The work ids marker.sh ran for (on runner-a, or on the runner whose state directory is given).</summary>
    public IReadOnlyList<string> Markers(string? stateDirectory = null)
    {
        var log = Path.Combine(stateDirectory ?? StateDirectory, "workspace", "markers.log");
        return File.Exists(log) ? File.ReadAllLines(log) : [];
    }

    private void WriteScript(string name, string body)
    {
        var path = Path.Combine(Scripts, name);
        File.WriteAllText(path, "#!/usr/bin/env bash\nset -u\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private async Task<WebApplication> StartTargetAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/ok", () => Results.Text("ok"));
        app.MapGet("/broken", () => Results.Text("boom", statusCode: 500));
        app.MapGet("/slow", async () =>
        {
            await Task.Delay(700);
            return Results.Text("late");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Target = new Uri(address.TrimEnd('/') + "/");
        return app;
    }

    public override async ValueTask DisposeAsync()
    {
        await Runner.DisposeAsync();
        if (_target is not null)
        {
            await _target.DisposeAsync();
        }

        await base.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }
}
