-- Transactional outbox: rows written in the same transaction as the state change they describe; the relay
-- publishes them in id order and marks them sent. message_id is the MassTransit MessageId, so a republish
-- after a crash is recognised by the consumer's inbox.
create table outbox_messages (
    id            bigserial primary key,
    message_id    uuid not null unique,
    message_type  text not null,
    destination   text null,
    body          jsonb not null,
    headers       jsonb null,
    trace_parent  text null,
    created_at    timestamptz not null default now(),
    sent_at       timestamptz null,
    attempts      int not null default 0,
    last_error    text null
);
create index outbox_messages_unsent on outbox_messages (id) where sent_at is null;

-- Inbox: a consumer records (consumer, message id) in the transaction of its effect; a redelivery finds the
-- row and has no second effect.
create table inbox_messages (
    consumer      text not null,
    message_id    uuid not null,
    processed_at  timestamptz not null default now(),
    primary key (consumer, message_id)
);
