-- Policy bundles: one row per distinct content (hash of the canonical form), numbered in upload order. The YAML
-- kept is the text of the first upload of that content.
create table policy_bundles (
    hash         text primary key,
    version      bigint not null unique,
    yaml         text not null,
    canonical    jsonb not null,
    uploaded_by  text not null,
    uploaded_at  timestamptz not null
);

-- Activations, append-only: the active bundle is the latest row. Re-activating an older bundle adds a row.
create table policy_activations (
    id            bigserial primary key,
    bundle_hash   text not null references policy_bundles (hash),
    activated_by  text not null,
    activated_at  timestamptz not null
);

-- Every decision taken on an assessed proposal.
create table policy_decisions (
    id             bigserial primary key,
    proposal_id    uuid not null,
    content_hash   text not null,
    graph_version  bigint not null,
    bundle_hash    text not null,
    outcome        text not null,
    decision       jsonb not null,
    decided_at     timestamptz not null
);
create index policy_decisions_proposal on policy_decisions (proposal_id);

-- Projections for the autonomy report, fed by identity (PrincipalChanged, PrincipalRevoked) and fleet
-- (FleetCapabilitiesChanged). changed_at guards against an older event overwriting a newer one.
create table agents (
    agent_id              text primary key,
    display_name          text not null,
    sponsor_id            text null,
    fleet                 text null,
    allowed_environments  text[] not null,
    allowed_action_kinds  text[] not null,
    revoked_at            timestamptz null,
    changed_at            timestamptz not null
);

create table fleet_capabilities (
    fleet         text primary key,
    action_kinds  text[] not null,
    live_runners  int not null,
    changed_at    timestamptz not null
);
