-- Work requested from fleet for a proposal: one row per offer (a re-offer after a timeout is a new row with a
-- new work id and attempt + 1; the old one is marked superseded). status: pending, succeeded, failed,
-- timed-out, superseded, abandoned (the proposal ended first).
create table work_items (
    work_id         uuid primary key,
    proposal_id     uuid not null references proposals (id),
    step            text not null,
    name            text not null,
    fleet           text not null,
    action_kind     text not null,
    parameters      jsonb not null,
    fencing_tokens  jsonb not null,
    attempt         int not null,
    status          text not null,
    outcome         text null,
    runner_id       text null,
    reason          text null,
    requested_at    timestamptz not null,
    deadline_at     timestamptz not null,
    completed_at    timestamptz null
);
create index work_items_by_proposal on work_items (proposal_id, step, status);

-- The Redis leases a proposal holds (the truth is in Redis; this says which to renew and release, and which
-- fencing tokens went out). released_at is set when the proposal let go of them.
create table leases (
    proposal_id    uuid not null references proposals (id),
    target         text not null,
    environment    text not null,
    fencing_token  bigint not null,
    acquired_at    timestamptz not null,
    released_at    timestamptz null,
    primary key (proposal_id, target)
);
create index leases_held on leases (proposal_id) where released_at is null;

-- Kill switches per environment or fleet: while one is engaged nothing new starts there.
create table kill_switches (
    scope       text not null,
    value       text not null,
    reason      text not null,
    engaged_by  text not null,
    engaged_at  timestamptz not null,
    primary key (scope, value)
);
