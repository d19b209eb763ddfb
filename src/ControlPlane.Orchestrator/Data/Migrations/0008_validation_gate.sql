-- The gate's verdict names the digest of each runner's signed result (sha256 of the DSSE payload); an approval
-- pins the digest of the validation plan it was given, so an approval made against another plan does not count.
alter table work_items add column result_digest text null;
alter table approvals add column plan_hash text null;
