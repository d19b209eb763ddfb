namespace ControlPlane.Runner.Tests.Unit;

/// <summary>The repository the tests run from (the demo files live in it).</summary>
internal static class Repository
{
    public static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ControlPlane.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("ControlPlane.sln not found above the test output");
    }
}
