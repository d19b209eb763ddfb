-- Proposals: what an agent asked for, its canonical content hash, and where it stands. version is the
-- optimistic-concurrency counter: every transition updates "where version = expected" and bumps it.
create table proposals (
    id               uuid primary key,
    agent_id         text not null,
    sponsor_id       text null,
    agent_fleet      text null,
    idempotency_key  text not null,
    content_hash     text not null,
    action           jsonb not null,
    targets          text[] not null,
    environment      text not null,
    change           jsonb not null,
    state            text not null,
    version          bigint not null,
    impact           jsonb null,
    decision         jsonb null,
    graph_version    bigint null,
    submitted_at     timestamptz not null,
    authorized_at    timestamptz null,
    updated_at       timestamptz not null,
    -- Idempotency is per agent: two agents may use the same key.
    constraint proposals_idempotency unique (agent_id, idempotency_key)
);
create index proposals_by_state on proposals (state, environment, submitted_at desc);
create index proposals_by_agent on proposals (agent_id, submitted_at desc);

-- Every state change with who or what caused it and why.
create table proposal_history (
    id           bigserial primary key,
    proposal_id  uuid not null references proposals (id),
    from_state   text not null,
    to_state     text not null,
    trigger      text not null,
    actor        text not null,
    reason       text not null,
    version      bigint not null,
    at           timestamptz not null
);
create index proposal_history_by_proposal on proposal_history (proposal_id, id);

-- One decision per human per proposal; each pins what the human saw.
create table approvals (
    proposal_id    uuid not null references proposals (id),
    approver_id    text not null,
    approver_name  text not null,
    decision       text not null,
    comment        text null,
    proposal_hash  text not null,
    graph_version  bigint not null,
    policy_hash    text not null,
    at             timestamptz not null,
    primary key (proposal_id, approver_id)
);

-- Timers (no delayed exchange on the broker): the poller fires due rows with "for update skip locked", so any
-- number of replicas share the work and each timer fires once. A fired or cancelled timer is deleted.
create table timers (
    id           bigserial primary key,
    proposal_id  uuid not null references proposals (id),
    kind         text not null,
    due_at       timestamptz not null,
    work_id      uuid null,
    created_at   timestamptz not null default now()
);
create index timers_by_due on timers (due_at);
create index timers_by_proposal on timers (proposal_id, kind);
