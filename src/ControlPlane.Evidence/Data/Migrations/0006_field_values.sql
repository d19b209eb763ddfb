-- Verifiable redaction: a record's sensitive fields (approver comments, command output, secret-named parameters) are
-- committed in its payload as {"commitment":"sha256:<hex of SHA-256(salt || canonical JSON of the value)>"}; the
-- value and its salt live here, beside the record, and reach a bundle only for a reader with evidence:read-sensitive.
-- Never updated; a row may be deleted (erasing a value for good), and every record still verifies without it.
-- sequence is the record's, written in the same transaction; no foreign key, which would let a truncate of
-- evidence_records fail on the key before its append-only trigger could say why.
create table evidence_field_values (
    sequence    bigint not null,
    path        text not null,
    value       text not null,
    salt        bytea not null check (length(salt) = 32),
    commitment  text not null,
    primary key (sequence, path)
);

create trigger evidence_field_values_no_update
    before update on evidence_field_values
    for each row execute function evidence_refuse_change();

revoke update on evidence_field_values from public;
