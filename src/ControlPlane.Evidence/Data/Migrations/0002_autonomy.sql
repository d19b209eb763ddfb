-- The autonomy projection: one row per proposal, kept by the evidence consumer in the same transaction as the
-- record it derives from (so it is exactly as complete as the log). Not evidence itself: it is derived and may be
-- rebuilt from evidence_records. Columns are nullable because events of a proposal may arrive before its
-- ProposalSubmitted; the metrics count only rows whose submission has been seen.
create table autonomy_proposals (
    proposal_id          uuid primary key,
    agent                text null,
    environment          text null,
    action_kind          text null,
    submitted_at         timestamptz null,
    state                text not null default 'submitted',
    state_version        bigint not null default 0,
    state_at             timestamptz null,
    awaiting_since       timestamptz null,
    approval_required    boolean not null default false,
    human_decided        boolean not null default false,
    executed             boolean not null default false,
    completed_at         timestamptz null,
    verification_failed  boolean not null default false,
    rolled_back          boolean not null default false
);
create index autonomy_proposals_submitted on autonomy_proposals (submitted_at);
create index autonomy_proposals_state on autonomy_proposals (state) where state = 'awaiting-approval';

create table autonomy_approvals (
    proposal_id  uuid not null,
    approver     text not null,
    decision     text not null,
    decided_at   timestamptz not null,
    primary key (proposal_id, approver)
);
