using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;
using ControlPlane.Orchestrator.Proposals;
using Microsoft.Extensions.Options;

namespace ControlPlane.Orchestrator.Lifecycle;

/// <summary>Timer kinds in the timers table.</summary>
public static class TimerKinds
{
    public const string ApprovalExpiry = "approval-expiry";
}

/// <summary>Turns the effects a transition asks for into rows and outbox messages, inside the transition's transaction.</summary>
public sealed class LifecycleEffects(IOptions<OrchestratorOptions> options)
{
    /// <summary>Whether the orchestrator moves on by itself after authorization (validation, scheduling).</summary>
    public bool FollowUpsEnabled => false;

    public async Task ApplyAsync(LifecycleScope scope, ProposalRecord proposal, Transition transition)
    {
        foreach (var effect in transition.Effects)
        {
            switch (effect)
            {
                case LifecycleEffect.ScheduleApprovalExpiry:
                    var expiresAfter = proposal.Decision?.Approval?.ExpiresAfter is { } after && after > TimeSpan.Zero
                        ? after
                        : options.Value.Approvals.DefaultExpiresAfter;
                    await ProposalStore.AddTimerAsync(scope.Work, proposal.Id, TimerKinds.ApprovalExpiry, scope.Now + expiresAfter, null, scope.CancellationToken);
                    break;
                case LifecycleEffect.CancelApprovalExpiry:
                    await ProposalStore.DeleteTimersAsync(scope.Work, proposal.Id, TimerKinds.ApprovalExpiry, scope.CancellationToken);
                    break;
                case LifecycleEffect.ReleaseResources:
                    await ProposalStore.DeleteTimersAsync(scope.Work, proposal.Id, null, scope.CancellationToken);
                    break;
                default:
                    // Validation, scheduling and execution effects belong to the second half of the lifecycle.
                    break;
            }
        }
    }
}
