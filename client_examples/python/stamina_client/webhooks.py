"""Verifying Stamina's webhook deliveries (Standard Webhooks).

A delivery is a POST whose body is a JSON event ({"type", "timestamp",
"data"}) with the headers webhook-id, webhook-timestamp and
webhook-signature ("v1,<base64 HMAC-SHA256>", space-separated when several).
The key is the tenant's secret ("whsec_<base64>", Client.webhook_secret()).
Deduplicate by webhook-id: an event may arrive more than once.

    event = verify_webhook(secret, request.headers, request.body)
"""

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Dict, Mapping, Optional


class WebhookVerificationError(Exception):
    """The delivery is not from the server holding the secret, or is stale."""


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"missing header {name}")


def verify_webhook(secret: str, headers: Mapping[str, str], body: bytes, *,
                   tolerance_seconds: int = 300, now: Optional[float] = None) -> Dict[str, Any]:
    """Returns the parsed event, or raises WebhookVerificationError."""
    if not secret.startswith("whsec_"):
        raise WebhookVerificationError('the secret does not start with "whsec_"')
    key = base64.b64decode(secret[len("whsec_"):])
    message_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    try:
        seconds = int(timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number") from None
    if abs((time.time() if now is None else now) - seconds) > tolerance_seconds:
        raise WebhookVerificationError("webhook-timestamp is too far from now (a replay?)")
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in _header(headers, "webhook-signature").split():
        if hmac.compare_digest(candidate, expected):
            return json.loads(body)
    raise WebhookVerificationError("no signature matches")
