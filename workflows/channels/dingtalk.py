"""钉钉 custom robot with 加签: the query parameters `timestamp` (milliseconds) and `sign`, the
URL-encoded Base64 of HMAC-SHA256 keyed with the secret (`SEC…`) over `"{timestamp}\\n{secret}"`.
A `markdown` message (title, text, link) whose `at.atUserIds` carry the recipients' DingTalk user
ids, each also written as `@id` in the text (DingTalk only highlights an @ that appears in it).
The subject and text are markdown-escaped (markdown_safe: a case's words make no link or image).
Success is `errcode` 0; any other is retried, coded robot_busy (-1 系统繁忙, 130101 and 410100 sending
too fast), signature_refused (310000: a bad signature, keyword or IP) or robot_refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote_plus

from workflows.channels.base import Channel, Message, Recipient, answer, markdown_safe, post_json, require_url, robot_refused

BUSY = frozenset({-1, 130101, 410100})
SIGNATURE = frozenset({310000})


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


def body(message: Message, recipients: list[Recipient]) -> dict[str, object]:
    ids = [recipient.dingtalk_id for recipient in recipients if recipient.dingtalk_id]
    lines = [f"#### {markdown_safe(message.subject)}", markdown_safe(message.text)]
    if message.link:
        lines.append(f"[{message.link}]({message.link})")  # the console's own link
    if ids:
        lines.append(" ".join(f"@{user_id}" for user_id in ids))
    return {
        "msgtype": "markdown",
        "markdown": {"title": markdown_safe(message.subject), "text": "\n\n".join(lines)},
        "at": {"atUserIds": ids, "isAtAll": False},
    }


async def send(channel: Channel, message: Message, recipients: list[Recipient]) -> int | None:
    url = require_url(channel)
    if channel.secret:
        url = signed_url(url, channel.secret, int(time.time() * 1000))
    response = await post_json(channel, url, json.dumps(body(message, recipients), ensure_ascii=False).encode())
    reply = answer(response)
    if reply.get("errcode") != 0:
        raise robot_refused(channel, response, reply.get("errcode"), reply.get("errmsg"), BUSY, SIGNATURE)
    return response.status_code
