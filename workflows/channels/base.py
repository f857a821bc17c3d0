"""What every channel shares: the message, its recipients, the failure, and the HTTP post the robots
and the webhook make. Kept apart from the package's __init__ so the channel modules can import it
without importing each other."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from states.vocabulary import ChannelType, MessageKind

log = logging.getLogger("casework.channels")

TIMEOUT = httpx.Timeout(10.0)


@dataclass(frozen=True)
class Channel:
    """One `[[channels]]` entry of CASEWORK_NOTIFICATIONS."""

    name: str
    type: ChannelType
    events: frozenset[MessageKind]
    url: str | None = None  # robots and webhook
    secret: str | None = field(default=None, repr=False)  # robots' signing secret, webhook's whsec_ key
    host: str | None = None  # email: the SMTP server
    port: int = 587
    sender: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)


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
    """The channel did not take the message; `retryable` False means trying again cannot help."""

    def __init__(self, reason: str, status_code: int | None = None, retryable: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.retryable = retryable


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


def truncate_utf8(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, cut at a character boundary (robots refuse longer text)."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 3].decode(errors="ignore") + "…"


def require_url(channel: Channel) -> str:
    if not channel.url:
        raise DeliveryFailed(f"channel {channel.name} has no url", retryable=False)
    return channel.url


async def post_json(channel: Channel, url: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST `body`; a network error, 429 or 5xx is retryable, another 4xx is not. What is logged names
    the channel and the redacted URL, never the body or a secret."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            response = await client.post(url, content=body, headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})
    except httpx.HTTPError as error:
        log.warning("channel %s: %s to %s", channel.name, type(error).__name__, redact(url))
        raise DeliveryFailed(f"{type(error).__name__} posting to {redact(url)}") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryFailed(f"HTTP {response.status_code} from {redact(url)}", response.status_code, retryable=True)
    if not response.is_success:
        raise DeliveryFailed(f"HTTP {response.status_code} from {redact(url)}", response.status_code, retryable=False)
    return response


def answer(response: httpx.Response) -> dict[str, Any]:
    """A robot's JSON answer; one that is not JSON (a proxy's error page) may pass, so it is retried."""
    try:
        parsed = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DeliveryFailed("the robot's answer is not JSON", response.status_code, retryable=True) from None
    if not isinstance(parsed, dict):
        raise DeliveryFailed("the robot's answer is not a JSON object", response.status_code, retryable=True)
    return parsed


def robot_refused(channel: Channel, response: httpx.Response, code: object, detail: object, busy: frozenset[int]) -> DeliveryFailed:
    """A robot answered HTTP 200 with an error code: busy codes (rate limits, 系统繁忙) are worth
    retrying; a bad signature, key or body is not."""
    retryable = isinstance(code, int) and code in busy
    log.warning("channel %s: the robot refused the message with code %s (%s)", channel.name, code, str(detail)[:200])
    return DeliveryFailed(f"robot answered code {code}: {str(detail)[:200]}", response.status_code, retryable=retryable)
