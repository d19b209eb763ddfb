-- The durable floor of every target's fencing counter. Redis holds the live counter, but Redis may lose
-- acknowledged writes (restart from an older snapshot); every lease acquisition first raises the Redis counter to
-- this floor, and every token granted is written back here in the transaction that hands it to a runner, so
-- tokens only ever grow. Seeded from the tokens already handed out.
create table fencing_tokens (
    target  text primary key,
    token   bigint not null
);
insert into fencing_tokens (target, token) select target, max(fencing_token) from leases group by target;
