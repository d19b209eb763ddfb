-- The W3C traceparent of the request or message that submitted the proposal: later steps (approvals, the
-- scheduler, timers) continue that trace, so one trace shows the governed action end to end.
alter table proposals add column trace_parent text null;
