using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ControlPlane.EndToEnd.Tests.Support;

/// <summary>Request bodies and policy bundles the walk-throughs use.</summary>
public static class Proposals
{
    public const string Digest = "sha256:9c1185a5c5e9fc54612808977ee8f548b2258d31ddadbb2f6a1f5b8c2a0e3f41";

    public static object Body(string kind, string summary, string[] targets, string environment, string? rollbackPlan,
        string? idempotencyKey = null, Dictionary<string, string>? parameters = null) => new
        {
            idempotencyKey = idempotencyKey ?? Guid.NewGuid().ToString("N"),
            action = new { kind, summary, parameters = parameters ?? new Dictionary<string, string>() },
            targets,
            environment,
            change = new { digest = Digest, reference = "git@example.com:acme/billing.git#4f2c9e1", rollbackPlan },
        };

    /// <summary>The acceptance story: an agent found a memory leak in billing and drafted a fix.</summary>
    public static object BillingFix(string? idempotencyKey = null) => Body(
        "deploy", "Fix the invoice cache memory leak in billing (heap grows 40 MiB/h)", ["billing"], "production",
        "Redeploy the previous billing image (sha256:1b7e…)", idempotencyKey);

    /// <summary>Makes <paramref name="yaml"/> the active bundle while <paramref name="body"/> runs, then restores the previous one.</summary>
    public static async Task WithPolicyAsync(Plane plane, string yaml, Func<Task> body)
    {
        using var admin = await plane.ClientAsync(Principals.Admin, "policy");
        var previous = JsonDocument.Parse(await admin.GetStringAsync("policies/active")).RootElement.GetProperty("hash").GetString()!;
        using var content = new StringContent(yaml, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/yaml");
        using (var put = await admin.PutAsync("policies", content))
        {
            Assert.True(put.IsSuccessStatusCode, $"PUT /policies: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }

        try
        {
            await body();
        }
        finally
        {
            using var restore = await admin.PostAsync($"policies/{previous}/activate", null);
            Assert.True(restore.IsSuccessStatusCode, $"restoring policy {previous}: {(int)restore.StatusCode}");
        }
    }
}
