-- Simulations of a bundle against recorded decisions (POST /policies/{hash}/simulate). The first GET marks one
-- viewed (by whom, when); with Policy:Activation:RequireSimulation, activation must name a viewed simulation.
create table policy_simulations (
    id            uuid primary key,
    bundle_hash   text not null references policy_bundles (hash),
    requested_by  text not null,
    requested_at  timestamptz not null,
    query         jsonb not null,
    report        jsonb not null,
    truncated     boolean not null,
    viewed_by     text null,
    viewed_at     timestamptz null
);

create index policy_simulations_bundle on policy_simulations (bundle_hash, requested_at desc);
