using System.Net;
using System.Net.Http.Json;
using System.Text;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Tests.Infrastructure;
using ControlPlane.Testing;
using Npgsql;

namespace ControlPlane.Orchestrator.Tests.Itsm;

/// <summary>An orchestrator plane wired to a <see cref="ServiceNowFake"/>, mapping approvers through the real identity.</summary>
public sealed class ServiceNowPlane(IdentityFixture identity) : IAsyncLifetime
{
    public ServiceNowFake ServiceNow { get; private set; } = null!;

    public OrchestratorPlane Plane { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        ServiceNow = await ServiceNowFake.StartAsync();
        Plane = await OrchestratorPlane.StartAsync(identity, "orch-itsm", s => s
            .Set("Integrations:ServiceNow:InstanceUrl", ServiceNow.Address.ToString())
            .Set("Integrations:ServiceNow:Username", ServiceNowFake.User)
            .Set("Integrations:ServiceNow:Password", ServiceNowFake.Password)
            .Set("Integrations:ServiceNow:PollInterval", "00:00:00.200")
            .Set("Integrations:ServiceNow:IdentityClientId", IdentityFixture.ItsmBridge)
            .Set("Integrations:ServiceNow:IdentityClientSecret", TestIdentity.AgentSecret));
    }

    public async ValueTask DisposeAsync()
    {
        await Plane.DisposeAsync();
        await ServiceNow.DisposeAsync();
    }
}

