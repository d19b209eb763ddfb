using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ControlPlane.ServiceDefaults.Messaging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Orchestrator.Itsm;

/// <summary>A change request as the Table API returns it (only the fields asked for with sysparm_fields).</summary>
public sealed record ChangeRecord(string SysId, string Number, string? State);

/// <summary>One row of <c>sysapproval_approver</c> for a change, with the approver's user name and email dot-walked.</summary>
public sealed record ApproverRecord(string SysId, string State, string? UserName, string? Email, string? Comments);

/// <summary>ServiceNow refused the request for good (4xx other than 408/429): retrying the same call cannot help.</summary>
public sealed class ServiceNowRejectedException(string message) : Exception(message);

/// <summary>
/// The ServiceNow Table API as orchestrator uses it: find a change by correlation id, create one, update one, read
/// its approvals. JSON in and out (<c>Accept</c> and <c>Content-Type: application/json</c>), basic auth or a
/// bearer token, <c>sysparm_fields</c> to keep answers small. 5xx, 408, 429 and network faults are transient
/// (<see cref="TransientDependencyException"/>), so callers retry them and never turn them into a verdict.
/// </summary>
public sealed class ServiceNowClient(HttpClient http, IOptions<ServiceNowOptions> options)
{
    public const string ChangeTable = "api/now/table/change_request";
    public const string ApprovalTable = "api/now/table/sysapproval_approver";
    public const string ApproverFields = "sys_id,state,approver.user_name,approver.email,comments";

    public async Task<ChangeRecord?> FindByCorrelationAsync(Guid proposalId, CancellationToken ct)
    {
        var query = $"{ChangeTable}?sysparm_query={Uri.EscapeDataString($"correlation_id={proposalId}")}&sysparm_limit=1&sysparm_fields={Uri.EscapeDataString(ChangeRequestContent.Fields)}";
        using var result = await SendAsync(HttpMethod.Get, query, null, ct);
        var rows = result.RootElement.GetProperty("result");
        return rows.GetArrayLength() == 0 ? null : ReadChange(rows[0]);
    }

    public async Task<ChangeRecord> CreateAsync(IReadOnlyDictionary<string, string> fields, CancellationToken ct)
    {
        using var result = await SendAsync(HttpMethod.Post, $"{ChangeTable}?sysparm_fields={Uri.EscapeDataString(ChangeRequestContent.Fields)}", fields, ct);
        return ReadChange(result.RootElement.GetProperty("result"));
    }

    public async Task<ChangeRecord> UpdateAsync(string sysId, IReadOnlyDictionary<string, string> fields, CancellationToken ct)
    {
        using var result = await SendAsync(HttpMethod.Patch,
            $"{ChangeTable}/{Uri.EscapeDataString(sysId)}?sysparm_fields={Uri.EscapeDataString(ChangeRequestContent.Fields)}", fields, ct);
        return ReadChange(result.RootElement.GetProperty("result"));
    }

    /// <summary>The decided approvals (approved or rejected) of one change.</summary>
    public async Task<IReadOnlyList<ApproverRecord>> DecidedApprovalsAsync(string changeSysId, CancellationToken ct)
    {
        var query = $"{ApprovalTable}?sysparm_query={Uri.EscapeDataString($"sysapproval={changeSysId}^stateINapproved,rejected")}&sysparm_exclude_reference_link=true&sysparm_fields={Uri.EscapeDataString(ApproverFields)}";
        using var result = await SendAsync(HttpMethod.Get, query, null, ct);
        return [.. result.RootElement.GetProperty("result").EnumerateArray().Select(r => new ApproverRecord(
            Text(r, "sys_id") ?? string.Empty, Text(r, "state") ?? string.Empty, Text(r, "approver.user_name"), Text(r, "approver.email"), Text(r, "comments")))];
    }

    private async Task<JsonDocument> SendAsync(HttpMethod method, string path, IReadOnlyDictionary<string, string>? body, CancellationToken ct)
    {
        var o = options.Value;
        using var request = new HttpRequestMessage(method, new Uri(o.InstanceUrl!, path));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Authorization = !string.IsNullOrEmpty(o.Token)
            ? new AuthenticationHeaderValue("Bearer", o.Token)
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{o.Username}:{o.Password}")));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, mediaType: new MediaTypeHeaderValue("application/json"));
        }

        using var response = await http.SendAsync(request, ct);
        if (response.IsSuccessStatusCode)
        {
            return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
        }

        // The body may echo request data; only the status reaches logs and the stored error.
        var status = (int)response.StatusCode;
        if (status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
        {
            throw new TransientDependencyException($"ServiceNow answered {status} to {method} {Redacted(path)}");
        }

        throw new ServiceNowRejectedException($"ServiceNow refused {method} {Redacted(path)} with {status}");
    }

    private static string Redacted(string path) => path.Split('?')[0];

    private static ChangeRecord ReadChange(JsonElement e) =>
        new(Text(e, "sys_id") ?? throw new ServiceNowRejectedException("ServiceNow answered a change request without sys_id"),
            Text(e, "number") ?? string.Empty, Text(e, "state"));

    // Reference fields come as a value or (without sysparm_exclude_reference_link) as {link, value}.
    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v)
        ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("value", out var inner) => inner.GetString(),
            _ => null,
        }
        : null;
}
