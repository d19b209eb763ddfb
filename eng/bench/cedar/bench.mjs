// Anchor for the policy-decision benchmark (README "Benchmarks"): the same 200 rules and the same request as
// tests/ControlPlane.Benchmarks/Policy/PolicyEvaluationBenchmarks.cs, decided by Cedar 4.13 through
// @cedar-policy/cedar-wasm. How a rule becomes a policy:
//   allow / require-approval rule -> permit, deny rule -> forbid, annotated @outcome; the rule id is the policy id;
//   environments [e] -> resource == Environment::"e"; agents [a, b] -> principal == Agent::"a" || principal == Agent::"b";
//   actions [x, "y-*"] -> context.action == "x" || context.action like "y-*";
//   impact and change conditions -> context attributes compared the same way (data-classes-any-of [c] ->
//   context.dataClasses.contains("c"), rollback-plan absent -> !context.rollbackPlan).
// Cedar answers permit/deny and the determining policy ids; the outcome (deny > require-approval > allow) is read
// from their @outcome inside the timed call, as ours computes it.
// Run: node eng/bench/cedar/bench.mjs  (after `npm ci` in eng/bench/cedar)
import { isAuthorized, preparsePolicySet, statefulIsAuthorized, getCedarVersion } from '@cedar-policy/cedar-wasm/nodejs';

const ruleCount = 200;
const environments = ['dev', 'staging', 'production', 'qa'];
const actions = ['deploy', 'restart', 'rollback', 'scale', 'config-*', 'delete-*'];
const policies = {};
const outcomes = new Map();
for (let i = 0; i < ruleCount; i++) {
  const id = `rule-${i}`;
  const outcome = i % 10 === 9 ? 'deny' : i % 2 === 0 ? 'require-approval' : 'allow';
  outcomes.set(id, outcome);
  const actionTest = [actions[i % actions.length], actions[(i + 1) % actions.length]]
    .map(a => a.includes('*') ? `context.action like "${a}"` : `context.action == "${a}"`).join(' || ');
  const conditions = [
    ...(i % 3 === 0 ? [`(principal == Agent::"agent-${i % 7}" || principal == Agent::"remediation-agent")`] : []),
    `(${actionTest})`,
    `context.highestCriticality <= ${i % 4}`,
    `context.dependents >= ${i % 10}`,
    `context.dataClasses.contains("${i % 2 === 0 ? 'regulated' : 'pii'}")`,
  ];
  if (outcome === 'deny') conditions.push('!context.rollbackPlan');
  policies[id] = `@outcome("${outcome}")\n${outcome === 'deny' ? 'forbid' : 'permit'} (principal, action, resource == Environment::"${environments[i % environments.length]}")\nwhen { ${conditions.join(' && ')} };`;
}

// Facts of the benchmark: deploy to production by remediation-agent, rollback plan present, tier 1, revenue path,
// pii + regulated data, 7 dependents, not internet-exposed, no unknown targets.
const request = {
  principal: { type: 'Agent', id: 'remediation-agent' },
  action: { type: 'Action', id: 'decide' },
  resource: { type: 'Environment', id: 'production' },
  context: { action: 'deploy', highestCriticality: 1, revenuePath: true, dataClasses: ['pii', 'regulated'], dependents: 7, internetExposed: false, unknownTargets: false, rollbackPlan: true },
  entities: [],
};

const precedence = { deny: 2, 'require-approval': 1, allow: 0 };
function outcomeOf(answer) {
  if (answer.type !== 'success') throw new Error(JSON.stringify(answer.errors));
  let best = answer.response.decision === 'deny' && answer.response.diagnostics.reason.length === 0 ? 'deny' : 'allow';
  for (const id of answer.response.diagnostics.reason) {
    const o = outcomes.get(id);
    if (precedence[o] > precedence[best]) best = o;
  }
  return [best, answer.response.diagnostics.reason.length];
}

const stateless = () => outcomeOf(isAuthorized({ ...request, policies: { staticPolicies: policies } }));
const parsed = preparsePolicySet('bench', { staticPolicies: policies });
if (parsed.type !== 'success') throw new Error(JSON.stringify(parsed.errors).slice(0, 2000));
const stateful = () => outcomeOf(statefulIsAuthorized({ ...request, preparsedPolicySetId: 'bench' }));

function time(name, call, iterations) {
  for (let i = 0; i < Math.max(50, iterations / 10); i++) call();
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    call();
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  samples.sort();
  const mean = samples.reduce((a, b) => a + b, 0) / iterations;
  const [outcome, determining] = call();
  console.log(`cedar ${name}: mean ${mean.toFixed(1)} us, p50 ${samples[iterations >> 1].toFixed(1)} us, p99 ${samples[Math.floor(iterations * 0.99)].toFixed(1)} us ` +
    `(${iterations} calls; outcome ${outcome}, ${determining} determining policies)`);
}

console.log(`cedar ${getCedarVersion()} via @cedar-policy/cedar-wasm 4.13.0, node ${process.version}, ${ruleCount} policies`);
time('preparsed policy set (statefulIsAuthorized)', stateful, 2000);
time('policies parsed per call (isAuthorized)', stateless, 30);