/// <summary>
/// ServiceNow change requests end to end on the real bus, PostgreSQL, Redis and identity: created once per
/// proposal that needs approval, kept in step, approvals from ServiceNow counted only for mapped named approvers,
/// and an outage that delays the change request without ever blocking the proposal (unless policy makes it mandatory).
/// </summary>
public sealed class ServiceNowTests(ServiceNowPlane fixture) : IClassFixture<ServiceNowPlane>
{
    private readonly OrchestratorPlane _plane = fixture.Plane;
    private readonly ServiceNowFake _snow = fixture.ServiceNow;
    private static readonly string Basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ServiceNowFake.User}:{ServiceNowFake.Password}"));

    private static string Key() => "snow-" + Guid.NewGuid().ToString("N")[..12];

    private async Task<Guid> AwaitingApprovalAsync(string target, PolicyDecision? decision = null)
    {
        var id = await _plane.SubmitAssessedAsync(OrchestratorPlane.Proposal(Key(), "production", targets: [target]),
            decision ?? OrchestratorPlane.RequireApproval(), OrchestratorPlane.Impact([target], revenuePath: true));
        await _plane.WaitForStateAsync(id, ProposalState.AwaitingApproval);
        return id;
    }

    private Task<System.Text.Json.Nodes.JsonObject> ChangeAsync(Guid id, Func<System.Text.Json.Nodes.JsonObject, bool>? until = null) =>
        Eventually.UntilAsync(() => Task.FromResult(_snow.ChangeFor(id)), c => c is not null && (until?.Invoke(c) ?? true),
            TimeSpan.FromSeconds(30), $"the change request of {id}")!;

    private static void AssertTableApiCall(SnowRequest request)
    {
        Assert.Equal(Basic, request.Authorization);
        Assert.Equal("application/json", request.Accept);
        Assert.Equal("sys_id,number,state", request.Query["sysparm_fields"]);
    }

    [Fact]
    public async Task A_proposal_awaiting_approval_opens_one_normal_change_that_a_mapped_approver_approves_and_that_closes_with_the_proposal()
    {
        var id = await AwaitingApprovalAsync("billing");

        var change = await ChangeAsync(id);
        var sysId = (string)change["sys_id"]!;
        var calls = _snow.Requests.Where(r => r.Path.StartsWith("/api/now/table/change_request", StringComparison.Ordinal)).ToList();
        var lookup = Assert.Single(calls, r => r.Method == "GET" && r.Query.GetValueOrDefault("sysparm_query") == $"correlation_id={id}");
        Assert.Equal("/api/now/table/change_request", lookup.Path);
        Assert.Equal("1", lookup.Query["sysparm_limit"]);
        AssertTableApiCall(lookup);
        var create = Assert.Single(calls, r => r.Method == "POST" && (string?)r.Body?["correlation_id"] == id.ToString());
        Assert.Equal("/api/now/table/change_request", create.Path);
        AssertTableApiCall(create);
        Assert.StartsWith("application/json", create.ContentType, StringComparison.Ordinal);
        Assert.Equal(["sysparm_fields"], create.Query.Keys);
        var body = create.Body!;
        Assert.Equal("normal", (string?)body["type"]);
        Assert.Equal("[ControlPlane] restart billing in production: Restart to clear a memory leak", (string?)body["short_description"]);
        Assert.Equal("1", (string?)body["impact"]); // revenue path
        Assert.Equal("ControlPlane", (string?)body["correlation_display"]);
        Assert.Equal("roll back to the previous image", (string?)body["backout_plan"]);
        Assert.Equal("billing is on the revenue path\nbilling holds regulated data", (string?)body["justification"]);
        var description = (string)body["description"]!;
        Assert.Contains($"ControlPlane proposal {id} by agent remediation-agent (sponsor sam@example.com).", description, StringComparison.Ordinal);
        Assert.Contains("Environment: production", description, StringComparison.Ordinal);
        Assert.Contains("revenue path yes", description, StringComparison.Ordinal);
        Assert.Contains("Policy decision: require-approval (bundle v1, sha256:bundle); rules prod-revenue-path, prod-regulated", description, StringComparison.Ordinal);
        Assert.Contains("Approvals required: 1 of roles approver", description, StringComparison.Ordinal);

        // The link is in evidence.
        var linked = await _plane.Bus.WaitForAsync<ChangeRequestLinked>(l => l.ProposalId == id, "ChangeRequestLinked");
        Assert.Equal(("servicenow", (string)change["number"]!, sysId), (linked.System, linked.Number, linked.SysId));
        Assert.Equal($"{_snow.Address}nav_to.do?uri=change_request.do?sys_id={sysId}", linked.Url);

        // A message replayed after a lost commit (the link forgotten) finds the change by correlation_id: no second one.
        await using (var db = NpgsqlDataSource.Create(_plane.Database.ConnectionString))
        {
            await using var forget = db.CreateCommand($"update change_requests set sys_id = null, number = null where proposal_id = '{id}'");
            await forget.ExecuteNonQueryAsync();
            await _plane.Bus.PublishAsync(_plane.Bus.Seen<ProposalStateChanged>().First(c => c.ProposalId == id && c.To == ProposalState.AwaitingApproval));
            await Eventually.UntilAsync(async () =>
            {
                await using var read = db.CreateCommand($"select sys_id from change_requests where proposal_id = '{id}'");
                return await read.ExecuteScalarAsync() as string;
            }, s => s == sysId, TimeSpan.FromSeconds(30), "the link found again");
        }

        Assert.Equal(2, _snow.Requests.Count(r => r.Method == "GET" && r.Query.GetValueOrDefault("sysparm_query") == $"correlation_id={id}"));
        Assert.Single(_snow.Requests, r => r.Method == "POST" && (string?)r.Body?["correlation_id"] == id.ToString());

        // Approvals in ServiceNow by someone identity does not know, by a viewer and by the agent's sponsor never count.
        var stranger = _snow.Decide(sysId, "mallory", "mallory@corp.example", "approved");
        var viewer = _snow.Decide(sysId, "vera", IdentityFixture.Vera, "approved");
        var sponsor = _snow.Decide(sysId, "sam", IdentityFixture.Sam, "approved");
        var ignoredStranger = await _plane.Bus.WaitForAsync<ExternalApprovalIgnored>(i => i.Reference.EndsWith(stranger, StringComparison.Ordinal), "stranger ignored");
        var ignoredViewer = await _plane.Bus.WaitForAsync<ExternalApprovalIgnored>(i => i.Reference.EndsWith(viewer, StringComparison.Ordinal), "viewer ignored");
        var ignoredSponsor = await _plane.Bus.WaitForAsync<ExternalApprovalIgnored>(i => i.Reference.EndsWith(sponsor, StringComparison.Ordinal), "sponsor ignored");
        Assert.Contains("maps to no human of identity", ignoredStranger.Reason, StringComparison.Ordinal);
        Assert.Contains("No approver binding of vera@example.com", ignoredViewer.Reason, StringComparison.Ordinal);
        Assert.Contains("sponsors the proposing agent", ignoredSponsor.Reason, StringComparison.Ordinal);
        Assert.Equal((id, "approve", "mallory"), (ignoredStranger.ProposalId, ignoredStranger.Decision, ignoredStranger.ExternalUser));
        var still = await _plane.GetAsync(id);
        Assert.Equal(ProposalState.AwaitingApproval, still.State);
        Assert.Empty(still.Approvals);
        var approvalReads = _snow.Requests.Where(r => r.Path == "/api/now/table/sysapproval_approver").ToList();
        Assert.NotEmpty(approvalReads);
        Assert.All(approvalReads, r =>
        {
            Assert.Equal("GET", r.Method);
            Assert.Equal(Basic, r.Authorization);
            Assert.Equal("sys_id,state,approver.user_name,approver.email,comments", r.Query["sysparm_fields"]);
            Assert.Equal("true", r.Query["sysparm_exclude_reference_link"]);
        });
        Assert.Contains(approvalReads, r => r.Query["sysparm_query"] == $"sysapproval={sysId}^stateINapproved,rejected");

        // A production approver, mapped by email, counts as that named human and the proposal runs.
        _snow.Decide(sysId, "alice.approver", IdentityFixture.Alice, "approved", "CAB agreed");
        var done = await _plane.WaitForStateAsync(id, ProposalState.Completed, TimeSpan.FromSeconds(60));
        var approval = Assert.Single(done.Approvals);
        Assert.Equal(IdentityFixture.Alice, approval.ApproverId);
        Assert.StartsWith($"ServiceNow {change["number"]} approval ", approval.Comment, StringComparison.Ordinal);
        Assert.EndsWith("by alice.approver: CAB agreed", approval.Comment, StringComparison.Ordinal);

        // State kept in step: closed successful once the proposal completed.
        var closed = await ChangeAsync(id, c => (string?)c["state"] == "3");
        Assert.Equal("successful", (string?)closed["close_code"]);
        var patches = _snow.Requests.Where(r => r.Method == "PATCH" && r.Path == $"/api/now/table/change_request/{sysId}").ToList();
        Assert.All(patches, AssertTableApiCall);
        Assert.Equal("3", (string?)patches[^1].Body!["state"]);
        Assert.Equal("successful", (string?)patches[^1].Body!["close_code"]);
    }

    [Fact]
    public async Task A_rejection_in_ServiceNow_by_a_mapped_approver_rejects_the_proposal_and_cancels_the_change()
    {
        var id = await AwaitingApprovalAsync("invoices");
        var sysId = (string)(await ChangeAsync(id))["sys_id"]!;

        _snow.Decide(sysId, "bob", IdentityFixture.Bob, "rejected", "not during quarter close");

        var rejected = await _plane.WaitForStateAsync(id, ProposalState.Rejected);
        var decision = Assert.Single(rejected.Approvals);
        Assert.Equal((IdentityFixture.Bob, ApprovalDecision.Reject), (decision.ApproverId, decision.Decision));
        var canceled = await ChangeAsync(id, c => (string?)c["state"] == "4");
        Assert.Equal("ControlPlane: proposal rejected; nothing was executed.", (string?)canceled["close_notes"]);
    }

    [Fact]
    public async Task A_ServiceNow_outage_neither_loses_nor_blocks_the_proposal()
    {
        _snow.Down = true;
        try
        {
            var id = await AwaitingApprovalAsync("ledger");
            await Eventually.UntilAsync(() => Task.FromResult(_snow.Requests.Count(r => r.Query.GetValueOrDefault("sysparm_query") == $"correlation_id={id}")),
                n => n >= 1, TimeSpan.FromSeconds(30), "a first attempt while ServiceNow is down");

            using var bob = await _plane.HumanAsync(IdentityFixture.Bob);
            using var response = await bob.PostAsJsonAsync($"proposals/{id}/approvals", new { decision = "approve", comment = "ServiceNow is down; approved here" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await _plane.WaitForStateAsync(id, ProposalState.Completed, TimeSpan.FromSeconds(60));
            Assert.Null(_snow.ChangeFor(id));

            _snow.Down = false;
            var closed = await ChangeAsync(id, c => (string?)c["state"] == "3");
            Assert.Equal("successful", (string?)closed["close_code"]);
            Assert.Single(_snow.Changes, c => (string?)c["correlation_id"] == id.ToString());
        }
        finally
        {
            _snow.Down = false;
        }
    }

    [Fact]
    public async Task With_a_mandatory_change_request_the_proposal_does_not_run_before_ServiceNow_has_it()
    {
        var mandatory = OrchestratorPlane.RequireApproval();
        mandatory = mandatory with { Approval = mandatory.Approval! with { ChangeRequest = true } };
        _snow.Down = true;
        try
        {
            var id = await AwaitingApprovalAsync("payments-db", mandatory);
            using var alice = await _plane.HumanAsync(IdentityFixture.Alice);
            using var response = await alice.PostAsJsonAsync($"proposals/{id}/approvals", new { decision = "approve" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            var held = await Eventually.UntilAsync(() => _plane.GetAsync(id), p => p.WaitingReason is not null, TimeSpan.FromSeconds(30), "held");
            Assert.Equal(ProposalState.Scheduled, held.State);
            Assert.Equal("policy makes a ServiceNow change request mandatory; waiting until ServiceNow has confirmed it", held.WaitingReason);
            Assert.DoesNotContain(_plane.WorkFor(id), w => w.Step == WorkStep.Execute);

            _snow.Down = false;
            await _plane.WaitForStateAsync(id, ProposalState.Completed, TimeSpan.FromSeconds(60));
            var create = _snow.Requests.First(r => r.Method == "POST" && (string?)r.Body?["correlation_id"] == id.ToString());
            Assert.Equal("normal", (string?)create.Body!["type"]);
            await ChangeAsync(id, c => (string?)c["state"] == "3");
        }
        finally
        {
            _snow.Down = false;
        }
    }
}
