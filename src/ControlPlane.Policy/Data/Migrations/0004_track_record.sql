-- Each agent's verified track record (earned autonomy), one row per proposal, from orchestrator's events:
-- ProposalSubmitted (agent, action kind, environment), ProposalStateChanged to completed (the lifecycle reaches
-- completed only after its verifications passed) or failed, WorkRequested for the verify step (a completion counts
-- as a verified success only when a verification ran: a decision may ask for none) and for the rollback step
-- (orchestrator undoes a failed change that had started executing). Events arrive in any order; every column is
-- written by one kind of event and the first value sticks, so a redelivery changes nothing.
create table track_record (
    proposal_id     uuid primary key,
    agent_id        text null,
    action_kind     text null,
    environment     text null,
    outcome         text null check (outcome in ('verified', 'failed')),
    outcome_at      timestamptz null,
    rolled_back_at  timestamptz null,
    verification_requested boolean not null default false
);
create index track_record_agent on track_record (agent_id, action_kind, environment);
