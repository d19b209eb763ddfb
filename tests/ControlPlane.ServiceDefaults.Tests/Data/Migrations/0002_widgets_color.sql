alter table widgets add column color text null;
