using ControlPlane.Cli.Commands;

namespace ControlPlane.Cli.Tests.Graph;

/// <summary>What `controlplane graph import backstage` sends: which files of a folder, under which names.</summary>
public sealed class CatalogFilesTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cli-catalog-");

    [Fact]
    public async Task A_folder_sends_every_yaml_and_yml_file_under_it_with_paths_relative_to_it()
    {
        Directory.CreateDirectory(Path.Combine(_folder.FullName, "payments", "deep"));
        await File.WriteAllTextAsync(Path.Combine(_folder.FullName, "catalog-info.yaml"), "root");
        await File.WriteAllTextAsync(Path.Combine(_folder.FullName, "payments", "deep", "billing.yml"), "billing");
        await File.WriteAllTextAsync(Path.Combine(_folder.FullName, "payments", "notes.md"), "not yaml");

        var files = await CatalogFiles.ReadAsync(_folder.FullName, default);

        Assert.Equal([("catalog-info.yaml", "root"), ("payments/deep/billing.yml", "billing")], files);
    }

    [Fact]
    public async Task A_file_is_sent_alone_and_a_folder_without_yaml_or_a_missing_path_is_an_error()
    {
        var file = Path.Combine(_folder.FullName, "catalog-info.yaml");
        Directory.CreateDirectory(Path.Combine(_folder.FullName, "empty"));
        await File.WriteAllTextAsync(file, "one");

        Assert.Equal([("catalog-info.yaml", "one")], await CatalogFiles.ReadAsync(file, default));
        var empty = await Assert.ThrowsAsync<IOException>(() => CatalogFiles.ReadAsync(Path.Combine(_folder.FullName, "empty"), default));
        var missing = await Assert.ThrowsAsync<IOException>(() => CatalogFiles.ReadAsync(Path.Combine(_folder.FullName, "missing"), default));
        Assert.Contains("holds no .yaml or .yml file", empty.Message, StringComparison.Ordinal);
        Assert.Contains("is neither a file nor a folder", missing.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Delete(recursive: true);
}
