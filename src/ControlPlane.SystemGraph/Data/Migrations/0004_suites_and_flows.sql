-- Validation suites a node declares (a JSON array of {name, fleet, covers, durationSeconds, stage?}) and how
-- traffic flows along an edge. Existing edges get the flow their kind implies.
alter table graph_nodes add column suites jsonb not null default '[]';
alter table graph_edges add column flow text;
update graph_edges set flow = case kind
    when 'calls' then 'internal-call'
    when 'reads' then 'data-read'
    when 'writes' then 'data-write'
    else 'async' end;
alter table graph_edges alter column flow set not null;
alter table graph_edges add constraint graph_edges_flow check (flow in ('public-ingress', 'internal-call', 'async', 'data-read', 'data-write'));
