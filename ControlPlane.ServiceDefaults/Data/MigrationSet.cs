using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.ServiceDefaults.Data;

/// <summary>A migration: an id that sorts in apply order, the SQL, and a checksum that catches edits after release.</summary>
public sealed record Migration(string Id, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

/// <summary>
/// The ordered migrations of a service: the shared ones from ServiceDefaults (outbox, inbox) first, then the
/// service's own, embedded as resources named *.Data.Migrations.NNNN_name.sql.
/// </summary>
public sealed class MigrationSet(Assembly serviceAssembly)
{
    public IReadOnlyList<Migration> Load() =>
        [.. Read(typeof(MigrationSet).Assembly, "shared"), .. Read(serviceAssembly, "service")];

    private static IEnumerable<Migration> Read(Assembly assembly, string scope)
    {
        const string marker = ".Data.Migrations.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.Contains(marker, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => (Name: n[(n.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..^4], Resource: n))
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .Select(m =>
            {
                using var stream = assembly.GetManifestResourceStream(m.Resource)!;
                using var reader = new StreamReader(stream, Encoding.UTF8);
                return new Migration($"{scope}/{m.Name}", reader.ReadToEnd());
            })
            .ToList();
    }
}
