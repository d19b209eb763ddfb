using System.CommandLine;
using ControlPlane.Cli.Commands;
using Spectre.Console;
using static ControlPlane.SystemGraph.Tests.Catalog.CatalogSamples;

namespace ControlPlane.SystemGraph.Tests.Catalog;

/// <summary>`controlplane graph import backstage` in-process against the real system-graph. Dry runs only: the API tests own the writes.</summary>
[Collection(CatalogImportCollection.Name)]
public sealed class CatalogImportCliTests(CatalogImportFixture fixture)
{
    private async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        Environment.SetEnvironmentVariable("services__system-graph__http__0", fixture.Plane.Host.BaseAddress.ToString());
        Environment.SetEnvironmentVariable("CONTROLPLANE_TOKEN", await fixture.Plane.Identity.HumanTokenAsync(GraphFixture.Admin, "system-graph"));
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No, Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 1000;
        var root = new RootCommand("test") { GraphImportCommand.Create(console) };
        try
        {
            var exitCode = await root.Parse(["graph", "import", "backstage", .. args]).InvokeAsync();
            return (exitCode, writer.ToString());
        }
        finally
        {
            // The CLI reads where the plane is and the token from the environment; leave none behind for the services other tests start.
            Environment.SetEnvironmentVariable("services__system-graph__http__0", null);
            Environment.SetEnvironmentVariable("CONTROLPLANE_TOKEN", null);
        }
    }

    [Fact]
    public async Task A_dry_run_of_the_demo_folder_reads_every_file_and_writes_nothing()
    {
        var before = await fixture.Plane.CountAsync("select version from graph_head");

        var (exitCode, output) = await RunAsync(DemoFolder, "--dry-run");

        Assert.Equal(0, exitCode);
        Assert.Contains("8 file(s): 14 nodes, 18 edges in the catalog", output, StringComparison.Ordinal);
        Assert.Contains($"dry run: nothing written (graph version {before})", output, StringComparison.Ordinal);
        Assert.Equal(before, await fixture.Plane.CountAsync("select version from graph_head"));
    }

    [Fact]
    public async Task An_invalid_catalog_exits_1_printing_each_problem_with_file_line_entity_and_field()
    {
        var folder = Directory.CreateTempSubdirectory("catalog-cli-");
        try
        {
            foreach (var file in DemoFiles())
            {
                var target = Path.Combine(folder.FullName, file.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                await File.WriteAllTextAsync(target, file.Content.Replace("component:search", "component:serch", StringComparison.Ordinal));
            }

            var (exitCode, output) = await RunAsync(folder.FullName, "--dry-run");
            var (missing, missingOutput) = await RunAsync(Path.Combine(folder.FullName, "nothing-here"));

            Assert.Equal(1, exitCode);
            Assert.Contains("platform/catalog-info.yaml:20 component:gateway spec.dependsOn: unknown ref 'component:serch'", output, StringComparison.Ordinal);
            Assert.Contains("web/catalog-info.yaml:16 component:web-app spec.dependsOn", output, StringComparison.Ordinal);
            Assert.Equal(GraphImportCommand.Unreadable, missing);
            Assert.Contains("is neither a file nor a folder", missingOutput, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
