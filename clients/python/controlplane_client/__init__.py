"""ControlPlane client for agents: standard library only (urllib, json), HTTP only.

Client credentials from identity's /connect/token (one token per audience, renewed before expiry),
propose with an idempotency key (retried on network and gateway failures: the key makes a repeat the
same proposal), get, watch until a state, and typed errors from RFC 9457 problem details.
"""

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from .webhooks import DEFAULT_TOLERANCE, WebhookVerificationError, verify_webhook

__all__ = [
    "verify_webhook", "WebhookVerificationError", "DEFAULT_TOLERANCE",
    "ControlPlaneClient", "ControlPlaneError", "ValidationProblem", "AccessDenied", "NotFound",
    "Conflict", "RateLimited", "TokenError", "WatchTimeout", "FINISHED_STATES",
]

FINISHED_STATES = frozenset({"completed", "denied", "rejected", "expired", "failed", "cancelled"})


class ControlPlaneError(Exception):
    """The plane answered with an error; status, title, detail, errors (field -> messages) and the whole problem."""

    def __init__(self, status, problem):
        self.status = status
        self.problem = problem if isinstance(problem, dict) else {}
        self.title = self.problem.get("title")
        self.detail = self.problem.get("detail") if self.problem else (problem if isinstance(problem, str) else None)
        errors = self.problem.get("errors")
        self.errors = {k: list(v) if isinstance(v, list) else [str(v)] for k, v in errors.items()} if isinstance(errors, dict) else {}
        message = f"{status} {self.title or ''}".strip()
        if self.detail:
            message += f": {self.detail}"
        if self.errors:
            message += " (" + "; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()) + ")"
        super().__init__(message)


class ValidationProblem(ControlPlaneError):
    """400: the request is not valid; .errors names each field."""


class AccessDenied(ControlPlaneError):
    """401 or 403."""


class NotFound(ControlPlaneError):
    """404: no such proposal visible to this agent."""


class Conflict(ControlPlaneError):
    """409: the idempotency key was used before with another body."""


class RateLimited(ControlPlaneError):
    """429: retry after .retry_after seconds."""

    def __init__(self, status, problem, retry_after):
        super().__init__(status, problem)
        self.retry_after = retry_after


class TokenError(Exception):
    """identity refused the client credentials (RFC 6749 error); the secret is never in the message."""

    def __init__(self, status, error, description):
        self.status, self.error, self.description = status, error, description
        super().__init__(f"identity refused a token ({status} {error}): {description}")


class WatchTimeout(Exception):
    """The proposal did not reach the awaited state in time; .last is what it was."""

    def __init__(self, last, waited):
        self.last = last
        super().__init__(f"proposal {last.get('id')} is still {last.get('state')} after {waited:.0f} s")


_ERRORS = {400: ValidationProblem, 401: AccessDenied, 403: AccessDenied, 404: NotFound, 409: Conflict}


