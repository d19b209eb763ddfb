-- Orchestrator's action catalog as last announced (ActionCatalogPublished): which fleet, runner action and
-- command each proposal kind becomes. The autonomy report joins it with fleet_capabilities.
create table action_routes (
    proposal_kind  text primary key,
    fleet          text not null,
    runner_action  text not null,
    command        text null,
    published_at   timestamptz not null
);
