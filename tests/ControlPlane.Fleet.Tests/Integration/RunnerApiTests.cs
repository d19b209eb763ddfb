using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Tests.Support;
using ControlPlane.ServiceDefaults.Health;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ControlPlane.Fleet.Tests.Integration;

/// <summary>Registration, key rotation, heartbeats, liveness and the admin API, with real tokens from identity.</summary>
public sealed class RunnerApiTests(FleetPlane plane) : IClassFixture<FleetPlane>
{
    [Fact]
    public async Task Registering_returns_201_and_announces_the_runner_key_and_the_fleet_capabilities()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t1", "testing", "run-command", "http-check");

        var key = await plane.Bus.WaitForAsync<SigningKeyPublished>(k => k.Owner == "runner-t1", "the runner's SigningKeyPublished");
        Assert.Equal("runner", key.OwnerKind);
        Assert.Equal(runner.KeyId, key.KeyId);
        Assert.Equal(runner.Registration.PublicKey, key.PublicKey);
        var capabilities = await plane.Bus.WaitForAsync<FleetCapabilitiesChanged>(
            c => c.Fleet == "testing" && c.ActionKinds.Contains("http-check"), "testing's capabilities to include http-check");
        Assert.Contains("run-command", capabilities.ActionKinds);

        using var admin = await plane.ClientForAsync(FleetPlane.Admin);
        using var listed = await admin.GetAsync("fleet/runners?fleet=testing");
        var runners = await listed.Content.ReadFromJsonAsync<JsonElement>();
        var entry = runners.EnumerateArray().Single(r => r.GetProperty("id").GetString() == "runner-t1");
        Assert.Equal("live", entry.GetProperty("status").GetString());
        Assert.Equal(runner.KeyId, entry.GetProperty("keyId").GetString());
    }

    [Fact]
    public async Task The_first_registration_is_201_and_registering_again_with_a_new_key_rotates_it()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t2", "testing", "run-command");
        var firstKey = runner.KeyId;

        runner.NewKey();
        using var again = await runner.RegisterAsync();

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.NotEqual(firstKey, runner.KeyId);
        await plane.Bus.WaitForAsync<SigningKeyPublished>(k => k.Owner == "runner-t2" && k.KeyId == runner.KeyId, "the rotated key's SigningKeyPublished");
        Assert.Single(plane.Bus.All<SigningKeyPublished>(), k => k.Owner == "runner-t2" && k.KeyId == firstKey);
        using var admin = await plane.ClientForAsync(FleetPlane.Admin);
        var stored = await admin.GetFromJsonAsync<JsonElement>("fleet/runners/runner-t2");
        Assert.Equal(runner.KeyId, stored.GetProperty("keyId").GetString());
    }

    [Fact]
    public async Task A_token_of_another_runner_another_fleet_or_without_the_runner_role_cannot_register()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        RunnerRegistration For(string id, string fleet) => new(id, fleet, ["run-command"], SigningKeyIds.ExportPublicKey(key), SigningKeyIds.Thumbprint(key));
        using var t3 = await plane.ClientForAsync("runner-t3");
        using var proposer = await plane.ClientForAsync(FleetPlane.Proposer);
        using var anonymous = plane.Fleet.CreateHttpClient();

        using var otherRunner = await t3.PostAsJsonAsync("fleet/runners", For("runner-t4", "testing"), ContractJson.Options);
        using var otherFleet = await t3.PostAsJsonAsync("fleet/runners", For("runner-t3", "remediation"), ContractJson.Options);
        using var notARunner = await proposer.PostAsJsonAsync("fleet/runners", For(FleetPlane.Proposer, "testing"), ContractJson.Options);
        using var noToken = await anonymous.PostAsJsonAsync("fleet/runners", For("runner-t3", "testing"), ContractJson.Options);

        Assert.Equal(HttpStatusCode.Forbidden, otherRunner.StatusCode);
        Assert.Contains("is not runner 'runner-t4'", await otherRunner.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, otherFleet.StatusCode);
        Assert.Contains("not 'remediation'", await otherFleet.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, notARunner.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
    }

    [Fact]
    public async Task A_bad_registration_is_a_validation_problem_naming_each_field()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        using var t5 = await plane.ClientForAsync("runner-t5");
        using var nowhere = await plane.ClientForAsync("runner-nowhere");

        using var wrongKeyId = await t5.PostAsJsonAsync("fleet/runners",
            new RunnerRegistration("runner-t5", "testing", ["Run Command"], SigningKeyIds.ExportPublicKey(key), SigningKeyIds.Thumbprint(other)), ContractJson.Options);
        using var garbageKey = await t5.PostAsJsonAsync("fleet/runners",
            new RunnerRegistration("runner-t5", "testing", ["run-command"], "bm90IGEga2V5", "x"), ContractJson.Options);
        using var unknownFleet = await nowhere.PostAsJsonAsync("fleet/runners",
            new RunnerRegistration("runner-nowhere", "nowhere", ["run-command"], SigningKeyIds.ExportPublicKey(key), SigningKeyIds.Thumbprint(key)), ContractJson.Options);

        var first = await wrongKeyId.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.BadRequest, wrongKeyId.StatusCode);
        Assert.True(first.GetProperty("errors").TryGetProperty("keyId", out _));
        Assert.True(first.GetProperty("errors").TryGetProperty("capabilities", out _));
        Assert.Equal(HttpStatusCode.BadRequest, garbageKey.StatusCode);
        Assert.True((await garbageKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("publicKey", out _));
        Assert.Equal(HttpStatusCode.BadRequest, unknownFleet.StatusCode);
        Assert.Contains("fleet 'nowhere' does not exist", await unknownFleet.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_heartbeat_is_404_before_registration_and_200_after()
    {
        using var t6 = await plane.ClientForAsync("runner-t6");
        using var before = await t6.PostAsync("fleet/runners/runner-t6/heartbeat", null);
        using var forOther = await t6.PostAsync("fleet/runners/runner-t1/heartbeat", null);
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t6", "testing", "run-command");
        using var after = await runner.HeartbeatAsync();

        Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forOther.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task A_runner_that_stops_heartbeating_goes_silent_and_its_return_is_announced()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-o1", "observe", "probe-silence");
        await plane.Bus.WaitForAsync<FleetCapabilitiesChanged>(c => c.Fleet == "observe" && c.ActionKinds.Contains("probe-silence"), "observe gaining probe-silence");

        await runner.StopHeartbeatsAsync();
        var silent = await plane.Bus.WaitForAsync<FleetCapabilitiesChanged>(
            c => c.Fleet == "observe" && !c.ActionKinds.Contains("probe-silence"), "observe losing probe-silence after the heartbeat timeout", TimeSpan.FromSeconds(15));
        using var admin = await plane.ClientForAsync(FleetPlane.Admin);
        var stored = await admin.GetFromJsonAsync<JsonElement>("fleet/runners/runner-o1");
        using var back = await runner.HeartbeatAsync();

        Assert.Equal("silent", stored.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        await plane.Bus.WaitForAsync<FleetCapabilitiesChanged>(c => c.Fleet == "observe" && c.ActionKinds.Contains("probe-silence") && c.At > silent.At,
            "observe regaining probe-silence when the runner came back");
    }

    [Fact]
    public async Task Operators_list_fleets_and_runners_and_only_fleet_write_removes_a_runner()
    {
        await using var runner = await FakeRunner.StartAsync(plane, "runner-t7", "testing", "run-command");
        using var admin = await plane.ClientForAsync(FleetPlane.Admin);
        using var viewer = await plane.ClientForAsync(FleetPlane.Viewer);

        var fleets = await viewer.GetFromJsonAsync<JsonElement>("fleet/fleets");
        using var viewerDelete = await viewer.DeleteAsync("fleet/runners/runner-t7");
        using var runnerList = await runner.Http.GetAsync("fleet/runners");
        using var removed = await admin.DeleteAsync("fleet/runners/runner-t7");
        using var gone = await admin.GetAsync("fleet/runners/runner-t7");
        await runner.StopHeartbeatsAsync();
        using var heartbeatAfterRemoval = await runner.HeartbeatAsync();

        Assert.Equal(["observe", "remediation", "testing"], fleets.EnumerateArray().Select(f => f.GetProperty("name").GetString()!).Order().ToArray());
        Assert.Equal(HttpStatusCode.Forbidden, viewerDelete.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, runnerList.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, heartbeatAfterRemoval.StatusCode);
    }

    [Fact]
    public async Task Fleet_keys_are_public_and_fleet_announced_its_key_exactly_once()
    {
        var keys = await plane.FleetKeysAsync();
        var announced = await plane.Bus.WaitForAsync<SigningKeyPublished>(k => k.Owner == "fleet", "fleet's SigningKeyPublished");

        var active = Assert.Single(keys.Keys);
        Assert.Equal(FleetKeySet.Algorithm, active.Algorithm);
        Assert.Equal("fleet", announced.OwnerKind);
        Assert.Equal(active.KeyId, announced.KeyId);
        Assert.Equal(active.PublicKey, announced.PublicKey);
        using var imported = SigningKeyIds.ImportPublicKey(active.PublicKey, out _);
        Assert.Equal(active.KeyId, SigningKeyIds.Thumbprint(imported!));
        Assert.Single(plane.Bus.All<SigningKeyPublished>(), k => k.Owner == "fleet");
    }

    [Fact]
    public void Every_endpoint_declares_its_authorization_rule()
    {
        var endpoints = plane.Fleet.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();

        Assert.NotEmpty(endpoints);
        Assert.All(endpoints, e => Assert.True(
            e.Metadata.GetMetadata<RequiresPermission>() is not null ||
            e.Metadata.GetMetadata<AnonymousByDesign>() is not null ||
            e.Metadata.GetMetadata<AuthenticatedByDesign>() is not null ||
            e.RoutePattern.RawText?.StartsWith("/openapi", StringComparison.Ordinal) == true,
            $"{e.DisplayName} ({e.RoutePattern.RawText}) declares no rule"));
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/fleet/keys" && e.Metadata.GetMetadata<AnonymousByDesign>() is not null);
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/fleet/work/{workId:guid}/result" && e.Metadata.GetMetadata<RequiresPermission>()?.Permission == Permissions.FleetRun);
    }
}