class ControlPlaneClient:
    """One agent's client. identity_url and orchestrator_url are base addresses (http://127.0.0.1:5101)."""

    AUDIENCE = "orchestrator"

    def __init__(self, identity_url, orchestrator_url, client_id, client_secret, *, timeout=30.0,
                 refresh_before=30.0, poll_interval=1.0, submit_attempts=3):
        self.identity_url = identity_url.rstrip("/") + "/"
        self.orchestrator_url = orchestrator_url.rstrip("/") + "/"
        self.client_id = client_id
        self._secret = client_secret
        self.timeout = timeout
        self.refresh_before = refresh_before
        self.poll_interval = poll_interval
        self.submit_attempts = submit_attempts
        self._tokens = {}

    def __repr__(self):  # never the secret
        return f"ControlPlaneClient(client_id={self.client_id!r}, orchestrator_url={self.orchestrator_url!r})"

    # Tokens -----------------------------------------------------------------------------------------------
    def token(self, audience=AUDIENCE):
        cached = self._tokens.get(audience)
        if cached and time.monotonic() < cached[1]:
            return cached[0]
        # RFC 6749 2.3.1: id and secret form-urlencoded before Basic.
        basic = base64.b64encode(f"{urllib.parse.quote(self.client_id, safe='')}:{urllib.parse.quote(self._secret, safe='')}".encode()).decode()
        request = urllib.request.Request(
            self.identity_url + "connect/token", method="POST",
            data=urllib.parse.urlencode({"grant_type": "client_credentials", "audience": audience}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic " + basic, "Accept": "application/json"})
        status, body = self._send(request)
        answer = _json(body)
        if status != 200 or not isinstance(answer, dict) or not answer.get("access_token"):
            answer = answer if isinstance(answer, dict) else {}
            raise TokenError(status, answer.get("error", "invalid_response"), answer.get("error_description", "no access_token in the answer"))
        lifetime = max(0, int(answer.get("expires_in", 60)))
        self._tokens[audience] = (answer["access_token"], time.monotonic() + lifetime - self.refresh_before)
        return answer["access_token"]

    # Proposals --------------------------------------------------------------------------------------------
    def propose(self, kind, summary, targets, environment, digest, reference, rollback_plan=None, parameters=None, idempotency_key=None):
        """Submits a proposal; returns {id, state, duplicate, idempotencyKey}. Same key and body: the same proposal."""
        key = idempotency_key or uuid.uuid4().hex
        body = {
            "idempotencyKey": key,
            "action": {"kind": kind, "summary": summary, "parameters": dict(parameters or {})},
            "targets": list(targets),
            "environment": environment,
            "change": {"digest": digest, "reference": reference, "rollbackPlan": rollback_plan},
        }
        for attempt in range(1, self.submit_attempts + 1):
            try:
                status, answer, headers = self._call("POST", "proposals", body, {"Idempotency-Key": key})
            except OSError:
                if attempt == self.submit_attempts:
                    raise
                time.sleep(0.2 * 2 ** (attempt - 1))
                continue
            if status in (502, 503, 504) and attempt < self.submit_attempts:
                time.sleep(0.2 * 2 ** (attempt - 1))
                continue
            result = _checked(status, answer, headers)
            result["idempotencyKey"] = key
            return result
        raise AssertionError("unreachable")

    def get(self, proposal_id):
        status, answer, headers = self._call("GET", f"proposals/{proposal_id}")
        return _checked(status, answer, headers)

    def watch(self, proposal_id, states, timeout=300.0):
        """Polls until the proposal's state is in `states` or finished; raises WatchTimeout after `timeout` seconds."""
        wanted = {states} if isinstance(states, str) else set(states)
        started = time.monotonic()
        while True:
            proposal = self.get(proposal_id)
            if proposal.get("state") in wanted or proposal.get("state") in FINISHED_STATES:
                return proposal
            if time.monotonic() - started >= timeout:
                raise WatchTimeout(proposal, timeout)
            time.sleep(self.poll_interval)

    # Webhooks: state changes of this agent's proposals posted to its URL (verify them with verify_webhook) --
    WEBHOOK = "agents/me/webhook"

    def register_webhook(self, url, states=None):
        """PUT the agent's webhook. On creation the answer holds `secret` (shown once: keep it); on replacement not."""
        body = {"url": url} if states is None else {"url": url, "states": list(states)}
        status, answer, headers = self._call("PUT", self.WEBHOOK, body)
        return _checked(status, answer, headers)

    def get_webhook(self):
        status, answer, headers = self._call("GET", self.WEBHOOK)
        return _checked(status, answer, headers)

    def delete_webhook(self):
        status, answer, headers = self._call("DELETE", self.WEBHOOK)
        return _checked(status, answer, headers)

    def rotate_webhook_secret(self):
        """A new signing secret (in the answer's `secret`); later attempts are signed with it."""
        status, answer, headers = self._call("POST", self.WEBHOOK + "/secret")
        return _checked(status, answer, headers)

    def webhook_deliveries(self, status=None, proposal_id=None, limit=None):
        query = urllib.parse.urlencode({k: v for k, v in {"status": status, "proposalId": proposal_id, "limit": limit}.items() if v is not None})
        code, answer, headers = self._call("GET", self.WEBHOOK + "/deliveries" + ("?" + query if query else ""))
        return _checked(code, answer, headers)

    # HTTP -------------------------------------------------------------------------------------------------
    def _call(self, method, path, body=None, headers=None):
        """Sends with the orchestrator token; on 401 renews it once (revoked, or its key rotated)."""
        for renewed in (False, True):
            request = urllib.request.Request(self.orchestrator_url + path, method=method,
                                             data=None if body is None else json.dumps(body).encode())
            request.add_header("Authorization", "Bearer " + self.token())
            request.add_header("Accept", "application/json, application/problem+json")
            if body is not None:
                request.add_header("Content-Type", "application/json")
            for name, value in (headers or {}).items():
                request.add_header(name, value)
            status, raw, response_headers = self._send(request, with_headers=True)
            if status != 401 or renewed:
                return status, _json(raw), response_headers
            self._tokens.pop(self.AUDIENCE, None)
        raise AssertionError("unreachable")

    def _send(self, request, with_headers=False):
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                result = (response.status, response.read(), dict(response.headers))
        except urllib.error.HTTPError as error:
            result = (error.code, error.read(), dict(error.headers or {}))
        return result if with_headers else result[:2]


def _json(raw):
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")[:300]


def _checked(status, answer, headers):
    if 200 <= status < 300:
        return answer
    if status == 429:
        retry = headers.get("Retry-After")
        raise RateLimited(status, answer, float(retry) if retry and retry.isdigit() else None)
    raise _ERRORS.get(status, ControlPlaneError)(status, answer)
