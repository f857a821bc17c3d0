"""企业微信 group robot: POST the robot's webhook URL (`…/cgi-bin/webhook/send?key=…`; the key in the
URL is the only credential, so the URL is never logged unredacted).

A `text` message, not `markdown`: `text.mentioned_list` @-mentions members by WeCom user id as data
(nothing to escape in the text), text messages show in every client including WeChat's (markdown
does not), and a case title with `*` or `#` in it is shown as written. The link stays clickable in
plain text. Success is HTTP 200 with `errcode` 0; -1 (系统繁忙) and 45009 (rate limit) are retried.
"""

from __future__ import annotations

import json

from workflows.channels.base import Channel, Message, Recipient, answer, plain_text, post_json, require_url, robot_refused, truncate_utf8

BUSY = frozenset({-1, 45009})
CONTENT_LIMIT = 2048  # bytes of text.content


def body(message: Message, recipients: list[Recipient]) -> dict[str, object]:
    mentioned = [recipient.wecom_id for recipient in recipients if recipient.wecom_id]
    text: dict[str, object] = {"content": truncate_utf8(plain_text(message), CONTENT_LIMIT)}
    if mentioned:
        text["mentioned_list"] = mentioned
    return {"msgtype": "text", "text": text}


async def send(channel: Channel, message: Message, recipients: list[Recipient]) -> int | None:
    url = require_url(channel)
    response = await post_json(channel, url, json.dumps(body(message, recipients), ensure_ascii=False).encode())
    reply = answer(response)
    if reply.get("errcode") != 0:
        raise robot_refused(channel, response, reply.get("errcode"), reply.get("errmsg"), BUSY)
    return response.status_code
