-- What runners acknowledged of each piece of work (WorkAcknowledged from fleet): accepted_at when a runner took
-- the package, started_at when it signed that the action started. A failed execution is rolled back only when
-- some runner started it.
alter table work_items add column accepted_at timestamptz null;
alter table work_items add column started_at timestamptz null;
