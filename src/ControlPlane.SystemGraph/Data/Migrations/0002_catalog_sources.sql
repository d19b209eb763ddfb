-- Which import owns a node or edge (e.g. 'backstage'); null when written through the API or the seed. A catalog
-- import removes only what the same source wrote earlier, never what was written by hand.
alter table graph_nodes add column source text;
alter table graph_edges add column source text;
