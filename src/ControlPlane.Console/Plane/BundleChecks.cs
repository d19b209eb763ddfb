using System.Security.Claims;
using System.Text.Json;
using ControlPlane.Console.SignIn;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification;

namespace ControlPlane.Console.Plane;

/// <summary>A bundle's verification as the console shows it: the CLI's verifier, pinned to a key evidence publishes.</summary>
public sealed record BundleCheck(bool Verifies, IReadOnlyList<string> Passed, string? FailedCheck, string? Failure, string? TrustedKey, int Bytes);

public static class BundleChecks
{
    /// <summary>
    /// Verifies with <see cref="EvidenceBundleVerifier"/> (the same code as `controlplane evidence verify`) against each
    /// key fingerprint evidence publishes: a bundle signed by none of them does not verify.
    /// </summary>
    public static async Task<BundleCheck> CheckAsync(PlaneClient plane, Guid proposalId, CancellationToken ct = default)
    {
        var bundle = await plane.GetBytesAsync("evidence", $"evidence/proposals/{proposalId}/bundle", ct);
        var keys = await plane.GetAsync("evidence", "evidence/keys", ct);
        var fingerprints = (keys["keys"]?.AsArray() ?? []).Select(k => k?["fingerprint"]?.ToString()).OfType<string>().ToList();
        BundleCheck? first = null;
        foreach (var fingerprint in fingerprints)
        {
            var result = EvidenceBundleVerifier.Verify(bundle, new BundleVerifyOptions(fingerprint));
            var check = new BundleCheck(result.Ok, result.Passed, result.FailedCheck, result.Failure, fingerprint, bundle.Length);
            if (result.Ok)
            {
                return check;
            }

            first ??= check;
        }

        return first ?? new BundleCheck(false, [], "keys", "evidence publishes no key to verify against", null, bundle.Length);
    }

    /// <summary>GET /proposals/{id}/bundle on the console: the bundle as a download, fetched with the human's token.</summary>
    public static WebApplication MapBundleDownload(this WebApplication app)
    {
        app.MapGet("/proposals/{id:guid}/bundle", async (Guid id, HttpContext http, TokenExchange exchange, IHttpClientFactory clients, CancellationToken ct) =>
        {
            string token;
            try
            {
                token = await exchange.TokenForAsync(http.User.FindFirstValue(ConsoleSignIn.SessionClaim), "evidence", ct);
            }
            catch (SessionExpiredException ex)
            {
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Session ended", detail: ex.Message);
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, $"evidence/proposals/{id}/bundle");
            request.Headers.Authorization = new("Bearer", token);
            using var response = await clients.CreateClient("evidence").SendAsync(request, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            return response.IsSuccessStatusCode
                ? Results.File(body, "application/json", $"evidence-{id}.json")
                : Results.Problem(statusCode: (int)response.StatusCode, title: "Evidence refused the bundle",
                    detail: TryDetail(body));
        }).RequireAuthorization();
        return app;
    }

    private static string? TryDetail(byte[] body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
