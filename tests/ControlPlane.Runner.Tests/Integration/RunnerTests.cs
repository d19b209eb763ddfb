using System.Security.Cryptography;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Fleet.Tests.Support;
using ControlPlane.Testing;

namespace ControlPlane.Runner.Tests.Integration;

/// <summary>
/// The real runner against the real bus, fleet and identity. Genuine work comes from fleet (the test publishes
/// WorkRequested as orchestrator would); forged work is signed with fleet's key (or another) and sent straight to
/// the runner's queue, as an attacker with queue access would.
/// </summary>
public sealed class RunnerTests(RunnerPlane plane) : IClassFixture<RunnerPlane>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_valid_run_command_package_runs_the_allow_listed_process_and_returns_a_verifiable_result()
    {
        var request = WorkRequests.New("testing", "run-command", new Dictionary<string, string> { ["command"] = "hello" });

        await plane.Bus.PublishAsync(request);
        var completed = await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "WorkCompleted of hello", Wait);
        var result = await VerifiedResultAsync(completed);

        var expected = $"hello from runner-a\nwork {request.WorkId}\n";
        Assert.Equal([WorkAckStage.Accepted, WorkAckStage.Started],
            plane.Bus.All<WorkAcknowledged>().Where(a => a.WorkId == request.WorkId).Select(a => a.Stage));
        Assert.Equal(WorkOutcome.Succeeded, completed.Outcome);
        Assert.Equal(WorkOutcome.Succeeded, result.Outcome);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(expected, result.OutputExcerpt);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(expected))), result.OutputDigest);
        Assert.Equal(request.ProposalId, result.ProposalId);
        Assert.Equal(RunnerPlane.RunnerId, result.RunnerId);
    }

    [Fact]
    public async Task A_command_that_is_not_allow_listed_is_refused_and_fleet_records_the_refusal()
    {
        var request = WorkRequests.New("testing", "run-command", new Dictionary<string, string> { ["command"] = "format-disk" });

        await plane.Bus.PublishAsync(request);
        var refused = await plane.Bus.WaitForAsync<WorkRefused>(r => r.WorkId == request.WorkId, "WorkRefused of format-disk", Wait);

        Assert.Equal("command 'format-disk' is not allow-listed on runner runner-a", refused.Reason);
        Assert.Equal(request.ProposalId, refused.ProposalId);
        Assert.Equal(RunnerPlane.RunnerId, refused.RunnerId);
        // Refused before acceptance: nothing was signed as accepted or started, so nothing will be rolled back.
        Assert.DoesNotContain(plane.Bus.All<WorkAcknowledged>(), a => a.WorkId == request.WorkId);
    }

    [Fact]
    public async Task Shell_metacharacters_in_a_parameter_arrive_literally_in_the_environment_and_nothing_runs_through_a_shell()
    {
        var traps = Enumerable.Range(1, 4).Select(i => Path.Combine(plane.Root, $"injected-{i}-{Guid.NewGuid():N}")).ToArray();
        var message = $"x; touch {traps[0]} && echo pwned > {traps[1]} | $(touch {traps[2]}) `touch {traps[3]}` \"'\\ <>*";
        var request = WorkRequests.New("testing", "run-command", new Dictionary<string, string>
        {
            ["command"] = "print-env",
            ["message"] = message,
            ["not-allowed"] = "must not reach the process",
        });

        await plane.Bus.PublishAsync(request);
        var completed = await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "WorkCompleted of print-env", Wait);
        var result = await VerifiedResultAsync(completed);
        var environment = result.OutputExcerpt!.Split('\n');

        Assert.Equal(WorkOutcome.Succeeded, result.Outcome);
        Assert.Contains("CP_PARAM_MESSAGE=" + message, environment);
        Assert.Contains("FIXED_SETTING=from-config", environment);
        Assert.Contains($"CP_WORK_ID={request.WorkId}", environment);
        Assert.DoesNotContain(environment, line => line.StartsWith("CP_PARAM_NOT", StringComparison.Ordinal));
        Assert.DoesNotContain(environment, line => line.StartsWith(RunnerPlane.CanaryVariable, StringComparison.Ordinal));
        Assert.All(traps, trap => Assert.False(File.Exists(trap), $"{trap} was created: the parameter was interpreted by a shell"));
    }

    [Fact]
    public async Task A_command_past_its_timeout_has_its_process_tree_killed_and_reports_timed_out()
    {
        var request = WorkRequests.New("testing", "run-command", new Dictionary<string, string> { ["command"] = "sleepy" });

        await plane.Bus.PublishAsync(request);
        var completed = await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "WorkCompleted of sleepy", Wait);
        var result = await VerifiedResultAsync(completed);
        var pids = File.ReadAllLines(Path.Combine(plane.Workspace, $"sleepy-{request.WorkId}.pids")).Select(int.Parse).ToList();

        Assert.Equal(WorkOutcome.TimedOut, completed.Outcome);
        Assert.Equal("command 'sleepy' exceeded its timeout of 00:00:01; its process tree was killed", result.Reason);
        Assert.InRange(result.Duration, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        Assert.Equal(2, pids.Count);
        await Eventually.UntilAsync(() => Task.FromResult(pids.All(IsGone)), TimeSpan.FromSeconds(10), "the script and its child sleep to be gone");
    }

    [Fact]
    public async Task A_failing_command_reports_failed_with_its_exit_code_and_output()
    {
        var request = WorkRequests.New("testing", "run-command", new Dictionary<string, string> { ["command"] = "fail" });

        await plane.Bus.PublishAsync(request);
        var completed = await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "WorkCompleted of fail", Wait);
        var result = await VerifiedResultAsync(completed);

        Assert.Equal(WorkOutcome.Failed, completed.Outcome);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("command 'fail' exited with code 3", result.Reason);
        Assert.Equal("about to fail\n", result.OutputExcerpt);
    }

    [Fact]
    public async Task An_http_check_passes_on_the_expected_status_and_fails_on_another_status_or_too_much_latency()
    {
        var ok = HttpCheck("ok", "200", "2000");
        var broken = HttpCheck("broken", "200", "2000");
        var slow = HttpCheck("slow", "200", "200");

        await plane.Bus.PublishAsync(ok);
        await plane.Bus.PublishAsync(broken);
        await plane.Bus.PublishAsync(slow);
        var okResult = await VerifiedResultAsync(await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == ok.WorkId, "the ok check", Wait));
        var brokenResult = await VerifiedResultAsync(await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == broken.WorkId, "the broken check", Wait));
        var slowResult = await VerifiedResultAsync(await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == slow.WorkId, "the slow check", Wait));

        Assert.Equal(WorkOutcome.Succeeded, okResult.Outcome);
        Assert.Contains($"GET {plane.Target}ok -> 200 in ", okResult.OutputExcerpt, StringComparison.Ordinal);
        Assert.Equal(CanonicalJson.HashBytes("ok"u8), okResult.OutputDigest);
        Assert.Equal(WorkOutcome.Failed, brokenResult.Outcome);
        Assert.Equal("status 500, expected 200", brokenResult.Reason);
        Assert.Contains("-> 500 in ", brokenResult.OutputExcerpt, StringComparison.Ordinal);
        Assert.Equal(WorkOutcome.Failed, slowResult.Outcome);
        Assert.Contains("exceeds 200 ms", slowResult.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_http_check_of_a_host_that_is_not_allow_listed_is_refused()
    {
        var request = WorkRequests.New("testing", "http-check", new Dictionary<string, string> { ["url"] = $"http://localhost:{plane.Target.Port}/ok" });

        await plane.Bus.PublishAsync(request);
        var refused = await plane.Bus.WaitForAsync<WorkRefused>(r => r.WorkId == request.WorkId, "WorkRefused of the localhost check", Wait);

        Assert.Equal("host 'localhost' is not allow-listed for http-check on this runner", refused.Reason);
    }

    [Fact]
    public async Task A_package_with_a_bad_signature_is_refused_with_the_reason_and_nothing_runs()
    {
        var tampered = Forge();
        var genuine = await plane.SignAsFleetAsync(tampered);
        var forgedPayload = genuine with { Payload = Convert.ToBase64String(CanonicalJson.Serialize(tampered with { Environment = "production" })) };
        var strangerSigned = Forge();
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var strangerKeyId = SigningKeyIds.Thumbprint(stranger);

        await plane.DeliverAsync(tampered.WorkId, forgedPayload);
        await plane.DeliverAsync(strangerSigned.WorkId, Dsse.Sign(strangerSigned, WorkPackage.PayloadType, stranger, strangerKeyId));

        var first = await RefusalOfAsync(tampered.WorkId);
        var second = await RefusalOfAsync(strangerSigned.WorkId);
        Assert.StartsWith($"signature check failed: signature by '{genuine.Signatures[0].KeyId}' does not verify", first.Reason, StringComparison.Ordinal);
        Assert.StartsWith($"signature check failed: signature names unknown key '{strangerKeyId}'", second.Reason, StringComparison.Ordinal);
        AssertNothingRan(tampered.WorkId, strangerSigned.WorkId);
    }

    [Fact]
    public async Task An_expired_package_is_refused()
    {
        var now = DateTimeOffset.UtcNow;
        var expired = Forge() with { NotBefore = now.AddMinutes(-10), ExpiresAt = now.AddMinutes(-5) };

        await plane.DeliverAsync(expired.WorkId, await plane.SignAsFleetAsync(expired));
        var refused = await RefusalOfAsync(expired.WorkId);

        Assert.StartsWith($"package expired at {expired.ExpiresAt:O}", refused.Reason, StringComparison.Ordinal);
        AssertNothingRan(expired.WorkId);
    }

    [Fact]
    public async Task A_replayed_package_is_refused_for_its_nonce()
    {
        var request = WorkRequests.New("testing", "run-command", new Dictionary<string, string> { ["command"] = "marker" });
        await plane.Bus.PublishAsync(request);
        var issued = await plane.Bus.WaitForAsync<WorkPackageIssued>(i => i.WorkId == request.WorkId, "WorkPackageIssued", Wait);
        await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == request.WorkId, "the genuine run", Wait);

        await plane.DeliverAsync(request.WorkId, issued.Envelope);
        var refused = await RefusalOfAsync(request.WorkId);

        var nonce = WorkRequests.Read<WorkPackage>(issued.Envelope).Nonce;
        Assert.StartsWith($"nonce {nonce} was already used (replayed package)", refused.Reason, StringComparison.Ordinal);
        Assert.Null(refused.WorkId); // the work was completed: the replay is evidence, not a lifecycle event
        Assert.Single(plane.Markers(), m => m == request.WorkId.ToString());
    }

    [Fact]
    public async Task A_package_with_a_stale_fencing_token_is_refused()
    {
        var target = $"node-{Guid.NewGuid():N}";
        var newer = WorkRequests.New("testing", "run-command", new Dictionary<string, string> { ["command"] = "marker" },
            fencingTokens: new Dictionary<string, long> { [target] = 9 }, targets: [target], step: WorkStep.Execute);
        var older = WorkRequests.New("testing", "run-command", new Dictionary<string, string> { ["command"] = "marker" },
            fencingTokens: new Dictionary<string, long> { [target] = 4 }, targets: [target], step: WorkStep.Execute);

        await plane.Bus.PublishAsync(newer);
        await plane.Bus.WaitForAsync<WorkCompleted>(c => c.WorkId == newer.WorkId, "the run with fence 9", Wait);
        await plane.Bus.PublishAsync(older);
        var refused = await plane.Bus.WaitForAsync<WorkRefused>(r => r.WorkId == older.WorkId, "the refusal of fence 4", Wait);

        Assert.Equal($"stale fencing token for target {target}: 4 is older than 9 already seen", refused.Reason);
        Assert.Equal(older.ProposalId, refused.ProposalId);
        AssertNothingRan(older.WorkId);
    }

    [Fact]
    public async Task A_package_for_an_action_without_a_handler_is_refused()
    {
        var deploy = Forge() with { ActionKind = "deploy" };

        await plane.DeliverAsync(deploy.WorkId, await plane.SignAsFleetAsync(deploy));
        var refused = await RefusalOfAsync(deploy.WorkId);

        Assert.StartsWith("no handler for action deploy", refused.Reason, StringComparison.Ordinal);
        AssertNothingRan(deploy.WorkId);
    }

    [Fact]
    public async Task A_package_addressed_to_another_runner_is_refused()
    {
        var theirs = Forge() with { Audience = "runner-b" };

        await plane.DeliverAsync(theirs.WorkId, await plane.SignAsFleetAsync(theirs));
        var refused = await RefusalOfAsync(theirs.WorkId);

        Assert.StartsWith("package is addressed to runner 'runner-b', not to 'runner-a'", refused.Reason, StringComparison.Ordinal);
        AssertNothingRan(theirs.WorkId);
    }

    /// <summary>A package for the marker command that passes every check; tests break one rule each.</summary>
    private static WorkPackage Forge()
    {
        var now = DateTimeOffset.UtcNow;
        return new WorkPackage(Guid.NewGuid(), Guid.NewGuid(), "sha256:" + new string('b', 64), WorkStep.Execute, "forged", "run-command",
            new Dictionary<string, string> { ["command"] = "marker" }, ["billing"], "staging", new Dictionary<string, long>(),
            now.AddSeconds(-1), now.AddMinutes(5), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), RunnerPlane.RunnerId, "testing", "fleet");
    }

    private WorkRequested HttpCheck(string path, string expectedStatus, string maxLatencyMs) => WorkRequests.New("testing", "http-check", new Dictionary<string, string>
    {
        ["url"] = new Uri(plane.Target, path).ToString(),
        ["expectedStatus"] = expectedStatus,
        ["maxLatencyMs"] = maxLatencyMs,
    });

    /// <summary>Refusals of work fleet never issued are recorded without ids; the reason names the work.</summary>
    private Task<WorkRefused> RefusalOfAsync(Guid workId) =>
        plane.Bus.WaitForAsync<WorkRefused>(r => r.Reason.Contains($"(work {workId}:", StringComparison.Ordinal), $"the WorkRefused of {workId}", Wait);

    private void AssertNothingRan(params Guid[] workIds) =>
        Assert.All(workIds, id => Assert.DoesNotContain(id.ToString(), plane.Markers()));

    private async Task<WorkResult> VerifiedResultAsync(WorkCompleted completed)
    {
        Assert.NotNull(completed.SignedResult);
        var (keyId, publicKey) = await plane.RunnerKeyAsync(completed.RunnerId);
        using var key = SigningKeyIds.ImportPublicKey(publicKey, out _);
        var payload = Dsse.Verify(completed.SignedResult, WorkResult.PayloadType, id => id == keyId ? key : null, out var failure);
        Assert.True(payload is not null, $"the result's signature does not verify: {failure}");
        return WorkRequests.Read<WorkResult>(completed.SignedResult);
    }

    private static bool IsGone(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat))
        {
            return true;
        }

        try
        {
            // "pid (comm) S ...": a zombie (Z) or dead (X) process no longer runs.
            var text = File.ReadAllText(stat);
            var state = text[(text.LastIndexOf(')') + 2)..][0];
            return state is 'Z' or 'X';
        }
        catch (IOException)
        {
            return true;
        }
    }
}
