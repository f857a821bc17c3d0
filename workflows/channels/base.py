"""What every channel shares: the message, its recipients, the failure, and the HTTP post the robots
and the webhook make. Kept apart from the package's __init__ so the channel modules can import it
without importing each other."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from states.notification_rules import ChannelConfig
from states.vocabulary import MessageKind

log = logging.getLogger("casework.channels")

TIMEOUT = httpx.Timeout(10.0)

# Machine codes of the delivery log's attempts (stored as "code: detail" in its `error`; the console
# labels them). Besides these: http_<status> (any non-2xx answer) and smtp_<reply code>.
NETWORK_ERROR = "network_error"  # no answer: refused connection, timeout, DNS
BAD_ANSWER = "bad_answer"  # a robot's answer is not its JSON (a proxy's page)
ROBOT_BUSY = "robot_busy"  # a robot's rate limit or 系统繁忙
SIGNATURE_REFUSED = "signature_refused"  # a robot refused the signature, key, keyword or IP
ROBOT_REFUSED = "robot_refused"  # a robot's other error code
NO_URL = "no_url"  # the channel's policy entry lacks what it needs (url; email: host, sender)
CHANNEL_INCOMPLETE = "channel_incomplete"
SMTP_NO_STARTTLS = "smtp_no_starttls"
CERTIFICATE_INVALID = "certificate_invalid"
RECIPIENT_DEFERRED = "recipient_deferred"  # an SMTP 4xx for the address: tried again
RECIPIENT_REFUSED = "recipient_refused"  # an SMTP 5xx for the address: final for that recipient, others go on
MALFORMED_MESSAGE = "malformed_message"  # the message cannot be formed: final, the only one
TRANSPORT_ERROR = "transport_error"  # an unexpected error in the transport: tried again
CHANNEL_REMOVED = "channel_removed"  # skipped: the channel left the policy
TURNED_OFF = "turned_off"  # skipped (inbox): the person turned this kind of message off
DELIVERY_CODES = (NETWORK_ERROR, BAD_ANSWER, ROBOT_BUSY, SIGNATURE_REFUSED, ROBOT_REFUSED, NO_URL, CHANNEL_INCOMPLETE, SMTP_NO_STARTTLS,
                  CERTIFICATE_INVALID, RECIPIENT_DEFERRED, RECIPIENT_REFUSED, MALFORMED_MESSAGE, TRANSPORT_ERROR, CHANNEL_REMOVED, TURNED_OFF)  # fmt: skip


# One `[[channels]]` entry of CASEWORK_NOTIFICATIONS: the pure config is the channel (states does not import workflows).
Channel = ChannelConfig


@dataclass(frozen=True)
class Recipient:
    """A person a message is for, with their addresses from the directory (any may be missing)."""

    name: str
    display_name: str
    language: str
    email: str | None = None
    wecom_id: str | None = None
    dingtalk_id: str | None = None
    feishu_id: str | None = None


@dataclass(frozen=True)
class Message:
    """What is said, already in one language: short, with a deep link to the console."""

    id: str  # the same on every retry: receivers de-duplicate by it
    kind: MessageKind
    language: str
    subject: str
    text: str
    link: str | None = None
    case_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the webhook's JSON body carries it


class DeliveryFailed(Exception):
    """The channel did not take the message. `code` is machine-readable (the delivery log stores it as
    "code: detail", the console labels it); `retryable` False only when the message can never be
    formed (trying again cannot help): everything else, a refusal included, is tried again."""

    def __init__(self, reason: str, status_code: int | None = None, retryable: bool = True, code: str = TRANSPORT_ERROR):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.retryable = retryable
        self.code = code


def redact(url: str) -> str:
    """The URL as it may be logged: every query value (WeCom's `key`, DingTalk's `access_token`) and
    the token after a `/hook/` path segment (Feishu) replaced by `***`."""
    parts = urlsplit(url)
    query = urlencode([(name, "***") for name, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    path = parts.path
    if "/hook/" in path:
        path = path[: path.index("/hook/") + len("/hook/")] + "***"
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], path, query, ""))


def plain_text(message: Message) -> str:
    """Subject, text and link, one per line: what a robot's text message says."""
    return "\n".join(part for part in (message.subject, message.text, message.link) if part)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def markdown_safe(text: str) -> str:
    """Text shown as written in a markdown message: every markdown punctuation mark backslash-escaped
    (no link, image or heading can be made from a case's words) and `<` `>` made full-width (no HTML)."""
    return _MARKDOWN.sub(r"\\\1", text).replace("<", "＜").replace(">", "＞")


def markup_safe(text: str) -> str:
    """Text for a robot whose plain text still reads tags (Feishu's `<at user_id="all">`): `<` `>` full-width."""
    return text.replace("<", "＜").replace(">", "＞")


def truncate_utf8(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, cut at a character boundary (robots refuse longer text)."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 3].decode(errors="ignore") + "…"


def require_url(channel: Channel) -> str:
    if not channel.url:
        raise DeliveryFailed(f"channel {channel.name} has no url", code=NO_URL)
    return channel.url


async def post_json(channel: Channel, url: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST `body`; any failure (network, 429, 5xx, and any other 4xx too: a proxy's 403 or 404 in an
    outage, a rotated key) is retried with the delivery's capped backoff, coded `network_error` or
    `http_<status>`. What is logged names the channel and the redacted URL, never the body or a secret."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            response = await client.post(url, content=body, headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})
    except httpx.HTTPError as error:
        log.warning("channel %s: %s to %s", channel.name, type(error).__name__, redact(url))
        raise DeliveryFailed(f"{type(error).__name__} posting to {redact(url)}", code=NETWORK_ERROR) from None
    if not response.is_success:
        log.warning("channel %s: HTTP %s from %s", channel.name, response.status_code, redact(url))
        raise DeliveryFailed(f"HTTP {response.status_code} from {redact(url)}", response.status_code, code=f"http_{response.status_code}")
    return response


def answer(response: httpx.Response) -> dict[str, Any]:
    """A robot's JSON answer; one that is not JSON (a proxy's error page) may pass, so it is retried."""
    try:
        parsed = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DeliveryFailed("the robot's answer is not JSON", response.status_code, code=BAD_ANSWER) from None
    if not isinstance(parsed, dict):
        raise DeliveryFailed("the robot's answer is not a JSON object", response.status_code, code=BAD_ANSWER)
    return parsed


def robot_refused(
    channel: Channel, response: httpx.Response, code: object, detail: object, busy: frozenset[int], signature: frozenset[int] = frozenset()
) -> DeliveryFailed:
    """A robot answered HTTP 200 with an error code. Retried whatever it is (a rotated key or secret
    is fixed in the policy while the message waits), coded `robot_busy` (rate limits, 系统繁忙),
    `signature_refused` (bad signature, key, keyword or IP) or `robot_refused`."""
    machine = ROBOT_BUSY if code in busy else SIGNATURE_REFUSED if code in signature else ROBOT_REFUSED
    log.warning("channel %s: the robot refused the message with code %s (%s)", channel.name, code, str(detail)[:200])
    return DeliveryFailed(f"robot answered code {code}: {str(detail)[:200]}", response.status_code, code=machine)
