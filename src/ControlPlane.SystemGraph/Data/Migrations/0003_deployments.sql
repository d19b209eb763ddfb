-- What is deployed where, as CI/CD reports it (GitHub deployment_status / workflow_run, Argo CD notifications).
-- drift: a successful deployment that no governed change of the plane explains.
create table deployments (
    id            bigserial primary key,
    source        text not null,
    delivery_id   text not null,
    node_id       text not null,
    environment   text not null,
    version       text not null,
    repository    text,
    status        text not null,
    actor         text,
    url           text,
    deployed_at   timestamptz not null,
    received_at   timestamptz not null,
    drift         boolean not null,
    governed_by   uuid
);
create index deployments_node_env on deployments (node_id, environment, deployed_at desc);

-- Every webhook delivery taken, so a redelivered or replayed one is answered but never applied twice.
create table deployment_deliveries (
    source       text not null,
    delivery_id  text not null,
    received_at  timestamptz not null,
    outcome      jsonb not null,
    primary key (source, delivery_id)
);

-- The plane's own changes per target and environment (from ProposalSubmitted and ProposalStateChanged): a
-- deployment is governed when one of these was executing on its node and environment around that time.
create table governed_changes (
    proposal_id   uuid primary key,
    targets       text[] not null,
    environment   text not null,
    state         text not null,
    executing_at  timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz not null
);
create index governed_changes_targets on governed_changes using gin (targets);
