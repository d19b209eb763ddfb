using System.Security.Claims;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Proposals;
using ControlPlane.ServiceDefaults.Messaging;
using ControlPlane.ServiceDefaults.Security;
using MassTransit;

namespace ControlPlane.Orchestrator.Consumers;

/// <summary>
/// SubmitProposal from agent fleets on the bus. The agent token travels in the <see cref="ControlPlane.Contracts.MessageHeaders.AgentToken"/>
/// header and is validated exactly like the HTTP Authorization header; the submission then takes the same path as
/// POST /proposals. A refused message is recorded and lands in the _error queue with the reason (no retries).
/// The message arrives either as a MassTransit envelope or as bare application/json with the token as an AMQP
/// header; both reach this one method, so validation and refusals cannot differ between them.
/// </summary>
public sealed partial class SubmitProposalConsumer(AccessTokenValidator tokens, ProposalIntake intake, ILogger<SubmitProposalConsumer> logger)
    : IConsumer<SubmitProposal>
{
    public const string Channel = "bus";
    public const string Queue = "orchestrator-submit-proposal";

    public async Task Consume(ConsumeContext<SubmitProposal> context)
    {
        var ct = context.CancellationToken;
        var token = context.Headers.Get<string>(ControlPlane.Contracts.MessageHeaders.AgentToken);
        var check = token is null ? new TokenCheck(null, "no agent token header") : await tokens.ValidateAsync(token, ct);
        var caller = check.Identity is { } identity ? Caller.From(new ClaimsPrincipal(identity)) : null;
        if (caller is null)
        {
            await RefuseAsync(context, null, "invalid agent token: " + (check.Failure ?? "no subject"));
            return;
        }

        if (!caller.HasPermission(Permissions.ProposalsSubmit))
        {
            await RefuseAsync(context, caller.Id, $"{caller.Id} does not hold a binding granting {Permissions.ProposalsSubmit}");
            return;
        }

        var result = await intake.SubmitAsync(caller, context.Message, Channel, ct);
        switch (result)
        {
            case IntakeResult.Accepted accepted:
                if (context.ResponseAddress is not null)
                {
                    await context.RespondAsync(new ProposalAccepted(accepted.ProposalId, context.Message.IdempotencyKey, accepted.State, accepted.Duplicate));
                }

                break;
            case IntakeResult.Invalid invalid:
                // The intake already recorded the refusal.
                throw new MessageRejectedException("invalid submission: " + string.Join("; ", invalid.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
            case IntakeResult.Conflict conflict:
                throw new MessageRejectedException(conflict.Detail);
            case IntakeResult.RateLimited limited:
                throw new MessageRejectedException($"rate limit exceeded; retry in {Math.Ceiling(limited.RetryAfter.TotalSeconds)} s");
        }
    }

    private async Task RefuseAsync(ConsumeContext<SubmitProposal> context, string? agentId, string reason)
    {
        LogRefused(logger, context.MessageId, reason);
        await intake.RecordRefusalAsync(context.Message?.IdempotencyKey, agentId, Channel, reason, null, context.CancellationToken, context.MessageId);
        throw new MessageRejectedException(reason);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "SubmitProposal {MessageId} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, Guid? messageId, string reason);
}
