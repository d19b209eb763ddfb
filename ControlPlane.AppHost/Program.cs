// The ControlPlane topology: `dotnet run --project ControlPlane.AppHost` (./run.sh) runs every service and both
// reference runners under DCP with the Aspire dashboard. RabbitMQ, PostgreSQL and Redis are containers where a
// container runtime answers, else the local servers of eng/servers.sh (Servers.cs says how it chooses).
using ControlPlane.AppHost;

var builder = DistributedApplication.CreateBuilder(args);
var servers = Servers.Add(builder);
var ports = new LocalPorts(builder.Configuration);

// Key-encryption keys for the private keys each signer keeps at rest: parameters (./run.sh passes the ones it
// keeps in .state/secrets; Aspire asks for missing ones in the dashboard; Kubernetes has them as secrets).
var identityKek = builder.AddParameter("identity-key-encryption-key", secret: true);
var fleetKek = builder.AddParameter("fleet-key-encryption-key", secret: true);
var evidenceKek = builder.AddParameter("evidence-key-encryption-key", secret: true);
var orchestratorKek = builder.AddParameter("orchestrator-key-encryption-key", secret: true); // agents' webhook signing secrets

IResourceBuilder<ProjectResource> AddService<TProject>(string name, string database)
    where TProject : IProjectMetadata, new() =>
    builder.AddProject<TProject>(name)
        .WithFixedHttpPort(ports[name])
        .WithReference(servers.Database(database)).WaitFor(servers.Database(database))
        .WithReference(servers.Messaging).WaitFor(servers.Messaging)
        .WithHttpHealthCheck("/health");

// No start order between services: every publisher declares every consumer's queue before it publishes
// (ServiceDefaults PlaneTopology), and each service retries what it needs from another. WaitFor is only on the
// servers, and for runners on the two services they register with, so a first start is quiet.
var evidence = AddService<Projects.ControlPlane_Evidence>("evidence", "evidence-db")
    .WithEnvironment("Evidence__KeyEncryptionKey", evidenceKek);
var graph = AddService<Projects.ControlPlane_SystemGraph>("system-graph", "graph-db");
var policy = AddService<Projects.ControlPlane_Policy>("policy", "policy-db");
var fleet = AddService<Projects.ControlPlane_Fleet>("fleet", "fleet-db")
    .WithEnvironment("Fleet__KeyEncryptionKey", fleetKek);
var orchestrator = AddService<Projects.ControlPlane_Orchestrator>("orchestrator", "orchestrator-db")
    .WithReference(servers.Cache).WaitFor(servers.Cache)
    .WithEnvironment("Orchestrator__KeyEncryptionKey", orchestratorKek)
    .WithExternalHttpEndpoints();
var identity = AddService<Projects.ControlPlane_Identity>("identity", "identity-db")
    .WithReference(servers.Cache).WaitFor(servers.Cache)
    .WithEnvironment("Identity__KeyEncryptionKey", identityKek)
    .WithExternalHttpEndpoints();
// A second plane on the same Redis (another clone's ./run.sh) keeps its keys apart.
if (builder.Configuration["ControlPlane:CacheKeyPrefix"] is { Length: > 0 } cachePrefix)
{
    orchestrator.WithEnvironment("Cache__KeyPrefix", cachePrefix);
    identity.WithEnvironment("Cache__KeyPrefix", cachePrefix);
}

// Load runs only (./run.sh INTAKE_PER_MINUTE=...): the per-agent proposal intake limit; unset keeps orchestrator's default.
if (builder.Configuration["ControlPlane:IntakePerMinute"] is { Length: > 0 } intakePerMinute)
{
    orchestrator.WithEnvironment("Orchestrator__RateLimit__PerMinute", intakePerMinute);
}

// ServiceNow change requests (README "ServiceNow"): off unless the AppHost's configuration names an instance.
if (builder.Configuration["Integrations:ServiceNow:InstanceUrl"] is { Length: > 0 })
{
    foreach (var key in new[] { "InstanceUrl", "Username", "PollInterval", "IdentityClientId", "AssignmentGroup" })
    {
        if (builder.Configuration[$"Integrations:ServiceNow:{key}"] is { Length: > 0 } value)
        {
            orchestrator.WithEnvironment($"Integrations__ServiceNow__{key}", value);
        }
    }

    foreach (var (key, parameter) in new[] { ("Password", "servicenow-password"), ("Token", "servicenow-token"), ("IdentityClientSecret", "servicenow-identity-client-secret") })
    {
        if (builder.Configuration[$"Integrations:ServiceNow:{key}"] is { Length: > 0 })
        {
            orchestrator.WithEnvironment($"Integrations__ServiceNow__{key}",
                builder.AddParameterFromConfiguration(parameter, $"Integrations:ServiceNow:{key}", secret: true));
        }
    }
}

// Tokens name one issuer whichever address they were fetched through.
identity.WithEnvironment("Identity__Issuer", identity.GetEndpoint("http"));

// The MCP endpoint's canonical URI: identity issues tokens for it (RFC 8707 resource) and orchestrator accepts only
// those. Orchestrator reads policy's autonomy reports for MCP agents, and system-graph for change windows' dependents, as its own workload identity (no token passthrough).
var mcpResource = ReferenceExpression.Create($"{orchestrator.GetEndpoint("http")}/mcp");
orchestrator
    .WithEnvironment("Mcp__Resource", mcpResource)
    .WithEnvironment("Mcp__ServiceClient__ClientId", "orchestrator-mcp")
    .WithEnvironment("Mcp__ServiceClient__ClientSecret", builder.AddRunnerSecret("orchestrator-mcp"));
identity.WithEnvironment("Identity__Resources__0", mcpResource);

