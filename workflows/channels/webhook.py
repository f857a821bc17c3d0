"""The generic webhook: a JSON POST of `{**message.data, "message": {id, kind, language, subject,
text, link, case_id}}`, signed two ways.

Standard Webhooks (https://www.standardwebhooks.com/): `webhook-id` (the message id, the same on
every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`
over `"{id}.{timestamp}.{body}"`), made by the `standardwebhooks` package. The secret is a
`whsec_<base64 key>`, or any other string, whose UTF-8 bytes are then the key: a receiver verifies
with `Webhook("whsec_" + base64(secret))`.

The old headers stay for one release: `X-Casework-Delivery`, `X-Casework-Event`,
`X-Casework-Timestamp` and `X-Casework-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from workflows.channels.base import Channel, Message, Recipient, post_json, require_url

WHSEC_PREFIX = "whsec_"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The old `X-Casework-Signature` (deprecated: Standard Webhooks' `webhook-signature` replaces it)."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def standard_signer(secret: str) -> Webhook:
    return Webhook(secret if secret.startswith(WHSEC_PREFIX) else secret.encode())


def body(message: Message) -> bytes:
    described = {name: value for name, value in asdict(message).items() if name != "data"}
    return json.dumps({**message.data, "message": described}, ensure_ascii=False).encode()


def event_name(message: Message) -> str:
    """What the old `X-Casework-Event` said: the action of the event behind the message where the
    message's data carries it (as the old notifications did), else the kind of message."""
    event = message.data.get("event")
    if isinstance(event, dict) and isinstance(event.get("action"), str):
        return event["action"]
    return str(message.kind)


def headers(message: Message, secret: str | None, content: bytes, now: int) -> dict[str, str]:
    timestamp = str(now)
    result = {
        "webhook-id": message.id,
        "webhook-timestamp": timestamp,
        "X-Casework-Delivery": str(message.data.get("delivery", message.id)),
        "X-Casework-Event": event_name(message),
        "X-Casework-Timestamp": timestamp,
    }
    if secret:
        signed_at = datetime.fromtimestamp(now, tz=UTC)
        result["webhook-signature"] = standard_signer(secret).sign(message.id, signed_at, content.decode())
        result["X-Casework-Signature"] = sign(secret, timestamp, content)
    return result


async def send(channel: Channel, message: Message, recipients: list[Recipient]) -> int | None:
    url = require_url(channel)
    content = body(message)
    response = await post_json(channel, url, content, headers(message, channel.secret, content, int(time.time())))
    return response.status_code
