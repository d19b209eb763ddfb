using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ControlPlane.EndToEnd.Tests.Support;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.EndToEnd.Tests.Security;

/// <summary>
/// Issue 5 item 5, over every service at once: every endpoint declares its rule, and the role × endpoint matrix
/// holds — no token is 401, a role without the permission is 403 from the permission gate, a role with it passes
/// the gate (whatever the handler then says about the sample input).
/// </summary>
[Collection(PlaneCollection.Name)]
public sealed class EndpointAuthorizationTests(Plane plane)
{
    /// <summary>The only endpoints that answer without a token: probes, discovery, public keys, the token and sign-in endpoints.</summary>
    private static readonly HashSet<string> PublicByDesign = new(StringComparer.Ordinal)
    {
        "GET /health", "GET /alive", "GET /.well-known/openid-configuration", "GET /.well-known/oauth-authorization-server", "GET /.well-known/jwks.json",
        "POST /connect/token", "POST /dev/token", "GET /fleet/keys", "GET /evidence/keys",
        // The bus contract (AsyncAPI) for agents in any language, like an OpenAPI document.
        "GET /asyncapi.yaml",
        // CI/CD webhooks: GitHub and Argo CD hold no bearer token; each delivery is authenticated by an HMAC signature instead.
        "POST /graph/deployments/github", "POST /graph/deployments/argocd",
        // Browser sign-in (OIDC code + PKCE): where a browser without a session arrives; the POST is the dev IdP's form.
        "GET /connect/authorize", "POST /connect/authorize", "GET /connect/callback/external", "GET /connect/endsession",
    };

    private const string PermissionGateDetail = "The caller's role bindings do not grant this action.";

    [Fact]
    public void Every_endpoint_of_every_service_declares_an_authorization_rule()
    {
        var endpoints = EndpointInventory.Of(plane.Services);

        var undeclared = endpoints.Where(e => e.Permission is null && e.Authenticated is null && !(e.Anonymous is not null && e.AllowsAnonymous)).ToList();
        var unexpectedlyPublic = endpoints.Where(e => e.AllowsAnonymous && !PublicByDesign.Contains($"{e.Method} {e.Pattern}")).ToList();

        Assert.True(undeclared.Count == 0, "Endpoints without a rule: " + string.Join("; ", undeclared));
        Assert.True(unexpectedlyPublic.Count == 0, "Anonymous endpoints outside the public list: " + string.Join("; ", unexpectedlyPublic));
        foreach (var service in new[] { "identity", "system-graph", "policy", "orchestrator", "fleet", "evidence" })
        {
            Assert.True(endpoints.Count(e => e.Service == service && e.Permission is not null) >= 3, $"{service} maps too few protected endpoints to be itself");
        }
    }

    [Fact]
    public async Task The_role_by_endpoint_matrix_holds_for_every_protected_endpoint_of_every_service()
    {
        // Runners map only probes and their API description; the services are where permissions live.
        var protectedEndpoints = EndpointInventory.Of(plane.Services).Where(e => e.Permission is not null).ToList();
        Assert.DoesNotContain(protectedEndpoints, e => e.Service.StartsWith("runner-", StringComparison.Ordinal));
        var failures = new List<string>();
        var cells = 0;
        foreach (var endpoint in protectedEndpoints)
        {
            var audience = endpoint.Service;
            using (var anonymous = await SendAsync(endpoint, token: null))
            {
                cells++;
                if (anonymous.StatusCode != HttpStatusCode.Unauthorized)
                {
                    failures.Add($"{endpoint} without a token: {(int)anonymous.StatusCode}");
                }
            }

            foreach (var (human, role) in RoleHumans.All)
            {
                var token = await plane.Identity.HumanTokenAsync(human, audience);
                using var response = await SendAsync(endpoint, token);
                cells++;
                var gateRefused = response.StatusCode == HttpStatusCode.Forbidden &&
                    (await response.Content.ReadAsStringAsync()).Contains(PermissionGateDetail, StringComparison.Ordinal);
                var granted = role is not null && Permissions.Grants(role, endpoint.Permission!);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    failures.Add($"{endpoint} as {role ?? "no role"}: 401 with a valid token");
                }
                else if (granted && gateRefused)
                {
                    failures.Add($"{endpoint} as {role}: refused although {role} grants {endpoint.Permission}");
                }
                else if (!granted && !gateRefused)
                {
                    failures.Add($"{endpoint} as {role ?? "no role"}: {(int)response.StatusCode} although it lacks {endpoint.Permission}");
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {cells} cells wrong:\n" + string.Join("\n", failures));
        Assert.True(cells > protectedEndpoints.Count * 10);
    }

    private async Task<HttpResponseMessage> SendAsync(MappedEndpoint endpoint, string? token)
    {
        using var client = new HttpClient { BaseAddress = plane.Address(endpoint.Service), Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), endpoint.SamplePath().TrimStart('/'));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (endpoint.Method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        return await client.SendAsync(request);
    }
}
