using System.ComponentModel;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Apis;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Security;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace ControlPlane.Orchestrator.Mcp;

/// <summary>What a proposal looks like to the agent that made it: where it is and why.</summary>
public sealed record McpProposalStatus(
    Guid Id, ProposalState State, bool Decided, string Environment, string ActionKind, IReadOnlyList<string> Targets,
    DecisionOutcome? Decision, IReadOnlyList<string> DecisionReasons, ApprovalStatus? ApprovalStatus, string? WaitingReason,
    string? LastReason, DateTimeOffset SubmittedAt, DateTimeOffset UpdatedAt);

/// <summary>The answer of wait_for_decision: the state reached and whether the wait ran out first.</summary>
public sealed record McpWaitResult(bool TimedOut, McpProposalStatus Proposal);

/// <summary>
/// Proposal tools for agents. Every call runs as the agent of the validated token: propose_action goes through
/// <see cref="ProposalIntake"/> exactly as POST /proposals does (rate limit, validation, idempotency, refusal
/// evidence), and an agent reads only proposals it made itself. Refusals are MCP tool errors carrying the problem
/// text HTTP gives.
/// </summary>
[McpServerToolType]
public sealed class ProposalTools(ProposalIntake intake, ProposalQueries queries, IHttpContextAccessor http, IOptions<McpOptions> options)
{
    public const string Channel = "mcp";

    [McpServerTool(Name = "propose_action", Title = "Propose an action", Destructive = false, Idempotent = true, OpenWorld = false)]
    [Description("Ask ControlPlane to perform an action on systems (deploy, restart, rollback, config-change, scale, ...). Nothing runs yet: " +
        "the proposal is assessed for impact, decided by policy and, if policy requires, approved by named humans. Returns the proposal id " +
        "and state. Reusing the same idempotencyKey with the same content returns the same proposal (duplicate=true); with other content it is refused.")]
    public async Task<CallToolResult> ProposeAsync(
        [Description("Your unique key for this proposal (e.g. a UUID); retry with the same key after a network error.")] string idempotencyKey,
        [Description("What to do: kind (e.g. restart, deploy, config-change), a one-line summary for the humans who may approve it, and string parameters.")] ProposedAction? action,
        [Description("Ids of the system-graph nodes the action changes, e.g. [\"billing\"].")] string[]? targets,
        [Description("Environment, e.g. dev, staging or production.")] string? environment,
        [Description("The change: digest (content hash), reference (where it is, e.g. repo#commit) and rollbackPlan (how to undo it).")] ChangeReference? change,
        CancellationToken cancellationToken)
    {
        var body = new SubmitProposal(idempotencyKey, action!, targets!, environment!, change!);
        var result = await intake.SubmitAsync(Caller(), body, Channel, cancellationToken);
        return result switch
        {
            IntakeResult.Accepted accepted => ToolResults.Json(new SubmissionAccepted(accepted.ProposalId, accepted.State, accepted.Duplicate)),
            IntakeResult.Invalid invalid => ToolResults.Error("The proposal is not valid: " +
                string.Join(" ", invalid.Errors.SelectMany(e => e.Value.Select(message => $"{e.Key}: {message}")))),
            IntakeResult.Conflict conflict => ToolResults.Error("Idempotency key conflict: " + conflict.Detail),
            IntakeResult.RateLimited limited => ToolResults.Error(
                $"Too many proposals: the proposal intake limit for this principal is reached; retry in {Math.Max(1, (int)Math.Ceiling(limited.RetryAfter.TotalSeconds))} s."),
            _ => throw new InvalidOperationException($"Unhandled intake result {result.GetType().Name}."),
        };
    }

    [McpServerTool(Name = "get_proposal_status", Title = "Proposal status", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("The current state of one of your proposals: state (submitted, assessing, awaiting-approval, authorized, scheduled, executing, " +
        "verifying, completed, denied, rejected, expired, failed, cancelled), policy's decision and reasons, approvals so far, and why it waits.")]
    public async Task<CallToolResult> GetStatusAsync(
        [Description("The proposal id propose_action returned.")] Guid proposalId,
        CancellationToken cancellationToken) =>
        await ReadAsync(proposalId, cancellationToken) is { } status ? ToolResults.Json(status) : Unknown(proposalId);

    [McpServerTool(Name = "wait_for_decision", Title = "Wait for a decision", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Waits until one of your proposals is decided (authorized or beyond, or denied, rejected, expired, failed, cancelled), " +
        "at most timeoutSeconds, and returns the state reached with timedOut=true when the wait ran out first (call it again to keep waiting). " +
        "A proposal awaiting human approval is not decided yet.")]
    public async Task<CallToolResult> WaitAsync(
        [Description("The proposal id propose_action returned.")] Guid proposalId,
        [Description("How long to wait, in seconds (1 to 60 by default; longer values are cut to the server's limit).")] int timeoutSeconds = 30,
        CancellationToken cancellationToken = default)
    {
        if (timeoutSeconds < 1)
        {
            return ToolResults.Error("timeoutSeconds: must be at least 1.");
        }

        var limit = TimeSpan.FromSeconds(Math.Min(timeoutSeconds, options.Value.MaxWait.TotalSeconds));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        var status = await ReadAsync(proposalId, cancellationToken);
        while (status is { Decided: false })
        {
            try
            {
                await Task.Delay(options.Value.WaitPollInterval, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }

            status = await ReadAsync(proposalId, cancellationToken);
        }

        return status is null ? Unknown(proposalId) : ToolResults.Json(new McpWaitResult(!status.Decided, status));
    }

    /// <summary>The agent's own proposal; another's (even one a viewer binding could read over HTTP) does not exist here.</summary>
    private async Task<McpProposalStatus?> ReadAsync(Guid id, CancellationToken cancellationToken)
    {
        var caller = Caller();
        var view = await queries.GetAsync(caller, id, cancellationToken);
        if (view is null || !string.Equals(view.AgentId, caller.Id, StringComparison.Ordinal))
        {
            return null;
        }

        return new McpProposalStatus(view.Id, view.State, IsDecided(view.State), view.Environment, view.Action.Kind, view.Targets,
            view.Decision?.Outcome, view.Decision?.Reasons ?? [], view.ApprovalStatus, view.WaitingReason,
            view.History.Count > 0 ? view.History[^1].Reason : null, view.SubmittedAt, view.UpdatedAt);
    }

    /// <summary>Policy (and any approvers) have spoken: everything but the states before a final decision.</summary>
    public static bool IsDecided(ProposalState state) =>
        state is not (ProposalState.Submitted or ProposalState.Assessing or ProposalState.AwaitingApproval);

    private Caller Caller() => http.HttpContext?.GetCaller() ?? throw new InvalidOperationException("An MCP tool ran outside an authenticated request.");

    private static CallToolResult Unknown(Guid id) => ToolResults.Error($"Unknown proposal: no proposal {id} is visible to the caller.");
}
