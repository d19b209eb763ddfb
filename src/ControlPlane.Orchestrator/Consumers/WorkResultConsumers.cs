using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using MassTransit;

namespace ControlPlane.Orchestrator.Consumers;

/// <summary>fleet reports a step's result (or that it could not place the work).</summary>
public sealed class WorkCompletedConsumer(ProposalLifecycle lifecycle, WorkResults results) : IConsumer<WorkCompleted>
{
    public const string Queue = "orchestrator-work-completed";

    public Task Consume(ConsumeContext<WorkCompleted> context) => lifecycle.RunAsync(async scope =>
    {
        if (!await ConsumerSteps.AcceptOnceAsync(scope, Queue, context))
        {
            return;
        }

        var m = context.Message;
        await results.ApplyAsync(scope, m.WorkId, m.Outcome, string.IsNullOrWhiteSpace(m.RunnerId) ? "fleet" : m.RunnerId, m.Reason, m.SignedResult);
    }, context.CancellationToken);
}

/// <summary>A runner refused a package: a failed attempt of that work, with the runner's reason.</summary>
public sealed class WorkRefusedConsumer(ProposalLifecycle lifecycle, WorkResults results) : IConsumer<WorkRefused>
{
    public const string Queue = "orchestrator-work-refused";

    public Task Consume(ConsumeContext<WorkRefused> context) => lifecycle.RunAsync(async scope =>
    {
        if (!await ConsumerSteps.AcceptOnceAsync(scope, Queue, context))
        {
            return;
        }

        if (context.Message.WorkId is { } workId)
        {
            await results.ApplyAsync(scope, workId, WorkOutcome.Refused, context.Message.RunnerId, "refused by the runner: " + context.Message.Reason);
        }
    }, context.CancellationToken);
}

/// <summary>A runner accepted or started a package: recorded on the work item (a rollback needs a signed start).</summary>
public sealed class WorkAcknowledgedConsumer(ProposalLifecycle lifecycle) : IConsumer<WorkAcknowledged>
{
    public const string Queue = "orchestrator-work-acknowledged";

    public Task Consume(ConsumeContext<WorkAcknowledged> context) => lifecycle.RunAsync(async scope =>
    {
        if (!await ConsumerSteps.AcceptOnceAsync(scope, Queue, context))
        {
            return;
        }

        var m = context.Message;
        if (await WorkStore.AcknowledgeAsync(scope.Work, m.WorkId, m.Stage == WorkAckStage.Started, m.At, scope.CancellationToken))
        {
            await ProposalStore.DeleteAcceptTimerAsync(scope.Work, m.WorkId, scope.CancellationToken);
        }
    }, context.CancellationToken);
}
