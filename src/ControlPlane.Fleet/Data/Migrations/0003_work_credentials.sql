-- Credentials per package. A runner may register an ECDH P-256 public key (base64 DER SPKI) that fleet seals package
-- credentials to; it is never its result-signing key. Without one, a runner's packages carry no credential.
alter table runners add column agreement_key text null;

-- Every credential fleet minted for a package (the token itself is never stored: the jti names it). Revoked when the
-- package closes (result, refusal, expiry, silence, withdrawal) or is re-offered, and by the expiry sweep.
create table work_credentials (
    jti          text primary key,
    work_id      uuid not null,
    proposal_id  uuid not null,
    runner_id    text not null,
    audience     text[] not null,
    environment  text not null,
    action       text not null,
    minted_at    timestamptz not null,
    expires_at   timestamptz not null,
    revoked_at   timestamptz null,
    reason       text null
);
create index work_credentials_work on work_credentials (work_id) where revoked_at is null;
create index work_credentials_live on work_credentials (expires_at) where revoked_at is null;
