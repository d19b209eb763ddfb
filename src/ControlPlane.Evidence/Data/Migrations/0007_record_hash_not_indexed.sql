-- record_hash was declared unique, which kept a B-tree over random 71-character keys that nothing reads: records are
-- found by sequence, proposal, kind or actor, and a record's hash already commits to its sequence (the primary key),
-- so two records cannot share one short of a SHA-256 collision. Every append paid an insert into a random leaf of it
-- (69 MB at 530,000 records, mostly outside shared buffers), and a full-page image after each checkpoint.
-- Verification never relied on it: it recomputes every hash.
alter table evidence_records drop constraint evidence_records_record_hash_key;
