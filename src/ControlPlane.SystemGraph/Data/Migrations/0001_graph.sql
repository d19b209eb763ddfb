-- The system graph. graph_head holds the one monotonic version; every write takes its row lock, bumps it and
-- records what changed in graph_versions, so versions follow commit order and never skip.
create table graph_head (
    id       int primary key check (id = 1),
    version  bigint not null
);
insert into graph_head (id, version) values (1, 0);

create table graph_versions (
    version     bigint primary key,
    change      text not null,
    subject     text not null,
    detail      jsonb not null,
    changed_by  text not null,
    changed_at  timestamptz not null default now()
);

-- version: the graph version that last wrote the row.
create table graph_nodes (
    id                text primary key,
    kind              text not null check (kind in ('service', 'datastore', 'queue', 'pipeline', 'external')),
    name              text not null,
    team              text not null,
    criticality_tier  smallint not null check (criticality_tier between 0 and 3),
    revenue_path      boolean not null,
    data_classes      text[] not null,
    internet_exposed  boolean not null,
    version           bigint not null,
    updated_by        text not null,
    updated_at        timestamptz not null
);

-- "from_id depends on to_id". No ON DELETE CASCADE: deleting a referenced node is refused unless asked for.
create table graph_edges (
    from_id     text not null references graph_nodes (id),
    to_id       text not null references graph_nodes (id),
    kind        text not null,
    version     bigint not null,
    updated_by  text not null,
    updated_at  timestamptz not null,
    primary key (from_id, to_id, kind),
    check (from_id <> to_id)
);
create index graph_edges_to on graph_edges (to_id);

-- Every assessment made for a proposal, with the version it was made against.
create table impact_assessments (
    id             bigserial primary key,
    proposal_id    uuid not null,
    graph_version  bigint not null,
    report         jsonb not null,
    assessed_at    timestamptz not null
);
create index impact_assessments_proposal on impact_assessments (proposal_id);
