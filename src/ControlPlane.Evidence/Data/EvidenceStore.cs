using System.Data;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using ControlPlane.Contracts;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Redaction;
using Npgsql;

namespace ControlPlane.Evidence.Data;

/// <summary>What a bundle is built from, read in one snapshot so the records, keys, head and committed field values agree.</summary>
public sealed record BundleSnapshot(IReadOnlyList<EvidenceRecord> Records, IReadOnlyList<EvidenceRecord> KeyRecords, ChainHead Head, IReadOnlyList<StoredField> Fields);

/// <summary>Filters of GET /evidence/records; null means "any". Human and actor both match the record's actor.</summary>
public sealed record EvidenceQuery(string? Kind = null, string? Actor = null, string? Agent = null, string? Environment = null, DateTimeOffset? From = null, DateTimeOffset? To = null);

/// <summary>Reads the evidence log. Rows become <see cref="EvidenceRecord"/>s spelled exactly as they were hashed.</summary>
public sealed class EvidenceStore(NpgsqlDataSource dataSource)
{
    private const string Columns =
        "sequence, record_id, kind, proposal_id, actor, occurred_at, recorded_at, payload, payload_hash, prev_hash, proposal_prev_hash, record_hash";

    public async Task<IReadOnlyList<EvidenceRecord>> ProposalAsync(Guid proposalId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ProposalAsync(connection, null, proposalId, cancellationToken);
    }

    /// <summary>Records after sequence <paramref name="since"/> matching the query, oldest first.</summary>
    public async Task<IReadOnlyList<EvidenceRecord>> PageAsync(EvidenceQuery query, long since, int limit, CancellationToken cancellationToken)
    {
        await using var command = Filtered($"select {Columns} from evidence_records r where r.sequence > $7 and {Where} order by r.sequence limit $8", query);
        command.Parameters.Add(new() { Value = since });
        command.Parameters.Add(new() { Value = limit });
        return await ReadAllAsync(command, cancellationToken);
    }

