using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Lifecycle;
using MassTransit;

namespace ControlPlane.Orchestrator.Consumers;

/// <summary>policy decided: keep the decision and move to authorized, awaiting-approval or denied.</summary>
public sealed class PolicyDecidedConsumer(ProposalLifecycle lifecycle, ILogger<PolicyDecidedConsumer> logger) : IConsumer<PolicyDecided>
{
    public const string Queue = "orchestrator-policy-decided";

    public Task Consume(ConsumeContext<PolicyDecided> context) => lifecycle.RunAsync(async scope =>
    {
        var message = context.Message;
        var proposal = await ConsumerSteps.ProposalForAsync(scope, Queue, context, message.ProposalId, message.ContentHash, "policy-decided", logger);
        if (proposal is null)
        {
            return;
        }

        if (message.Decision is null)
        {
            await scope.RecordRefusalAsync(proposal, "policy-decided", "the message carries no decision");
            return;
        }

        var decision = message.Decision;
        var rules = decision.RulesFired is { Count: > 0 } fired ? string.Join(", ", fired) : "no rule";
        var reasons = decision.Reasons is { Count: > 0 } r ? string.Join("; ", r) : "no reason given";
        var trigger = Trigger.PolicyDecided(decision.Outcome,
            $"{Trigger.Kebab(decision.Outcome.ToString())} by bundle {decision.BundleHash} ({rules}): {reasons}");

        // The machine sees the decision's facts (validations, verifications); it is stored only when applied.
        var decided = proposal with { Decision = decision, GraphVersion = proposal.GraphVersion ?? message.GraphVersion };
        var outcome = await scope.ApplyAsync(decided, trigger, LifecycleActors.Policy);
        if (outcome.Applied)
        {
            ProposalStore.SetDecision(scope.Work, proposal.Id, decision, message.GraphVersion);
        }
    }, context.CancellationToken);
}