// Policy simulates a bundle against the decisions recorded in evidence, read as its own workload identity.
policy
    .WithEnvironment("Policy__ServiceClient__ClientId", "policy-simulator")
    .WithEnvironment("Policy__ServiceClient__ClientSecret", builder.AddRunnerSecret("policy-simulator"));

// Every service knows where the others are (services__<name>__http__0).
IResourceBuilder<ProjectResource>[] services = [identity, graph, policy, orchestrator, fleet, evidence];
foreach (var service in services)
{
    foreach (var other in services.Where(o => o != service))
    {
        service.WithReference(other);
    }
}

// The console: humans sign in at identity (code + PKCE) and call each service with their own exchanged tokens;
// it needs no database, bus or secret of its own. Identity accepts its redirect URIs by exact match.
var console = builder.AddProject<Projects.ControlPlane_Console>("console")
    .WithFixedHttpPort(ports["console"])
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();
foreach (var service in services)
{
    console.WithReference(service);
}

var consoleEndpoint = console.GetEndpoint("http");
var consoleLoopback = $"http://127.0.0.1:{ports["console"]}"; // the address ./run.sh prints
identity
    .WithEnvironment("Identity__Clients__console__RedirectUris__0", ReferenceExpression.Create($"{consoleEndpoint}/signin-oidc"))
    .WithEnvironment("Identity__Clients__console__RedirectUris__1", consoleLoopback + "/signin-oidc")
    .WithEnvironment("Identity__Clients__console__PostLogoutRedirectUris__0", ReferenceExpression.Create($"{consoleEndpoint}/signout-callback-oidc"))
    .WithEnvironment("Identity__Clients__console__PostLogoutRedirectUris__1", consoleLoopback + "/signout-callback-oidc");

// CI/CD (README "CI/CD"): the webhook secrets and the GitHub token are passed on only when the AppHost's own
// configuration has them (user secrets or environment, e.g. Deployments__GitHub__Secret); unset, each stays off.
foreach (var (resource, key) in new[]
{
    (graph, "Deployments:GitHub:Secret"), (graph, "Deployments:ArgoCd:Secret"),
    (orchestrator, "Integrations:GitHub:Token"), (orchestrator, "Integrations:GitHub:ApiBaseUrl"),
})
{
    if (builder.Configuration[key] is { Length: > 0 } value)
    {
        resource.WithEnvironment(key.Replace(":", "__", StringComparison.Ordinal), value);
    }
}

// A witness (c2sp.org/tlog-witness) that cosigns evidence checkpoints only when they extend what it cosigned
// before. Local runs only: in production it belongs to another party, on another machine, configured with the log's
// published key. Here it pins evidence's key on first use (Witness:Logs:0:KeysUrl): evidence creates it at first start.
if (builder.ExecutionContext.IsRunMode)
{
    const string witnessName = "witness.controlplane.local/w1";
    var witness = builder.AddProject<Projects.ControlPlane_Witness>("witness")
        .WithFixedHttpPort(ports["witness"])
        .WithHttpHealthCheck("/health")
        .WithReference(identity) // ServiceDefaults validates tokens; the witness's own endpoints are anonymous by design
        .WithEnvironment("Witness__Name", witnessName)
        .WithEnvironment("Witness__Logs__0__Origin", "controlplane.local/evidence")
        .WithEnvironment("Witness__Logs__0__KeysUrl", ReferenceExpression.Create($"{evidence.GetEndpoint("http")}/evidence/keys"));
    if (builder.Configuration["ControlPlane:WitnessDataDirectory"] is { Length: > 0 } witnessDirectory)
    {
        witness.WithEnvironment("Witness__DataDirectory", witnessDirectory);
    }

    evidence
        .WithEnvironment("Evidence__Witnesses__0__Name", witnessName)
        .WithEnvironment("Evidence__Witnesses__0__Url", witness.GetEndpoint("http"));
}

// One reference runner per fleet. In production runners run next to the systems they change, not in the
// cluster; here they make the demo whole.
foreach (var fleetName in new[] { "testing", "remediation" })
{
    var runnerId = $"runner-{fleetName}-1";
    var runner = builder.AddProject<Projects.ControlPlane_Runner>(runnerId)
        .WithFixedHttpPort(ports[runnerId])
        .WithReference(servers.Messaging).WaitFor(servers.Messaging)
        .WithReference(identity).WaitFor(identity)
        .WithReference(fleet).WaitFor(fleet)
        .WithEnvironment("Runner__Id", runnerId)
        .WithEnvironment("Runner__Fleet", fleetName)
        .WithEnvironment("Runner__ClientId", runnerId)
        .WithEnvironment("Runner__ClientSecret", builder.AddRunnerSecret(runnerId))
        .WithEnvironment("Runner__ConfigFile", $"demo/runner.{fleetName}.json")
        .WithHttpHealthCheck("/health");
    if (builder.Configuration["ControlPlane:RunnerStateRoot"] is { Length: > 0 } stateRoot)
    {
        runner.WithEnvironment("Runner__StateDirectory", Path.Combine(stateRoot, runnerId));
    }
}

// Local runs load the demo data; published deployments start empty.
if (builder.ExecutionContext.IsRunMode)
{
    identity.WithEnvironment("Identity__SeedFile", "Seed/demo-identity.json");
    graph.WithEnvironment("SystemGraph__SeedFile", "Seed/demo-graph.json");
    // Commit statuses link to the proposal's page in the local console.
    orchestrator.WithEnvironment("Integrations__GitHub__ProposalUrl", consoleLoopback + "/proposals/{id}");
}

// After every project is added: they change them all.
LoadRunTelemetry.Apply(builder);
NativeHeap.Apply(builder);

builder.Build().Run();
