-- Runners acknowledge a package when they accept it (fleet confirms it is still the current offer) and when they
-- start it. An issued package without an acceptance past Fleet:AckTimeout is offered again (offers counts them);
-- a package orchestrator withdrew (WorkWithdrawn: re-offered under a new work id, or the proposal ended) is
-- 'superseded': issued no more, and a late result of it is recorded as WorkResultSuperseded.
alter table work_items add column accepted_at timestamptz null;
alter table work_items add column started_at timestamptz null;
alter table work_items add column offers int not null default 1;
alter table work_items drop constraint work_items_status_check;
alter table work_items add constraint work_items_status_check
    check (status in ('pending', 'issued', 'completed', 'refused', 'failed', 'timed-out', 'superseded'));
create index work_items_unacknowledged on work_items (issued_at) where status = 'issued' and accepted_at is null;

-- Withdrawals are remembered even when they overtake their WorkRequested (two queues, no order between them):
-- a request for withdrawn work is never issued.
create table withdrawn_work (
    work_id       uuid primary key,
    reason        text not null,
    withdrawn_at  timestamptz not null
);
