-- Principals: humans (from the corporate IdP) and agents (workload identities with a human sponsor).
-- One id namespace for both, so a binding or an evidence record names a principal unambiguously.
create table principals (
    id                    text primary key,
    kind                  text not null check (kind in ('human', 'agent')),
    display_name          text not null,
    email                 text null,
    sponsor_id            text null references principals (id),
    fleet                 text null,
    allowed_environments  text[] not null default '{}',
    allowed_action_kinds  text[] not null default '{}',
    created_by            text not null,
    created_at            timestamptz not null default now(),
    disabled_at           timestamptz null,
    check (kind = 'human' or sponsor_id is not null)
);

-- Credentials an agent authenticates with. Secrets are stored as salted SHA-256 of 256-bit random values.
create table client_credentials (
    id            text primary key,
    principal_id  text not null references principals (id),
    kind          text not null check (kind in ('secret', 'private-key-jwt')),
    secret_salt   bytea null,
    secret_hash   bytea null,
    public_jwk    jsonb null,
    created_by    text not null,
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz null,
    revoked_at    timestamptz null
);
create index client_credentials_principal on client_credentials (principal_id) where revoked_at is null;

create table role_bindings (
    id            bigserial primary key,
    principal_id  text not null references principals (id),
    binding       text not null,
    granted_by    text not null,
    granted_at    timestamptz not null default now(),
    revoked_by    text null,
    revoked_at    timestamptz null
);
create unique index role_bindings_active on role_bindings (principal_id, binding) where revoked_at is null;

-- Token signing keys. The private key is AES-GCM encrypted with the key-encryption key from configuration;
-- retired keys stay published in JWKS until every token they signed has expired.
create table signing_keys (
    kid                    text primary key,
    algorithm              text not null,
    public_jwk             jsonb not null,
    protected_private_key  bytea not null,
    created_at             timestamptz not null default now(),
    retired_at             timestamptz null
);
