namespace ControlPlane.Contracts;

/// <summary>
/// Command (fleet → one runner, sent to the queue <c>runner-{runnerId}</c>): a signed work package. WorkId is only
/// a routing hint: the runner trusts nothing outside the envelope until its signature verifies.
/// </summary>
public sealed record DeliverWorkPackage(Guid WorkId, DsseEnvelope Envelope)
{
    public static string QueueFor(string runnerId) => "runner-" + runnerId;
}
