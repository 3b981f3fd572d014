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
from typing import Any, Dict, Mapping, Optional, Union


class WebhookVerificationError(Exception):
    """The delivery is not from the server holding the secret, or is stale."""


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"missing header {name}")


def verify_webhook(secret: str, headers: Mapping[str, str], body: Union[bytes, str], *,
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
    raw = body.encode() if isinstance(body, str) else bytes(body)
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + raw
    expected = b"v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for candidate in _header(headers, "webhook-signature").split():
        # Bytes, so a non-ASCII header is a mismatch, not a TypeError.
        if hmac.compare_digest(candidate.encode("utf-8", "replace"), expected):
            return json.loads(raw)
    raise WebhookVerificationError("no signature matches")
