#!/usr/bin/env python3
"""Where a proposal's time goes between services (README "Load", twelfth round).

    eng/bench/hop-times.py [WINDOW]        e.g. eng/bench/hop-times.py '40 seconds' right after a load run

Run from the root of a clone whose ./run.sh plane took the load. For every proposal submitted within WINDOW (a
PostgreSQL interval, default '2 minutes') it joins the outbox and inbox rows of orchestrator, system-graph and policy
(one server, so one clock) and prints p50 / p90 / mean of each step from submission to orchestrator's first statement
on the decision. Each time is the start of a transaction (PostgreSQL's now()), so a step from a consumer's transaction
to its relay's includes that consumer's work and commit, and a step from a relay to the next consumer the broker hop.
"""
import statistics
import subprocess
import sys
from pathlib import Path

window = sys.argv[1] if len(sys.argv) > 1 else "2 minutes"
prefix_file = Path(".state/db-prefix")
if not prefix_file.exists():
    sys.exit("no .state/db-prefix here: run from the root of the clone whose ./run.sh plane took the load")
prefix = prefix_file.read_text().strip()


def query(database, sql):
    result = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", prefix + database, "-AtF", "|", "-c", sql],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"psql on {prefix + database} failed: {result.stderr.strip()} (is PostgreSQL up? eng/servers.sh up)")
    return [line.split("|") for line in result.stdout.splitlines() if line]


def ms(column):
    return f"extract(epoch from {column}) * 1000"


recent = f"now() - interval '{window}'"


def outbox(database, message_type):
    rows = query(database, f"select body->>'proposalId', message_id, {ms('created_at')}, {ms('sent_at')} from outbox_messages "
                           f"where message_type like '%.{message_type}' and created_at > {recent} and sent_at is not null")
    return {proposal: (message, float(created), float(sent)) for proposal, message, created, sent in rows}


def inbox(database):
    return {(consumer, message): float(at) for consumer, message, at in
            query(database, f"select consumer, message_id, {ms('processed_at')} from inbox_messages where processed_at > {recent}")}


submitted = outbox("orchestrator-db", "ProposalSubmitted")
assessed = outbox("graph-db", "ImpactAssessed")
decided = outbox("policy-db", "PolicyDecided")
graph_inbox, policy_inbox, orchestrator_inbox = inbox("graph-db"), inbox("policy-db"), inbox("orchestrator-db")

steps = ["submission → orchestrator's relay", "orchestrator's relay → system-graph's first statement",
         "system-graph's transaction → its relay", "system-graph's relay → policy's first statement",
         "policy's transaction → its relay", "policy's relay → orchestrator's first statement", "total"]
samples = []
for proposal, (message, created, sent) in submitted.items():
    if proposal not in assessed or proposal not in decided:
        continue
    graph_message, graph_at, graph_sent = assessed[proposal]
    policy_message, policy_at, policy_sent = decided[proposal]
    graph_in = graph_inbox.get(("system-graph.proposal-submitted", message))
    policy_in = policy_inbox.get(("policy.impact-assessed", graph_message))
    orchestrator_in = orchestrator_inbox.get(("orchestrator-policy-decided", policy_message))
    if None in (graph_in, policy_in, orchestrator_in):
        continue
    samples.append([sent - created, graph_in - sent, graph_sent - graph_at, policy_in - graph_sent, policy_sent - policy_at,
                    orchestrator_in - policy_sent, orchestrator_in - created])

if not samples:
    sys.exit(f"no proposal went from submission to decision within the last {window}: run the load tool first")
print(f"{len(samples)} proposals submitted within the last {window} (ms)")
for i, step in enumerate(steps):
    values = sorted(sample[i] for sample in samples)
    print(f"  {step:56s} p50 {values[len(values) // 2]:7.2f}  p90 {values[int(len(values) * 0.9)]:7.2f}  "
          f"mean {statistics.mean(values):7.2f}")
