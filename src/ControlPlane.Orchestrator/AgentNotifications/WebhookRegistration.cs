using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Orchestrator.Data;

namespace ControlPlane.Orchestrator.AgentNotifications;

/// <summary>Body of PUT /agents/me/webhook: where to post, and optionally which target states to post (all when absent).</summary>
public sealed record WebhookRequest(string? Url, IReadOnlyList<string>? States);

/// <summary>A registration that passed <see cref="WebhookRegistration.Validate"/>.</summary>
public sealed record ValidWebhook(Uri Url, IReadOnlyList<ProposalState>? States);

/// <summary>
/// Checks a webhook registration (pure). https only, so deliveries and the proposal data in them are not readable on
/// the way; plain http only to a loopback address and only where <c>allowLoopbackHttp</c> (Development, tests).
/// Unknown fields are refused rather than ignored, so a misspelt "states" does not silently mean "every state".
/// </summary>
public static class WebhookRegistration
{
    public const int MaxUrlLength = 2000;
    private static readonly string[] Fields = ["url", "states"];

    /// <param name="allowPrivateAddresses">Whether a literal loopback or private address is acceptable (Development, or
    /// Orchestrator:Webhooks:AllowPrivateNetworks); names are checked again where each delivery connects.</param>
    public static (ValidWebhook? Webhook, Dictionary<string, string[]> Errors) Validate(JsonNode? body, bool allowLoopbackHttp, bool allowPrivateAddresses = true)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (body is not JsonObject json)
        {
            errors["body"] = ["A JSON object {\"url\": \"https://…\", \"states\": [\"authorized\", …]} is required."];
            return (null, errors);
        }

        foreach (var unknown in json.Select(p => p.Key).Where(k => !Fields.Contains(k, StringComparer.OrdinalIgnoreCase)))
        {
            errors[unknown] = ["Unknown field; expected url and optionally states."];
        }

        WebhookRequest? request = null;
        try
        {
            request = json.Deserialize<WebhookRequest>(ContractJson.Options);
        }
        catch (JsonException)
        {
            errors["body"] = ["url must be a string and states an array of state names."];
        }

        var url = CheckUrl(request?.Url, allowLoopbackHttp, errors);
        if (url is not null && !allowPrivateAddresses && IPAddress.TryParse(url.DnsSafeHost, out var literal) && !WebhookAddressGuard.IsPublic(literal))
        {
            errors["url"] = ["Must be a public address: webhooks are not delivered into private networks (loopback, RFC 1918, link-local)."];
            url = null;
        }

        var states = CheckStates(request?.States, errors);
        return errors.Count == 0 ? (new ValidWebhook(url!, states), errors) : (null, errors);
    }

    private static Uri? CheckUrl(string? value, bool allowLoopbackHttp, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors["url"] = ["Required: the https address to post state changes to."];
            return null;
        }

        if (value.Length > MaxUrlLength || !Uri.TryCreate(value, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
        {
            errors["url"] = [$"Must be an absolute https URL of at most {MaxUrlLength} characters."];
            return null;
        }

        if (!string.IsNullOrEmpty(url.UserInfo) || !string.IsNullOrEmpty(url.Fragment))
        {
            errors["url"] = ["Must not carry credentials or a fragment; deliveries are authenticated by their signature."];
            return null;
        }

        if (url.Scheme == "http" && !(allowLoopbackHttp && IsLoopback(url)))
        {
            errors["url"] = [allowLoopbackHttp
                ? "Must use https (plain http is accepted only for a loopback address in Development)."
                : "Must use https."];
            return null;
        }

        return url;
    }

    private static List<ProposalState>? CheckStates(IReadOnlyList<string>? names, Dictionary<string, string[]> errors)
    {
        if (names is null)
        {
            return null;
        }

        var states = new List<ProposalState>();
        foreach (var name in names)
        {
            if (StateNames.TryParse(name, out var state))
            {
                if (!states.Contains(state))
                {
                    states.Add(state);
                }
            }
            else
            {
                var shown = name is { Length: > 40 } ? name[..40] : name;
                errors["states"] = [$"Unknown state '{shown}'; expected kebab-case state names such as authorized or awaiting-approval."];
                return null;
            }
        }

        if (states.Count == 0)
        {
            errors["states"] = ["Leave states out to follow every state, or name at least one."];
        }

        return states;
    }

    private static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.DnsSafeHost, out var address) && IPAddress.IsLoopback(address));
}
