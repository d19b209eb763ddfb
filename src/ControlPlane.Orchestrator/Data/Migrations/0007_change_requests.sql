-- ServiceNow change requests, one per proposal that required approval. A row exists as soon as orchestrator knows
-- one is wanted (before ServiceNow answered), so an outage delays the change request but never forgets it.
-- synced_state is the proposal state ServiceNow last confirmed; the poller catches up every row where it lags.
create table change_requests (
    proposal_id    uuid primary key references proposals (id),
    sys_id         text,
    number         text,
    url            text,
    synced_state   text,
    last_error     text,
    created_at     timestamptz not null,
    updated_at     timestamptz not null
);
create index change_requests_pending on change_requests (proposal_id) where sys_id is null;

-- Every ServiceNow approval record seen once, counted or ignored with the reason (never re-applied).
create table change_request_approvals (
    approval_sys_id  text primary key,
    proposal_id      uuid not null references proposals (id),
    external_user    text not null,
    decision         text not null,
    principal_id     text,
    counted          boolean not null,
    reason           text,
    seen_at          timestamptz not null
);
