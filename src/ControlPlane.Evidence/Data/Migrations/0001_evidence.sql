-- The evidence log: one global hash chain (sequence, prev_hash, record_hash) plus a per-proposal link
-- (proposal_prev_hash), so one proposal's records verify offline without the rest. Hashing rules:
-- ControlPlane.Contracts.Evidence.EvidenceHash. payload is the event's canonical JSON kept as text, byte for
-- byte what payload_hash covers (jsonb would reorder keys and renormalise numbers).
create table evidence_records (
    sequence            bigint primary key check (sequence > 0),
    record_id           uuid not null unique,
    message_id          uuid null,
    kind                text not null,
    proposal_id         uuid null,
    actor               text null,
    occurred_at         timestamptz not null,
    recorded_at         timestamptz not null,
    payload             text not null,
    payload_hash        text not null,
    prev_hash           text not null,
    proposal_prev_hash  text null,
    record_hash         text not null unique,
    check ((proposal_id is null) = (proposal_prev_hash is null))
);
create index evidence_records_proposal on evidence_records (proposal_id, sequence) where proposal_id is not null;
create index evidence_records_kind on evidence_records (kind, sequence);
create index evidence_records_actor on evidence_records (actor, sequence) where actor is not null;

-- Append-only for real: rows can be inserted, never changed or removed. Triggers fire for every role,
-- including the superuser local runs connect as; the revoke covers roles that are not the owner.
create function evidence_refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception '% is append-only: % is not allowed', tg_table_name, tg_op
        using errcode = 'insufficient_privilege',
              hint = 'Evidence is never edited; record a new event instead.';
end;
$$;

create trigger evidence_records_no_update_or_delete
    before update or delete on evidence_records
    for each row execute function evidence_refuse_change();

create trigger evidence_records_no_truncate
    before truncate on evidence_records
    for each statement execute function evidence_refuse_change();

revoke update, delete, truncate on evidence_records from public;

-- Evidence's checkpoint signing keys (ECDSA P-256). The private key is AES-GCM encrypted with
-- Evidence:KeyEncryptionKey; the public key is base64 DER SubjectPublicKeyInfo, as SigningKeyPublished carries it.
create table evidence_signing_keys (
    key_id                 text primary key,
    public_key             text not null,
    protected_private_key  bytea not null,
    created_at             timestamptz not null default now()
);

create trigger evidence_signing_keys_no_update_or_delete
    before update or delete on evidence_signing_keys
    for each row execute function evidence_refuse_change();

revoke update, delete, truncate on evidence_signing_keys from public;
