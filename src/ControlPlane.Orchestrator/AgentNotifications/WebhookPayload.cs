using System.Text.Json;
using System.Text.Json.Serialization;

namespace ControlPlane.Orchestrator.AgentNotifications;

/// <summary>The data of a proposal.state-changed delivery.</summary>
public sealed record ProposalStateChangedData(Guid ProposalId, string From, string To, string Reason, long Version, DateTimeOffset At, string Link);

/// <summary>The body of every delivery, in the Standard Webhooks shape {type, timestamp, data}.</summary>
public sealed record WebhookPayload(string Type, DateTimeOffset Timestamp, ProposalStateChangedData Data)
{
    public const string StateChanged = "proposal.state-changed";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    /// <summary>The body as sent: the same bytes on every attempt (the signature covers them).</summary>
    public static string Build(Guid proposalId, string from, string to, string reason, long version, DateTimeOffset at, string? publicBaseUrl)
    {
        var path = $"/proposals/{proposalId}";
        var link = string.IsNullOrWhiteSpace(publicBaseUrl) ? path : publicBaseUrl.TrimEnd('/') + path;
        return JsonSerializer.Serialize(new WebhookPayload(StateChanged, at, new ProposalStateChangedData(proposalId, from, to, reason, version, at, link)), Json);
    }
}
