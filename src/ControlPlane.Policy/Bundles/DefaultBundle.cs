namespace ControlPlane.Policy.Bundles;

/// <summary>The bundle shipped with the service (Bundles/default-bundle.yaml, embedded): the product's stance out of the box.</summary>
public static class DefaultBundle
{
    public const string ActivatedBy = "system:default-bundle";
    private const string ResourceName = "ControlPlane.Policy.default-bundle.yaml";

    public static string Yaml { get; } = Load();

    private static string Load()
    {
        using var stream = typeof(DefaultBundle).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The default policy bundle resource {ResourceName} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
