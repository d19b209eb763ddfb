namespace ControlPlane.Runner.Tests.Unit;

/// <summary>The repository the tests run from (the demo files live in it).</summary>
internal static class Repository
{
    public static string Root() => ControlPlane.Testing.RepositoryRoot.Path;
}
