using BenchmarkDotNet.Attributes;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Benchmarks.Graph;

/// <summary>
/// The anchor for <see cref="ImpactBenchmarks"/>: the same generated graph loaded into a scratch database and the
/// blast radius asked of PostgreSQL as a cycle-safe recursive CTE (UNION, not UNION ALL: a node already found is not
/// walked again, so cycles end), the dependent ids read back to the client. It computes only the set of ids - no depth,
/// no path, no facts or reasons - so it does less than ours. Needs the PostgreSQL of eng/servers.sh
/// (CP_BENCH_POSTGRES overrides the connection string; the database is controlplane_bench_scratch).
/// </summary>
public class ImpactCteBenchmarks
{
    private const string Database = "controlplane_bench_scratch";
    private const string Walk = """
        WITH RECURSIVE impacted(id) AS (
            SELECT $1
            UNION
            SELECT e.from_id FROM bench_edges e JOIN impacted i ON e.to_id = i.id)
        SELECT id FROM impacted WHERE id <> $1
        """;

    private LayeredGraph _graph = null!;
    private NpgsqlDataSource _dataSource = null!;

    [Params("10k", "100k")]
    public string Graph { get; set; } = "10k";

    [GlobalSetup]
    public void Setup()
    {
        _graph = LayeredGraph.Create(Graph);
        var server = Environment.GetEnvironmentVariable("CP_BENCH_POSTGRES") ?? "Host=127.0.0.1;Port=5432;Username=postgres";
        using (var admin = new NpgsqlConnection(server))
        {
            admin.Open();
            using var exists = new NpgsqlCommand($"SELECT 1 FROM pg_database WHERE datname = '{Database}'", admin);
            if (exists.ExecuteScalar() is null)
            {
                using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", admin);
                create.ExecuteNonQuery();
            }
        }

        _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(server) { Database = Database }.ConnectionString);
        using var connection = _dataSource.OpenConnection();
        Execute(connection, "DROP TABLE IF EXISTS bench_edges; CREATE TABLE bench_edges (from_id text NOT NULL, to_id text NOT NULL, PRIMARY KEY (to_id, from_id))");
        using (var copy = connection.BeginBinaryImport("COPY bench_edges (from_id, to_id) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var edge in _graph.Edges.DistinctBy(e => (e.From, e.To)))
            {
                copy.StartRow();
                copy.Write(edge.From, NpgsqlDbType.Text);
                copy.Write(edge.To, NpgsqlDbType.Text);
            }

            copy.Complete();
        }

        Execute(connection, "VACUUM ANALYZE bench_edges");
        Console.WriteLine($"// graph {Graph} in PostgreSQL: dependents of hub {Count(_graph.Hub)}, bottom {Count(_graph.Bottom)}, mid {Count(_graph.Mid)}, leaf {Count(_graph.Leaf)}");
    }

    [GlobalCleanup]
    public void Cleanup() => _dataSource.Dispose();

    [Benchmark(Description = "hub")]
    public int Hub() => Count(_graph.Hub);

    [Benchmark(Description = "bottom-layer")]
    public int Bottom() => Count(_graph.Bottom);

    [Benchmark(Description = "mid-layer")]
    public int Mid() => Count(_graph.Mid);

    [Benchmark(Description = "leaf")]
    public int Leaf() => Count(_graph.Leaf);

    private int Count(string target)
    {
        using var command = _dataSource.CreateCommand(Walk);
        command.Parameters.Add(new NpgsqlParameter { Value = target });
        using var reader = command.ExecuteReader();
        var count = 0;
        while (reader.Read())
        {
            _ = reader.GetString(0);
            count++;
        }

        return count;
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
