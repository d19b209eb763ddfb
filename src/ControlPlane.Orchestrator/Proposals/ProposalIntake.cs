using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security.RateLimiting;
using ControlPlane.ServiceDefaults.Security;
using ControlPlane.ServiceDefaults.Telemetry;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Orchestrator.Proposals;

/// <summary>How a submission ended; HTTP maps it to a status code, the bus to a reply or a refusal.</summary>
public abstract record IntakeResult
{
    public sealed record Accepted(Guid ProposalId, ProposalState State, bool Duplicate) : IntakeResult;

    public sealed record Invalid(IReadOnlyDictionary<string, string[]> Errors) : IntakeResult;

    public sealed record Conflict(string Detail) : IntakeResult;

    public sealed record RateLimited(TimeSpan RetryAfter) : IntakeResult;
}

/// <summary>
/// The one way a proposal enters the plane, shared by POST /proposals and the SubmitProposal consumer: rate
/// limit, validation, canonical content hash, per-agent idempotency, and the proposal row with ProposalSubmitted
/// and ProposalStateChanged in one transaction. Every refusal is recorded as ProposalSubmissionRefused.
/// </summary>
public sealed partial class ProposalIntake(NpgsqlDataSource dataSource, SubmissionValidator validator, RedisRateLimiter limiter,
    IOptions<OrchestratorOptions> options, TimeProvider clock, ILogger<ProposalIntake> logger)
{
    // Per principal, HTTP and bus together (Orchestrator:RateLimit:PerMinute; 0 turns it off).
    private readonly RateLimitRule? _intakeLimit = options.Value.RateLimit.PerMinute > 0
        ? new RateLimitRule("proposal-intake", options.Value.RateLimit.PerMinute, TimeSpan.FromMinutes(1))
        : null;

    public async Task<IntakeResult> SubmitAsync(Caller caller, SubmitProposal? body, string channel, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (_intakeLimit is not null)
        {
            var rate = await limiter.AcquireAsync(_intakeLimit, "principal:" + caller.Id, ct);
            if (rate.Outcome == RateLimitOutcome.Limited)
            {
                await RecordRefusalAsync(body?.IdempotencyKey, caller.Id, channel, "rate limit exceeded", null, ct);
                return new IntakeResult.RateLimited(rate.RetryAfter);
            }

            if (rate.Outcome == RateLimitOutcome.Unavailable)
            {
                // Fails open, unlike leases: a Redis outage must never cost an agent its proposal.
                LogLimiterUnavailable(logger, caller.Id);
            }
        }

        var check = validator.Validate(body);
        if (check.Proposal is not { } proposal)
        {
            await RecordRefusalAsync(body?.IdempotencyKey, caller.Id, channel, "invalid submission: " + string.Join(", ", check.Errors.Keys), null, ct);
            return new IntakeResult.Invalid(check.Errors);
        }

        var now = clock.GetUtcNow();
        var hash = new ProposalContent(proposal.Action, proposal.Targets, proposal.Environment, proposal.Change, caller.Id).Hash();
        var record = new ProposalRecord(Guid.CreateVersion7(now), caller.Id, caller.SponsorId, caller.Fleet, proposal.IdempotencyKey, hash,
            proposal.Action, proposal.Targets, proposal.Environment, proposal.Change, ProposalState.Submitted, 1, null, null, null, now, null, now)
        {
            TraceParent = TraceContinuation.Capture(),
        };

        await using var work = await UnitOfWork.BeginAsync(dataSource, ct);
        if (await ProposalStore.TryInsertAsync(work, record, ct))
        {
            var reason = $"submitted over {channel}";
            ProposalStore.AppendHistory(work, record.Id, ProposalState.Submitted, ProposalState.Submitted, "submit", caller.Id, reason, 1, now);
            await work.EnqueueAsync(record.ToSubmitted(), ct);
            await work.EnqueueAsync(new ProposalStateChanged(record.Id, ProposalState.Submitted, ProposalState.Submitted, reason, caller.Id, 1, now), ct);
            await work.CommitAsync(ct);
            LogSubmitted(logger, record.Id, caller.Id, channel);
            return new IntakeResult.Accepted(record.Id, ProposalState.Submitted, false);
        }

        var existing = await ProposalStore.FindByKeyAsync(work, caller.Id, proposal.IdempotencyKey, ct)
            ?? throw new InvalidOperationException("An idempotency key conflicted with a proposal that cannot be read back.");
        if (string.Equals(existing.ContentHash, hash, StringComparison.Ordinal))
        {
            return new IntakeResult.Accepted(existing.Id, existing.State, true);
        }

        const string conflict = "idempotency key already used for a different proposal";
        await RecordRefusalAsync(proposal.IdempotencyKey, caller.Id, channel, conflict, work, ct);
        await work.CommitAsync(ct);
        return new IntakeResult.Conflict($"The idempotency key '{proposal.IdempotencyKey}' was already used for proposal {existing.Id} with different content.");
    }

    /// <summary>Records a refusal; in <paramref name="work"/> when given, else in a transaction of its own.</summary>
    public async Task RecordRefusalAsync(string? idempotencyKey, string? agentId, string channel, string reason, UnitOfWork? work, CancellationToken ct,
        Guid? messageId = null)
    {
        LogRefused(logger, agentId ?? "(unknown)", channel, reason);
        var refusal = new ProposalSubmissionRefused(Bounded(idempotencyKey), Bounded(agentId), channel, reason, clock.GetUtcNow());
        if (work is not null)
        {
            await work.EnqueueAsync(refusal, ct);
            return;
        }

        await using var own = await UnitOfWork.BeginAsync(dataSource, ct);
        if (messageId is { } id && !await own.AcceptOnceAsync("orchestrator-submission-refusal", id, ct))
        {
            return; // a redelivered bus message was already recorded as refused
        }

        await own.EnqueueAsync(refusal, ct);
        await own.CommitAsync(ct);
    }

    private static string? Bounded(string? value) => value is { Length: > 200 } ? value[..200] : value;

    [LoggerMessage(Level = LogLevel.Information, Message = "Proposal {ProposalId} submitted by {AgentId} over {Channel}")]
    private static partial void LogSubmitted(ILogger logger, Guid proposalId, string agentId, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Intake rate limiter unavailable; admitting the submission of {AgentId} so none is lost")]
    private static partial void LogLimiterUnavailable(ILogger logger, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Submission by {AgentId} over {Channel} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string agentId, string channel, string reason);
}
