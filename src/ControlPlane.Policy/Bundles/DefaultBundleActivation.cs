using ControlPlane.Policy.Data;

namespace ControlPlane.Policy.Bundles;

/// <summary>
/// At start: activates the shipped default bundle when no bundle was ever activated (a fresh policy-db), so the
/// plane has a stance from the first proposal. Never replaces a bundle someone activated, even an older one.
/// </summary>
public sealed partial class DefaultBundleActivation(PolicyStore store, ILogger<DefaultBundleActivation> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var parsed = BundleParser.Parse(DefaultBundle.Yaml);
        if (!parsed.IsValid)
        {
            throw new InvalidOperationException($"The shipped default bundle is invalid: {string.Join("; ", parsed.Errors)}");
        }

        if (await store.ActivateIfNoneEverAsync(parsed.Bundle!, DefaultBundle.Yaml, DefaultBundle.ActivatedBy, cancellationToken))
        {
            LogActivated(logger, CompiledPolicy.HashOf(parsed.Bundle!));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "No policy bundle was ever activated: activated the default bundle {BundleHash}")]
    private static partial void LogActivated(ILogger logger, string bundleHash);
}
