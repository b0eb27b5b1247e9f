"""Schemathesis hooks for `cargo xtask apifuzz`: the fuzzer's account and one check stricter
than the built-in ones.

The account is an owner's: xtask makes an invite with `handoff-server invite` and passes its
code, the email and a password in the environment; the first session joins with the invite,
later ones sign in. A new session is fetched after any answer 401 (the fuzzer itself calls
logout and revokes tokens).
"""

import json
import os
import threading
import urllib.request

import schemathesis
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case

BASE = os.environ["HANDOFF_FUZZ_URL"]
EMAIL = os.environ["HANDOFF_FUZZ_EMAIL"]
PASSWORD = os.environ["HANDOFF_FUZZ_PASSWORD"]
INVITE = os.environ.get("HANDOFF_FUZZ_INVITE")
# Refusals any request may get whatever its content: the caller's token, request slots.
ANY_REQUEST = {"unauthorized", "token_expired", "token_revoked", "rate_limited"}


@schemathesis.auth(retry_on=[401])
class SignIn:
    """A fresh session of the fuzzer's account."""

    joined = False
    lock = threading.Lock()

    def get(self, case, ctx):
        with SignIn.lock:
            return self._session()

    def _session(self):
        body = {"email": EMAIL, "password": PASSWORD, "device_name": "apifuzz"}
        path = "login"
        if INVITE and not SignIn.joined:
            body.update(invite_code=INVITE, display_name="API fuzzer", timezone="UTC")
            path = "join"
        req = urllib.request.Request(
            f"{BASE}/v1/auth/{path}",
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json", "handoff-protocol": "1"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            token = json.load(resp)["token"]
        SignIn.joined = True
        return token

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.check
def valid_requests_are_refused_only_for_documented_reasons(ctx, response, case):
    """A request the document allows may be refused only with a code the operation lists in
    `x-handoff-valid-request-refusals` (a fact no schema can state, such as an unknown invite
    code), or one any request can get. Stricter than `positive_data_acceptance`, which lets
    every 401, 403, 404 and 409 pass whatever its reason."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or is_unexpected_http_status_case(case):
        return None
    if not 400 <= response.status_code < 500:
        return None
    documented = case.operation.definition.raw.get("responses", {}).get(str(response.status_code), {})
    if documented and "application/json" not in documented.get("content", {}):
        # An answer without a body that the operation documents (416 past a blob's end).
        return None
    try:
        code = json.loads(response.content)["code"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(f"a refusal without a code: {response.status_code} {response.content[:200]!r}")
    allowed = set(case.operation.definition.raw.get("x-handoff-valid-request-refusals", [])) | ANY_REQUEST
    if code not in allowed:
        raise AssertionError(
            f"a request the document allows was refused with {code!r} ({response.status_code}); "
            f"this operation documents only {sorted(allowed)} for such requests"
        )
    return None