    /// <summary>One page (1-based) of the records matching the query, newest first, and how many match in all.</summary>
    public async Task<(IReadOnlyList<EvidenceRecord> Records, long Total)> SearchAsync(EvidenceQuery query, int page, int pageSize, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using var count = Filtered($"select count(*) from evidence_records r where {Where}", query, connection, tx);
        var total = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        await using var select = Filtered($"select {Columns} from evidence_records r where {Where} order by r.sequence desc offset $7 limit $8", query, connection, tx);
        select.Parameters.Add(new() { Value = (long)(page - 1) * pageSize });
        select.Parameters.Add(new() { Value = pageSize });
        var records = await ReadAllAsync(select, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return (records, total);
    }

    /// <summary>
    /// The audit filters: kind; actor (exactly); agent (records it is the actor of, and every record of its
    /// proposals); environment (records of proposals in it); occurred_at in [from, to). Agent and environment
    /// read the autonomy projection, which holds each proposal's agent and environment.
    /// </summary>
    private const string Where = """
        ($1::text is null or r.kind = $1)
        and ($2::text is null or r.actor = $2)
        and ($3::text is null or r.actor = $3 or r.proposal_id in (select proposal_id from autonomy_proposals where agent = $3))
        and ($4::text is null or r.proposal_id in (select proposal_id from autonomy_proposals where environment = $4))
        and ($5::timestamptz is null or r.occurred_at >= $5)
        and ($6::timestamptz is null or r.occurred_at < $6)
        """;

    private NpgsqlCommand Filtered(string sql, EvidenceQuery query, NpgsqlConnection? connection = null, NpgsqlTransaction? tx = null)
    {
        var command = connection is null ? dataSource.CreateCommand(sql) : new NpgsqlCommand(sql, connection, tx);
        command.Parameters.Add(new() { Value = (object?)query.Kind ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)query.Actor ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)query.Agent ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)query.Environment ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)query.From?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = (object?)query.To?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        return command;
    }

    /// <summary>A proposal's records, every SigningKeyPublished record and the global head, in one repeatable-read snapshot.</summary>
    public async Task<BundleSnapshot?> BundleSnapshotAsync(Guid proposalId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var records = await ProposalAsync(connection, tx, proposalId, cancellationToken);
        if (records.Count == 0)
        {
            return null;
        }

        await using var keys = new NpgsqlCommand($"select {Columns} from evidence_records where kind = $1 order by sequence", connection, tx);
        keys.Parameters.Add(new() { Value = nameof(SigningKeyPublished) });
        var keyRecords = await ReadAllAsync(keys, cancellationToken);

        var fields = new List<StoredField>();
        await using (var values = new NpgsqlCommand("""
            select f.sequence, f.path, f.value, f.salt, f.commitment from evidence_field_values f
            join evidence_records r on r.sequence = f.sequence where r.proposal_id = $1 order by f.sequence, f.path
            """, connection, tx))
        {
            values.Parameters.Add(new() { Value = proposalId });
            await using var read = await values.ExecuteReaderAsync(cancellationToken);
            while (await read.ReadAsync(cancellationToken))
            {
                fields.Add(new StoredField(read.GetInt64(0), read.GetString(1), read.GetString(2), read.GetFieldValue<byte[]>(3), read.GetString(4)));
            }
        }

        await using var head = new NpgsqlCommand("select sequence, record_hash from evidence_records order by sequence desc limit 1", connection, tx);
        await using var reader = await head.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new BundleSnapshot(records, keyRecords, new ChainHead(reader.GetInt64(0), reader.GetString(1)), fields);
    }

    /// <summary>Every record in sequence order, streamed (constant memory).</summary>
    public async IAsyncEnumerable<EvidenceRecord> AllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"select {Columns} from evidence_records order by sequence");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return Read(reader);
        }
    }

    /// <summary>Recomputes the whole global chain; reports the first sequence that does not verify.</summary>
    public async Task<ChainVerification> VerifyChainAsync(CancellationToken cancellationToken)
    {
        var verifier = new EvidenceChainVerifier();
        await foreach (var record in AllAsync(cancellationToken))
        {
            if (verifier.Add(record) is { } failure)
            {
                return new ChainVerification(false, verifier.Count, verifier.Count, verifier.Head, verifier.Count + 1, failure);
            }
        }

        return new ChainVerification(true, verifier.Count, verifier.Count, verifier.Head, null, null);
    }

    private static async Task<IReadOnlyList<EvidenceRecord>> ProposalAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, Guid proposalId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"select {Columns} from evidence_records where proposal_id = $1 order by sequence", connection, tx);
        command.Parameters.Add(new() { Value = proposalId });
        return await ReadAllAsync(command, cancellationToken);
    }

    private static async Task<IReadOnlyList<EvidenceRecord>> ReadAllAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var records = new List<EvidenceRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(Read(reader));
        }

        return records;
    }

    /// <summary>
    /// A payload that is no longer JSON (edited behind the triggers' back) is carried as a string value, so its
    /// hash no longer matches and chain verification names the record instead of failing the request.
    /// </summary>
    private static JsonNode ParsePayload(string text)
    {
        try
        {
            return JsonNode.Parse(text) ?? JsonValue.Create(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    private static EvidenceRecord Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        EvidenceFormat.Id(reader.GetGuid(1)),
        reader.GetString(2),
        reader.IsDBNull(3) ? null : EvidenceFormat.Id(reader.GetGuid(3)),
        reader.IsDBNull(4) ? null : reader.GetString(4),
        EvidenceFormat.Timestamp(reader.GetFieldValue<DateTimeOffset>(5)),
        EvidenceFormat.Timestamp(reader.GetFieldValue<DateTimeOffset>(6)),
        ParsePayload(reader.GetString(7)),
        reader.GetString(8),
        reader.GetString(9),
        reader.IsDBNull(10) ? null : reader.GetString(10),
        reader.GetString(11));
}
