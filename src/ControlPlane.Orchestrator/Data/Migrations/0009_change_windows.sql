-- Recurring change windows (replace the Orchestrator:Freezes configuration): each opens at every occurrence of
-- schedule (5-field cron) in time_zone (IANA) for duration ("64h"). Scope lists name values or '*'.
create table change_windows (
    id                     uuid primary key,
    name                   text not null,
    kind                   text not null check (kind in ('allow', 'deny')),
    schedule               text not null,
    duration               text not null,
    time_zone              text not null,
    environments           text[] not null,
    nodes                  text[] not null,
    teams                  text[] not null,
    extends_to_dependents  boolean not null,
    description            text null,
    created_by             text not null,
    created_at             timestamptz not null,
    updated_by             text null,
    updated_at             timestamptz null
);
