-- Whether a proposal's impact reaches a node outside traffic can reach (from its latest ImpactAssessed; null when the
-- impact carries no reachability: counted as reachable). The metric "approvals spent on reachable vs unreachable
-- impact" reads it.
alter table autonomy_proposals add column impact_reachable boolean null;
