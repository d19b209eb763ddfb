-- The evidence log as an RFC 9162 Merkle tree: leaf i is the record with sequence i + 1, its leaf data the UTF-8
-- text of record_hash. Checkpoints are C2SP tlog-checkpoint signed notes over (origin, size, root); each one the
-- log signed is kept, append-only, so a later checkpoint is only signed when the tree still extends them.
create table evidence_checkpoints (
    tree_size   bigint primary key check (tree_size >= 0),
    root_hash   bytea not null check (length(root_hash) = 32),
    note        text not null,
    key_id      text not null,
    created_at  timestamptz not null default now()
);

create trigger evidence_checkpoints_no_update_or_delete
    before update or delete on evidence_checkpoints
    for each row execute function evidence_refuse_change();

create trigger evidence_checkpoints_no_truncate
    before truncate on evidence_checkpoints
    for each statement execute function evidence_refuse_change();

revoke update, delete, truncate on evidence_checkpoints from public;
