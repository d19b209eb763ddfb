"""Verifies the plane's webhook deliveries (Standard Webhooks signatures), standard library only.

Each delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
("v1,<base64 HMAC-SHA256 of id.timestamp.body>", several separated by spaces). The key is the base64 after the
`whsec_` prefix of the secret the plane returned when the webhook was registered (or its secret rotated).
"""

import base64
import hashlib
import hmac
import json
import time

__all__ = ["verify_webhook", "WebhookVerificationError", "DEFAULT_TOLERANCE"]

DEFAULT_TOLERANCE = 300  # seconds either side of now: older deliveries are refused as possible replays


class WebhookVerificationError(Exception):
    """The delivery is not from the plane, was changed, or is outside the replay window: answer 400, do not act."""


def _header(headers, name):
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"missing header {name}")


def verify_webhook(secret, headers, body, tolerance=DEFAULT_TOLERANCE, now=None):
    """Checks the signature and the timestamp; returns the parsed payload {type, timestamp, data}.

    `headers` is any mapping of the request's headers (case-insensitive lookup), `body` the raw bytes or text
    exactly as received (verify before parsing: re-serialized JSON no longer matches).
    """
    raw = body if isinstance(body, (bytes, bytearray)) else str(body).encode("utf-8")
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not timestamp.isdigit():
        raise WebhookVerificationError("webhook-timestamp is not a number")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is outside the replay window")
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    signed = msg_id.encode("utf-8") + b"." + timestamp.encode("ascii") + b"." + bytes(raw)
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")
    if not any(hmac.compare_digest(candidate, expected) for candidate in signatures.split(" ") if candidate):
        raise WebhookVerificationError("no signature matches")
    return json.loads(raw)
