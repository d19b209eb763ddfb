// The ControlPlane topology for Aspire 13: `dotnet run --project ControlPlane.AppHost` (Docker needed) runs it
// with the dashboard; `aspire publish` writes Kubernetes artifacts. ./run.sh starts the same resources with the
// same names and configuration keys on machines without Docker; keep the two in step.
var builder = DistributedApplication.CreateBuilder(args);

builder.AddKubernetesEnvironment("k8s");

// MassTransit 8.4 declares its temporary bus queue non-durable and non-exclusive, which RabbitMQ 4.3 refuses
// (AMQP 541): stay on the 4.2 line until MassTransit makes that queue exclusive.
var messaging = builder.AddRabbitMQ("messaging")
    .WithManagementPlugin()
    .WithImageTag("4.2-management")
    .WithDataVolume();

var postgres = builder.AddPostgres("postgres")
    .WithImageTag("17.6")
    .WithDataVolume();
var identityDb = postgres.AddDatabase("identity-db");
var graphDb = postgres.AddDatabase("graph-db");
var policyDb = postgres.AddDatabase("policy-db");
var orchestratorDb = postgres.AddDatabase("orchestrator-db");
var fleetDb = postgres.AddDatabase("fleet-db");
var evidenceDb = postgres.AddDatabase("evidence-db");

var cache = builder.AddRedis("cache");

// Key-encryption keys for the private keys each signer keeps at rest. Aspire asks for them on first run and
// stores them in user secrets; in Kubernetes they become secrets.
var identityKek = builder.AddParameter("identity-key-encryption-key", secret: true);
var fleetKek = builder.AddParameter("fleet-key-encryption-key", secret: true);
var evidenceKek = builder.AddParameter("evidence-key-encryption-key", secret: true);

// Consumers before publishers on a first start: a message published before its consumer's queue exists is
// dropped by the exchange. Evidence (which records every event) starts first; identity (whose seed events policy
// projects) after the services. Services need identity's address, not identity itself, to start.
var evidence = builder.AddProject<Projects.ControlPlane_Evidence>("evidence")
    .WithReference(evidenceDb).WaitFor(evidenceDb)
    .WithReference(messaging).WaitFor(messaging)
    .WithEnvironment("Evidence__KeyEncryptionKey", evidenceKek)
    .WithHttpHealthCheck("/health");

IResourceBuilder<ProjectResource> AddService<TProject>(string name, IResourceBuilder<PostgresDatabaseResource> database)
    where TProject : IProjectMetadata, new() =>
    builder.AddProject<TProject>(name)
        .WithReference(database).WaitFor(database)
        .WithReference(messaging).WaitFor(messaging)
        .WaitFor(evidence)
        .WithHttpHealthCheck("/health");

var graph = AddService<Projects.ControlPlane_SystemGraph>("system-graph", graphDb);
var policy = AddService<Projects.ControlPlane_Policy>("policy", policyDb);
var fleet = AddService<Projects.ControlPlane_Fleet>("fleet", fleetDb)
    .WithEnvironment("Fleet__KeyEncryptionKey", fleetKek);
// Fleet consumes the WorkRequested orchestrator publishes: it binds its queue first.
var orchestrator = AddService<Projects.ControlPlane_Orchestrator>("orchestrator", orchestratorDb)
    .WithReference(cache).WaitFor(cache)
    .WaitFor(fleet)
    .WithExternalHttpEndpoints();

var identity = builder.AddProject<Projects.ControlPlane_Identity>("identity")
    .WithReference(identityDb).WaitFor(identityDb)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(cache).WaitFor(cache)
    .WaitFor(policy)
    .WithEnvironment("Identity__KeyEncryptionKey", identityKek)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();
// Tokens must name one issuer whichever address they were fetched through.
identity.WithEnvironment("Identity__Issuer", identity.GetEndpoint("http"));

// Every service knows where the others are (services__<name>__http__0), as ./run.sh sets it.
IResourceBuilder<ProjectResource>[] services = [identity, graph, policy, orchestrator, fleet, evidence];
foreach (var service in services)
{
    foreach (var other in services.Where(o => o != service))
    {
        service.WithReference(other);
    }
}

// One reference runner per fleet. In production runners run next to the systems they change, not in the
// cluster; here they make the demo whole. Their client secrets are parameters like any other secret.
foreach (var fleetName in new[] { "testing", "remediation" })
{
    var runnerId = $"runner-{fleetName}-1";
    var runnerSecret = builder.AddParameter($"{runnerId}-secret", secret: true);
    builder.AddProject<Projects.ControlPlane_Runner>(runnerId)
        .WithReference(messaging).WaitFor(messaging)
        .WithReference(identity).WaitFor(identity)
        .WithReference(fleet).WaitFor(fleet)
        .WithEnvironment("Runner__Id", runnerId)
        .WithEnvironment("Runner__Fleet", fleetName)
        .WithEnvironment("Runner__ClientId", runnerId)
        .WithEnvironment("Runner__ClientSecret", runnerSecret)
        .WithEnvironment("Runner__ConfigFile", $"demo/runner.{fleetName}.json")
        .WithHttpHealthCheck("/health");
}

// Local runs load the demo data (./run.sh does the same); published deployments start empty.
if (builder.ExecutionContext.IsRunMode)
{
    identity.WithEnvironment("Identity__SeedFile", "Seed/demo-identity.json");
    graph.WithEnvironment("SystemGraph__SeedFile", "Seed/demo-graph.json");
}

builder.Build().Run();
