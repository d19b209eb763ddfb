-- Cosignatures witnesses returned for evidence checkpoints (c2sp.org/tlog-cosignature note signature lines),
-- appended to the checkpoint note when it is served. Append-only like the log.
create table evidence_cosignatures (
    tree_size   bigint not null references evidence_checkpoints (tree_size),
    witness     text not null,
    line        text not null,
    created_at  timestamptz not null default now(),
    primary key (tree_size, witness)
);

create trigger evidence_cosignatures_no_update_or_delete
    before update or delete on evidence_cosignatures
    for each row execute function evidence_refuse_change();

revoke update, delete, truncate on evidence_cosignatures from public;
