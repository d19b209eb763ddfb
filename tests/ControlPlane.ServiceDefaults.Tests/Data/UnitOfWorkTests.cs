using System.Collections.Concurrent;
using System.Diagnostics;
using ControlPlane.ServiceDefaults.Data;
using ControlPlane.Testing;
using Npgsql;

namespace ControlPlane.ServiceDefaults.Tests.Data;

/// <summary>
/// Writes a unit of work holds back (<see cref="UnitOfWork.Defer"/>) reach PostgreSQL together, in order, before
/// anything that reads and with the commit; a write that must change one row and does not fails the unit before its
/// commit, and an uncommitted unit sends none.
/// </summary>
public sealed class UnitOfWorkTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private readonly string _table = "notes_" + Guid.NewGuid().ToString("N")[..12];

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync("unitofwork");
        _dataSource = DatabaseExtensions.DataSourceBuilder(_database.ConnectionString).Build();
        // The shared migrations every service database has (outbox, inbox, expect_one_changed_row), then a table of our own.
        var shared = new MigrationSet(typeof(UnitOfWork).Assembly).Load().Where(m => m.Id.StartsWith("shared/", StringComparison.Ordinal)).DistinctBy(m => m.Id);
        foreach (var sql in shared.Select(m => m.Sql).Append($"create table {_table} (id int primary key, text text not null)"))
        {
            await using var create = _dataSource.CreateCommand(sql);
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Writes_held_back_reach_the_server_in_one_round_trip_at_the_commit_in_the_order_they_were_made()
    {
        var ct = TestContext.Current.CancellationToken;
        using var trips = new RoundTrips(_table);
        await using (var work = await UnitOfWork.BeginAsync(_dataSource, ct))
        {
            Insert(work, 1, "first");
            // Depends on the first: run out of order it would update nothing.
            work.Defer($"update {_table} set text = text || ', then second' where id = 1");
            Insert(work, 2, "third");
            Assert.Equal(3, work.DeferredCount);
            Assert.Empty(trips.Statements);
            await work.CommitAsync(ct);
        }

        // The commit too: Npgsql traces a commit of its own as no command, so it is in the batch or nowhere.
        var trip = Assert.Single(trips.Statements);
        Assert.Contains("insert", trip, StringComparison.Ordinal);
        Assert.Contains("update", trip, StringComparison.Ordinal);
        Assert.EndsWith("commit", trip, StringComparison.Ordinal);
        Assert.Equal(["first, then second", "third"], await TextsAsync(ct));
    }

    [Fact]
    public async Task A_write_that_must_change_one_row_and_does_commits_with_the_others()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var work = await UnitOfWork.BeginAsync(_dataSource, ct))
        {
            Insert(work, 1, "first");
            work.DeferChangingOneRow($"update {_table} set text = 'checked' where id = 1", () => new InvalidOperationException("no conflict expected"));
            await work.CommitAsync(ct);
        }

        Assert.Equal(["checked"], await TextsAsync(ct));
    }

    [Fact]
    public async Task A_statement_that_needs_an_answer_sees_the_writes_held_back_before_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var work = await UnitOfWork.BeginAsync(_dataSource, ct);
        Insert(work, 1, "held back");
        await using var count = await work.CommandAsync($"select count(*) from {_table}");
        Assert.Equal(0, work.DeferredCount);
        Assert.Equal(1L, await count.ExecuteScalarAsync(ct));
    }

    [Theory]
    [InlineData("id = 99", 0)]
    [InlineData("id in (1, 2)", 2)]
    public async Task A_write_that_changes_another_number_of_rows_than_one_fails_the_commit_and_nothing_of_the_unit_is_written(string where, int changed)
    {
        var ct = TestContext.Current.CancellationToken;
        await SeedAsync(ct, "one", "two");

        await using (var work = await UnitOfWork.BeginAsync(_dataSource, ct))
        {
            Insert(work, 3, "written before the check");
            work.DeferChangingOneRow($"update {_table} set text = 'x' where {where}", () => new InvalidOperationException("moved"));
            Insert(work, 4, "written after the check");

            var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => work.CommitAsync(ct));
            Assert.Equal("moved", failed.Message);
        }

        Assert.Equal(["one", "two"], await TextsAsync(ct));
        await using var count = _dataSource.CreateCommand($"select expect_one_changed_row({changed}, 0)");
        var raised = await Assert.ThrowsAsync<PostgresException>(() => count.ExecuteScalarAsync(ct));
        Assert.Equal(UnitOfWork.NotOneChangedRowState, raised.SqlState);
        Assert.Contains($"changed {changed}", raised.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Of_two_checked_writes_in_one_round_trip_the_unit_fails_with_the_exception_of_the_one_that_missed()
    {
        var ct = TestContext.Current.CancellationToken;
        await SeedAsync(ct, "one");

        await using var work = await UnitOfWork.BeginAsync(_dataSource, ct);
        work.DeferChangingOneRow($"update {_table} set text = 'x' where id = 1", () => new InvalidOperationException("the first"));
        work.DeferChangingOneRow($"update {_table} set text = 'y' where id = 2", () => new InvalidOperationException("the second"));
        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => work.FlushAsync(ct).AsTask());
        Assert.Equal("the second", failed.Message);
    }

    [Fact]
    public async Task A_unit_that_ends_without_a_commit_sends_nothing_it_held_back()
    {
        var ct = TestContext.Current.CancellationToken;
        using var trips = new RoundTrips(_table);
        await using (var work = await UnitOfWork.BeginAsync(_dataSource, ct))
        {
            Insert(work, 1, "never sent");
        }

        Assert.Empty(trips.Statements);
        Assert.Empty(await TextsAsync(ct));
    }

    [Fact]
    public async Task Its_connection_is_not_handed_out_while_writes_are_held_back()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var work = await UnitOfWork.BeginAsync(_dataSource, ct);
        Insert(work, 1, "held back");

        var refused = Assert.Throws<InvalidOperationException>(() => work.Connection);
        Assert.Contains("FlushAsync", refused.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => work.Transaction);

        await work.FlushAsync(ct);
        await using var read = new NpgsqlCommand($"select text from {_table}", work.Connection, work.Transaction);
        Assert.Equal("held back", await read.ExecuteScalarAsync(ct));
    }

    [Fact]
    public async Task The_inbox_and_the_reads_a_consumer_needs_next_share_one_round_trip_and_a_redelivery_reads_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await SeedAsync(ct, "one", "two");

        var messageId = Guid.NewGuid();
        using var trips = new RoundTrips(_table);
        await using (var work = await UnitOfWork.BeginAsync(_dataSource, ct))
        {
            await using (var reads = await work.AcceptOnceAndReadAsync("notes", messageId, Reads(), ct))
            {
                Assert.NotNull(reads);
                Assert.True(await reads.ReadAsync(ct));
                Assert.Equal("one", reads.GetString(0));
                Assert.True(await reads.NextResultAsync(ct));
                Assert.True(await reads.ReadAsync(ct));
                Assert.Equal(2L, reads.GetInt64(0));
            }

            await work.CommitAsync(ct);
        }

        var trip = Assert.Single(trips.Statements);
        Assert.StartsWith("insert into inbox_messages", trip, StringComparison.Ordinal);

        await using (var again = await UnitOfWork.BeginAsync(_dataSource, ct))
        {
            Assert.Null(await again.AcceptOnceAndReadAsync("notes", messageId, Reads(), ct));
        }

        NpgsqlBatchCommand[] Reads() =>
        [
            new($"select text from {_table} where id = $1") { Parameters = { new() { Value = 1 } } },
            new($"select count(*) from {_table}"),
        ];
    }

    /// <summary>Committed rows with ids 1, 2, ... and these texts.</summary>
    private async Task SeedAsync(CancellationToken ct, params string[] texts)
    {
        await using var seed = await UnitOfWork.BeginAsync(_dataSource, ct);
        for (var i = 0; i < texts.Length; i++)
        {
            Insert(seed, i + 1, texts[i]);
        }

        await seed.CommitAsync(ct);
    }

    private void Insert(UnitOfWork work, int id, string text)
    {
        var insert = work.Defer($"insert into {_table} (id, text) values ($1, $2)");
        insert.Parameters.Add(new() { Value = id });
        insert.Parameters.Add(new() { Value = text });
    }

    private async Task<List<string>> TextsAsync(CancellationToken ct)
    {
        await using var read = _dataSource.CreateCommand($"select text from {_table} order by id");
        await using var reader = await read.ExecuteReaderAsync(ct);
        var texts = new List<string>();
        while (await reader.ReadAsync(ct))
        {
            texts.Add(reader.GetString(0));
        }

        return texts;
    }

    /// <summary>Npgsql traces each command or batch it sends as one activity: the ones naming this test's table.</summary>
    private sealed class RoundTrips : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<string> _statements = new();

        public RoundTrips(string table)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "Npgsql",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStopped = activity =>
                {
                    if (activity.GetTagItem("db.query.text") is string text && text.Contains(table, StringComparison.Ordinal))
                    {
                        _statements.Enqueue(text);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<string> Statements => [.. _statements];

        public void Dispose() => _listener.Dispose();
    }
}
