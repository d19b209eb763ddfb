using Npgsql;

namespace ControlPlane.Load;

/// <summary>Evidence records the plane appended during the run, read from evidence's own table.</summary>
public sealed record EvidenceAppends(long Count, DateTimeOffset? First, DateTimeOffset? Last)
{
    public double? PerSecond => Count >= 2 && First is { } first && Last is { } last && last > first ? Count / (last - first).TotalSeconds : null;

    /// <summary>
    /// evidence's database on the local server: ./run.sh names it with this clone's prefix (.state/db-prefix).
    /// Null when the database is not there (the count is then left out, never guessed).
    /// </summary>
    public static async Task<EvidenceAppends?> ReadAsync(string connectionString, string database, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Database = database };
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var query = new NpgsqlCommand(
                "select count(*), min(recorded_at), max(recorded_at) from evidence_records where recorded_at between $1 and $2", connection)
            {
                Parameters = { new() { Value = from }, new() { Value = to } },
            };
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new EvidenceAppends(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidCatalogName or PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }

    /// <summary>The evidence database ./run.sh uses from this folder: "{prefix}evidence-db".</summary>
    public static string DefaultDatabase(string root)
    {
        var prefixFile = Path.Combine(root, ".state", "db-prefix");
        return (File.Exists(prefixFile) ? File.ReadAllText(prefixFile).Trim() : "") + "evidence-db";
    }
}
