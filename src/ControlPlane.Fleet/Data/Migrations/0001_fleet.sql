-- Fleets group runners by purpose; the plane's lifecycle addresses a fleet, fleet picks the runner.
create table fleets (
    name         text primary key,
    description  text not null
);
insert into fleets (name, description) values
    ('testing', 'validates changes before and verifies them after execution'),
    ('remediation', 'executes changes: deploy, restart, roll back, remediate'),
    ('observe', 'read-only checks of live systems');

-- Runners: capabilities are the action kinds the runner has handlers for; public_key is its result-signing key
-- (base64 DER SPKI, ECDSA P-256) and key_id its RFC 7638 thumbprint. status is 'live' until heartbeats stop.
create table runners (
    id                 text primary key,
    fleet              text not null references fleets (name),
    capabilities       text[] not null,
    public_key         text not null,
    key_id             text not null,
    registered_at      timestamptz not null,
    last_heartbeat_at  timestamptz not null,
    last_assigned_at   timestamptz null,
    status             text not null check (status in ('live', 'silent'))
);
create index runners_fleet on runners (fleet) where status = 'live';

-- Fleet's own work-package signing keys; the private key is AES-GCM encrypted (Fleet:KeyEncryptionKey).
create table signing_keys (
    key_id                 text primary key,
    public_key             text not null,
    protected_private_key  bytea not null,
    created_at             timestamptz not null,
    retired_at             timestamptz null
);

-- One row per requested piece of work: pending until a live capable runner is found (or the placement deadline
-- passes), issued once signed and sent, then closed by a result, a refusal, or the package's expiry.
create table work_items (
    work_id             uuid primary key,
    proposal_id         uuid not null,
    step                text not null,
    fleet               text not null,
    action_kind         text not null,
    request             jsonb not null,
    status              text not null check (status in ('pending', 'issued', 'completed', 'refused', 'failed', 'timed-out')),
    requested_at        timestamptz not null,
    placement_deadline  timestamptz not null,
    runner_id           text null,
    nonce               text null unique,
    envelope            jsonb null,
    issued_at           timestamptz null,
    expires_at          timestamptz null,
    outcome             text null,
    result_envelope     jsonb null,
    reason              text null,
    closed_at           timestamptz null
);
create index work_items_pending on work_items (requested_at) where status = 'pending';
create index work_items_issued on work_items (expires_at) where status = 'issued';
create index work_items_runner on work_items (runner_id) where status = 'issued';

-- Every refusal a runner reported, once: a runner retrying the same signed refusal has no second effect.
create table work_refusals (
    runner_id        text not null,
    envelope_digest  text not null,
    work_id          uuid not null,
    reason           text not null,
    matched          boolean not null,
    refused_at       timestamptz not null,
    primary key (runner_id, envelope_digest)
);
