"""飞书 custom bot with 签名校验: the body carries `timestamp` (seconds, a string) and `sign`, the
Base64 of HMAC-SHA256 keyed with `"{timestamp}\\n{secret}"` over an empty message (the reverse of
DingTalk's). A `text` message with `<at user_id="…">name</at>` for each recipient's Feishu id.
Success is `code` 0 (older answers say `StatusCode` 0); 11232 and 11233 (frequency limited) are
retried (robot_busy), as are 19021 (signature_refused: bad signature or timestamp) and other codes
(robot_refused). The message's own text has `<` `>` made full-width: only the mentions are tags.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from html import escape

from workflows.channels.base import Channel, Message, Recipient, answer, markup_safe, plain_text, post_json, require_url, robot_refused

BUSY = frozenset({11232, 11233})
SIGNATURE = frozenset({19021})


def sign(secret: str, timestamp: str) -> str:
    return base64.b64encode(hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def body(message: Message, recipients: list[Recipient], secret: str | None, timestamp: str) -> dict[str, object]:
    mentions = " ".join(
        f'<at user_id="{escape(recipient.feishu_id)}">{escape(recipient.display_name)}</at>' for recipient in recipients if recipient.feishu_id
    )
    text = markup_safe(plain_text(message)) + (f"\n{mentions}" if mentions else "")
    payload: dict[str, object] = {"msg_type": "text", "content": {"text": text}}
    if secret:
        payload = {"timestamp": timestamp, "sign": sign(secret, timestamp), **payload}
    return payload


async def send(channel: Channel, message: Message, recipients: list[Recipient]) -> int | None:
    url = require_url(channel)
    payload = body(message, recipients, channel.secret, str(int(time.time())))
    response = await post_json(channel, url, json.dumps(payload, ensure_ascii=False).encode())
    reply = answer(response)
    code = reply.get("code", reply.get("StatusCode"))
    if code != 0:
        raise robot_refused(channel, response, code, reply.get("msg", reply.get("StatusMessage")), BUSY, SIGNATURE)
    return response.status_code
