using System.Text.Json;
using ControlPlane.Contracts;
using ControlPlane.Identity.Keys;
using ControlPlane.Identity.Principals;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.ServiceDefaults.Security;

namespace ControlPlane.Identity.Seeding;

/// <summary>A seed file: principals for local runs and tests (Identity:SeedFile). Plain secrets only in Development.</summary>
public sealed record IdentitySeed(IReadOnlyList<SeedHuman>? Humans, IReadOnlyList<SeedAgent>? Agents);

public sealed record SeedHuman(string Id, string Name, string? Email, IReadOnlyList<string>? Bindings);

public sealed record SeedAgent(
    string Id,
    string Name,
    string Sponsor,
    string Fleet,
    IReadOnlyList<string>? Environments,
    IReadOnlyList<string>? ActionKinds,
    IReadOnlyList<string>? Bindings,
    string? Secret);

/// <summary>
/// At start: makes sure a signing key exists, then applies the seed file if one is configured. Idempotent, so a
/// second ./run.sh reuses what the first created.
/// </summary>
public sealed partial class IdentityStartup(
    SigningKeyStore keys, PrincipalWriter principals, DatabaseMigrator migrator, IConfiguration configuration,
    IHostEnvironment environment, ILogger<IdentityStartup> logger) : IHostedService
{
    public const string Actor = "system:seed";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!migrator.Completed)
        {
            throw new InvalidOperationException("identity started before its migrations ran.");
        }

        await keys.VerifyStoredKeysAsync(cancellationToken);
        await keys.EnsureActiveKeyAsync(cancellationToken);
        if (configuration["Identity:SeedFile"] is { Length: > 0 } path)
        {
            await using var stream = File.OpenRead(Resolve(path));
            var seed = await JsonSerializer.DeserializeAsync<IdentitySeed>(stream, ContractJson.Options, cancellationToken)
                ?? throw new InvalidOperationException($"Seed file {path} is empty.");
            await ApplyAsync(seed, cancellationToken);
            LogSeeded(logger, path, seed.Humans?.Count ?? 0, seed.Agents?.Count ?? 0);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A relative seed path is looked up under the content root, then next to the binaries (the file is copied to output).</summary>
    private string Resolve(string path)
    {
        if (Path.IsPathRooted(path))
        {
            return path;
        }

        var underContentRoot = Path.Combine(environment.ContentRootPath, path);
        return File.Exists(underContentRoot) ? underContentRoot : Path.Combine(AppContext.BaseDirectory, path);
    }

    private async Task ApplyAsync(IdentitySeed seed, CancellationToken cancellationToken)
    {
        foreach (var human in seed.Humans ?? [])
        {
            await principals.UpsertSeedAsync(new Principal(human.Id, PrincipalKind.Human, human.Name, human.Email, null, null, [], [],
                human.Bindings ?? [], null), Actor, cancellationToken);
        }

        foreach (var agent in seed.Agents ?? [])
        {
            await principals.UpsertSeedAsync(new Principal(agent.Id, PrincipalKind.Agent, agent.Name, null, agent.Sponsor, agent.Fleet,
                agent.Environments ?? [], agent.ActionKinds ?? [], agent.Bindings ?? [], null), Actor, cancellationToken);
            if (agent.Secret is { Length: > 0 } secret)
            {
                if (!environment.IsDevelopment())
                {
                    throw new InvalidOperationException("Seed files with plain client secrets are accepted only in Development.");
                }

                await principals.AddSeedSecretAsync(agent.Id, agent.Id + ":seed-secret", secret, Actor, cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied seed {Path}: {Humans} humans, {Agents} agents")]
    private static partial void LogSeeded(ILogger logger, string path, int humans, int agents);
}
