using System.Text;
using ControlPlane.Contracts.Evidence;
using ControlPlane.Evidence.Verification.Redaction;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Evidence.Recording;

/// <summary>
/// A batch's new records as columns, inserted by one statement: PostgreSQL then runs one insert for the batch instead
/// of one per record. The sequence is in every row, so the rows' order in the arrays does not matter.
/// </summary>
internal sealed class RecordRows(int capacity)
{
    private readonly List<long> _sequence = new(capacity);
    private readonly List<Guid> _recordId = new(capacity);
    private readonly List<Guid?> _messageId = new(capacity);
    private readonly List<string> _kind = new(capacity);
    private readonly List<Guid?> _proposalId = new(capacity);
    private readonly List<string?> _actor = new(capacity);
    private readonly List<DateTimeOffset> _occurredAt = new(capacity);
    private readonly List<string> _payload = new(capacity);
    private readonly List<string> _payloadHash = new(capacity);
    private readonly List<string> _prevHash = new(capacity);
    private readonly List<string?> _proposalPrevHash = new(capacity);
    private readonly List<string> _recordHash = new(capacity);

    public int Count => _sequence.Count;

    public void Add(EvidenceRecord record, EvidenceDraft draft, Guid? messageId)
    {
        _sequence.Add(record.Sequence);
        _recordId.Add(Guid.Parse(record.RecordId));
        _messageId.Add(messageId);
        _kind.Add(record.Kind);
        _proposalId.Add(draft.ProposalId);
        _actor.Add(record.Actor);
        _occurredAt.Add(EvidenceFormat.Truncate(draft.OccurredAt));
        _payload.Add(Encoding.UTF8.GetString(draft.CanonicalPayload));
        _payloadHash.Add(record.PayloadHash);
        _prevHash.Add(record.PrevHash);
        _proposalPrevHash.Add(record.ProposalPrevHash);
        _recordHash.Add(record.RecordHash);
    }

    public NpgsqlBatchCommand Insert(DateTimeOffset recordedAt) => new("""
        insert into evidence_records (sequence, record_id, message_id, kind, proposal_id, actor, occurred_at, recorded_at,
                                      payload, payload_hash, prev_hash, proposal_prev_hash, record_hash)
        select r.sequence, r.record_id, r.message_id, r.kind, r.proposal_id, r.actor, r.occurred_at, $8,
               r.payload, r.payload_hash, r.prev_hash, r.proposal_prev_hash, r.record_hash
        from unnest($1::bigint[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::timestamptz[],
                    $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
             as r (sequence, record_id, message_id, kind, proposal_id, actor, occurred_at,
                   payload, payload_hash, prev_hash, proposal_prev_hash, record_hash)
        """)
    {
        Parameters =
        {
            Column(_sequence, NpgsqlDbType.Bigint),
            Column(_recordId, NpgsqlDbType.Uuid),
            Column(_messageId, NpgsqlDbType.Uuid),
            Column(_kind, NpgsqlDbType.Text),
            Column(_proposalId, NpgsqlDbType.Uuid),
            Column(_actor, NpgsqlDbType.Text),
            Column(_occurredAt, NpgsqlDbType.TimestampTz),
            new() { Value = recordedAt },
            Column(_payload, NpgsqlDbType.Text),
            Column(_payloadHash, NpgsqlDbType.Text),
            Column(_prevHash, NpgsqlDbType.Text),
            Column(_proposalPrevHash, NpgsqlDbType.Text),
            Column(_recordHash, NpgsqlDbType.Text),
        },
    };

    internal static NpgsqlParameter Column<T>(List<T> values, NpgsqlDbType type) =>
        new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | type };
}

/// <summary>A batch's committed sensitive field values (beside their records), inserted by one statement.</summary>
internal sealed class FieldRows
{
    private readonly List<long> _sequence = [];
    private readonly List<string> _path = [];
    private readonly List<string> _value = [];
    private readonly List<byte[]> _salt = [];
    private readonly List<string> _commitment = [];

    public int Count => _sequence.Count;

    public void Add(long sequence, CommittedField field)
    {
        _sequence.Add(sequence);
        _path.Add(field.Path);
        _value.Add(Encoding.UTF8.GetString(field.CanonicalValue));
        _salt.Add(field.Salt);
        _commitment.Add(field.Commitment);
    }

    public NpgsqlBatchCommand Insert() => new("""
        insert into evidence_field_values (sequence, path, value, salt, commitment)
        select * from unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[], $5::text[])
        """)
    {
        Parameters =
        {
            RecordRows.Column(_sequence, NpgsqlDbType.Bigint),
            RecordRows.Column(_path, NpgsqlDbType.Text),
            RecordRows.Column(_value, NpgsqlDbType.Text),
            RecordRows.Column(_salt, NpgsqlDbType.Bytea),
            RecordRows.Column(_commitment, NpgsqlDbType.Text),
        },
    };
}
