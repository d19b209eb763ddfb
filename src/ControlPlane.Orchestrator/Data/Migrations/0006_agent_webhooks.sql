-- Agents follow their proposals through a webhook they register (one per agent). The signing secret is kept
-- AES-GCM encrypted under Orchestrator:KeyEncryptionKey: orchestrator must be able to sign with it, so a hash
-- would not do.
create table agent_webhooks (
    agent_id          text primary key,
    url               text not null,
    states            text[] null,          -- null: every state
    protected_secret  bytea not null,
    created_at        timestamptz not null,
    updated_at        timestamptz not null,
    secret_rotated_at timestamptz not null
);

-- The transactional outbox of webhook deliveries: a row is written in the transaction that changes the proposal's
-- state, so a committed change is never left unannounced. message_id is the stable webhook-id (the receiver's
-- idempotency key); the dispatcher claims due rows with "for update skip locked", one replica per row.
create table agent_webhook_deliveries (
    id               bigserial primary key,
    message_id       text not null unique,
    agent_id         text not null,
    proposal_id      uuid not null references proposals (id),
    version          bigint not null,
    from_state       text not null,
    to_state         text not null,
    reason           text not null,
    at               timestamptz not null,
    status           text not null default 'pending',   -- pending | delivered | failed
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null,
    created_at       timestamptz not null,
    last_attempt_at  timestamptz null,
    last_status      integer null,
    last_error       text null,
    delivered_at     timestamptz null
);
create index agent_webhook_deliveries_due on agent_webhook_deliveries (next_attempt_at, id) where status = 'pending';
create index agent_webhook_deliveries_by_proposal on agent_webhook_deliveries (proposal_id, id) where status = 'pending';
create index agent_webhook_deliveries_by_agent on agent_webhook_deliveries (agent_id, id desc);
