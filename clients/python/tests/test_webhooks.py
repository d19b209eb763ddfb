"""verify_webhook alone (no plane), and a real delivery from the plane to a local http.server."""

import base64
import http.server
import os
import queue
import sys
import threading
import unittest
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import controlplane_client as cp  # noqa: E402
from tests.test_client import DIGEST, settings  # noqa: E402

# Key bytes 0x00..0x1f; the signature was computed with openssl (the same vector as the .NET WebhookSignatureTests).
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
HEADERS = {"webhook-id": "msg_1", "webhook-timestamp": "1800000000", "webhook-signature": "v1,phm7mOHwFDU6jBwBkmhF3Cqd0H0Nz7MaiOdih/irqbk="}
BODY = b'{"a":1}'
NOW = 1800000000


class VerifyTests(unittest.TestCase):
    def test_a_delivery_signed_by_the_plane_verifies_and_parses(self):
        self.assertEqual({"a": 1}, cp.verify_webhook(SECRET, HEADERS, BODY, now=NOW))

    def test_headers_are_looked_up_case_insensitively_and_any_listed_signature_may_match(self):
        headers = {k.title(): v for k, v in HEADERS.items()}
        headers["Webhook-Signature"] = "v1,bm90IGl0 " + HEADERS["webhook-signature"]
        self.assertEqual({"a": 1}, cp.verify_webhook(SECRET, headers, BODY.decode(), now=NOW))

    def test_a_changed_body_or_id_is_refused(self):
        with self.assertRaises(cp.WebhookVerificationError):
            cp.verify_webhook(SECRET, HEADERS, b'{"a":2}', now=NOW)
        with self.assertRaises(cp.WebhookVerificationError):
            cp.verify_webhook(SECRET, dict(HEADERS, **{"webhook-id": "msg_2"}), BODY, now=NOW)

    def test_another_secret_is_refused(self):
        other = "whsec_" + base64.b64encode(bytes(32)).decode()
        with self.assertRaises(cp.WebhookVerificationError):
            cp.verify_webhook(other, HEADERS, BODY, now=NOW)

    def test_a_stale_or_missing_timestamp_is_refused(self):
        with self.assertRaises(cp.WebhookVerificationError):
            cp.verify_webhook(SECRET, HEADERS, BODY, now=NOW + 301)
        with self.assertRaises(cp.WebhookVerificationError):
            cp.verify_webhook(SECRET, {k: v for k, v in HEADERS.items() if k != "webhook-timestamp"}, BODY, now=NOW)


class WebhookRoundTripTests(unittest.TestCase):
    """Registers a webhook to a local receiver, proposes, and verifies what the plane posts."""

    def setUp(self):
        identity, orchestrator, client_id, secret = settings()
        self.client = cp.ControlPlaneClient(identity, orchestrator, client_id, secret, poll_interval=0.5)
        self.received = queue.Queue()
        received = self.received

        class Receiver(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.put((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def tearDown(self):
        try:
            self.client.delete_webhook()
        except cp.NotFound:
            pass
        self.server.shutdown()
        self.server.server_close()

    def test_the_plane_posts_signed_state_changes_of_the_agents_proposal(self):
        try:
            self.client.delete_webhook()
        except cp.NotFound:
            pass
        registered = self.client.register_webhook(f"http://127.0.0.1:{self.server.server_port}/hooks", states=["submitted"])
        self.assertTrue(registered["secret"].startswith("whsec_"))
        self.assertNotIn("secret", self.client.get_webhook())

        submitted = self.client.propose("restart", "Restart billing to follow its webhook", ["billing"], "dev", DIGEST,
                                        "git@example.com:acme/billing.git#4f2c9e1", idempotency_key="hook-" + uuid.uuid4().hex[:12])

        while True:
            headers, body = self.received.get(timeout=30)
            payload = cp.verify_webhook(registered["secret"], headers, body)
            if payload["data"]["proposalId"] == submitted["id"]:
                break
        self.assertEqual("proposal.state-changed", payload["type"])
        self.assertEqual("submitted", payload["data"]["to"])
        self.assertTrue(payload["data"]["link"].endswith("/proposals/" + submitted["id"]))
        with self.assertRaises(cp.WebhookVerificationError):
            cp.verify_webhook(registered["secret"], headers, body + b" ")


if __name__ == "__main__":
    unittest.main()
