-- Issue 5: agents with registered public keys, humans from the corporate IdP, bindings mapped from IdP groups,
-- and signing-key rotation with a published-but-not-yet-signing stage.

-- Who disabled a principal and why (evidence names them); where a human came from (IdP issuer and subject).
alter table principals
    add column disabled_by       text null,
    add column disabled_reason   text null,
    add column external_issuer   text null,
    add column external_subject  text null,
    add column last_login_at     timestamptz null;

-- private_key_jwt credentials carry the agent's key id (the JWS kid); unique per agent among live keys.
alter table client_credentials
    add column key_id      text null,
    add column revoked_by  text null;
create unique index client_credentials_live_key on client_credentials (principal_id, key_id)
    where kind = 'private-key-jwt' and revoked_at is null;

-- A binding is granted directly (the bindings API, the seed) or by IdP group mapping, which every token
-- exchange replaces. The same binding may come from both sources; revoking one leaves the other.
alter table role_bindings
    add column source text not null default 'direct' check (source in ('direct', 'idp-group'));
drop index role_bindings_active;
create unique index role_bindings_active on role_bindings (principal_id, binding, source) where revoked_at is null;
create index role_bindings_binding on role_bindings (binding) where revoked_at is null;

-- Key lifecycle: pending (published in JWKS, not signing yet: lets every validator fetch it before use),
-- active (activated_at set, signing), retired (retired_at set; published until publish_until, when the last
-- token it signed has expired).
alter table signing_keys
    add column activated_at   timestamptz null,
    add column publish_until  timestamptz null;
update signing_keys set activated_at = created_at;
update signing_keys set publish_until = retired_at + interval '1 day' where retired_at is not null;
