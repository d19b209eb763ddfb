"""Runs against a real plane (identity, system-graph, policy, orchestrator with the demo seeds).

tests/ControlPlane.Client.Tests starts one and runs this suite with python3; by hand, point it at ./run.sh:
  CONTROLPLANE_IDENTITY_URL=http://127.0.0.1:5101 CONTROLPLANE_ORCHESTRATOR_URL=http://127.0.0.1:5104 \
  CONTROLPLANE_CLIENT_ID=remediation-agent CONTROLPLANE_CLIENT_SECRET=demo-secret-remediation-agent-development-only \
  python3 -m unittest discover -s clients/python/tests -t clients/python -v
"""

import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import controlplane_client as cp  # noqa: E402

DIGEST = "sha256:9c1185a5c5e9fc54612808977ee8f548b2258d31ddadbb2f6a1f5b8c2a0e3f41"


def settings():
    names = ["CONTROLPLANE_IDENTITY_URL", "CONTROLPLANE_ORCHESTRATOR_URL", "CONTROLPLANE_CLIENT_ID", "CONTROLPLANE_CLIENT_SECRET"]
    missing = [n for n in names if not os.environ.get(n)]
    if missing:  # a test that needs the plane and finds none fails, saying how to get one
        raise AssertionError(f"set {', '.join(missing)} (start ./run.sh, or run tests/ControlPlane.Client.Tests)")
    return [os.environ[n] for n in names]


class ClientTests(unittest.TestCase):
    def setUp(self):
        identity, orchestrator, client_id, secret = settings()
        self.client = cp.ControlPlaneClient(identity, orchestrator, client_id, secret, poll_interval=0.5)
        self.secret = secret

    def billing_fix(self, key=None, summary="Fix the invoice cache memory leak in billing"):
        return self.client.propose("deploy", summary, ["billing"], "production", DIGEST,
                                   "git@example.com:acme/billing.git#4f2c9e1", "Redeploy the previous billing image", idempotency_key=key)

    def test_propose_then_watch_until_awaiting_approval(self):
        submitted = self.billing_fix()
        self.assertEqual(submitted["state"], "submitted")
        self.assertFalse(submitted["duplicate"])

        proposal = self.client.watch(submitted["id"], "awaiting-approval", timeout=60)

        self.assertEqual(proposal["state"], "awaiting-approval")
        self.assertEqual(proposal["decision"]["outcome"], "require-approval")
        self.assertEqual(proposal["targets"], ["billing"])
        self.assertEqual(proposal["idempotencyKey"], submitted["idempotencyKey"])

    def test_the_same_key_and_body_is_the_same_proposal_and_another_body_is_a_conflict(self):
        key = "py-" + uuid.uuid4().hex
        first = self.billing_fix(key)
        again = self.billing_fix(key)

        self.assertEqual(again["id"], first["id"])
        self.assertTrue(again["duplicate"])
        with self.assertRaises(cp.Conflict) as raised:
            self.billing_fix(key, summary="Something else entirely")
        self.assertEqual(raised.exception.status, 409)

    def test_an_invalid_proposal_is_a_validation_problem_naming_the_fields(self):
        with self.assertRaises(cp.ValidationProblem) as raised:
            self.client.propose("deploy", "", [], "mars", DIGEST, "ref")

        self.assertEqual(raised.exception.status, 400)
        self.assertTrue({"environment", "targets"} <= set(raised.exception.errors), raised.exception.errors)

    def test_an_unknown_proposal_is_not_found(self):
        with self.assertRaises(cp.NotFound):
            self.client.get(str(uuid.uuid4()))

    def test_a_wrong_secret_is_a_token_error_without_the_secret(self):
        identity, orchestrator, _, _ = settings()
        # Another client id: wrong secrets for the real agent would count towards locking its credential.
        wrong = cp.ControlPlaneClient(identity, orchestrator, "no-such-agent", "not-the-secret-" + uuid.uuid4().hex)

        with self.assertRaises(cp.TokenError) as raised:
            wrong.get(str(uuid.uuid4()))

        self.assertEqual(raised.exception.error, "invalid_client")
        self.assertNotIn("not-the-secret", str(raised.exception))
        self.assertNotIn(self.secret, repr(self.client))

    def test_the_token_is_reused_until_it_nears_expiry(self):
        first = self.client.token()
        self.assertEqual(first, self.client.token())
        self.assertEqual(first.count("."), 2)


if __name__ == "__main__":
    unittest.main()
