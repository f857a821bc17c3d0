"""Email over SMTP with STARTTLS (required: the password and the message never cross in clear),
login when a username is set, one email per recipient with an address, `multipart/alternative`
plain text and HTML (escaped). Each email's `Message-ID` is derived from the message id and the
address, and `X-Casework-Message` carries the message id, so a retry is recognisable.

smtplib runs in a thread: it blocks, and the worker's event loop must not. The server's certificate
is verified against the system's authorities (or the file SSL_CERT_FILE names).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr
from html import escape

from workflows.channels.base import (
    CERTIFICATE_INVALID,
    CHANNEL_INCOMPLETE,
    MALFORMED_MESSAGE,
    NETWORK_ERROR,
    RECIPIENT_DEFERRED,
    RECIPIENT_REFUSED,
    SMTP_NO_STARTTLS,
    Channel,
    DeliveryFailed,
    Message,
    Recipient,
)

log = logging.getLogger("casework.channels")

TIMEOUT = 20.0
ACCEPTED = 250


def html(message: Message) -> str:
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in message.text.splitlines() if line.strip())
    link = f'<p><a href="{escape(message.link)}">{escape(message.link)}</a></p>' if message.link else ""
    return f'<!doctype html><html lang="{escape(message.language)}"><body><h3>{escape(message.subject)}</h3>{paragraphs}{link}</body></html>'


def one_line(text: str) -> str:
    """A header's text: every run of whitespace (a newline in a case's title) one space."""
    return " ".join(text.split())


def email(channel: Channel, message: Message, recipient: Recipient) -> EmailMessage:
    assert recipient.email is not None and channel.sender is not None
    mail = EmailMessage()
    mail["Subject"] = one_line(message.subject)
    mail["From"] = channel.sender
    mail["To"] = formataddr((recipient.display_name, recipient.email))
    domain = channel.sender.rpartition("@")[2] or "casework"
    digest = hashlib.sha256(f"{message.id}\n{recipient.email}".encode()).hexdigest()[:32]
    mail["Message-ID"] = f"<{digest}@{domain}>"
    mail["X-Casework-Message"] = message.id
    mail["Content-Language"] = message.language
    mail.set_content("\n\n".join(part for part in (message.text, message.link) if part))
    mail.add_alternative(html(message), subtype="html")
    return mail


def _send_all(channel: Channel, mails: list[EmailMessage]) -> None:
    assert channel.host is not None
    context = ssl.create_default_context()
    with smtplib.SMTP(channel.host, channel.port, timeout=TIMEOUT) as client:
        client.ehlo()
        client.starttls(context=context)
        client.ehlo()
        if channel.username:
            client.login(channel.username, channel.password or "")
        for mail in mails:
            client.send_message(mail)


def _failure(channel: Channel, error: Exception) -> DeliveryFailed:
    """Every failure is retried (the delivery's capped backoff), coded for the log; a recipient's
    address refused for good (5xx) is `recipient_refused`: the activity logs it for that recipient
    and goes on with the others (workflows/messages.py)."""
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return DeliveryFailed(f"{channel.host} offers no STARTTLS", code=SMTP_NO_STARTTLS)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        worst = max(codes, default=None)
        if worst is not None and worst >= 500:
            return DeliveryFailed("the server refused the recipient", worst, code=RECIPIENT_REFUSED)
        return DeliveryFailed("the server deferred the recipient", worst, code=RECIPIENT_DEFERRED)
    if isinstance(error, smtplib.SMTPResponseException):
        # 4xx is the server's "try again later"; 5xx (a wrong password: 535) waits for the policy to change.
        return DeliveryFailed(f"SMTP {error.smtp_code}", error.smtp_code, code=f"smtp_{error.smtp_code}")
    if isinstance(error, ssl.SSLCertVerificationError):
        return DeliveryFailed(f"{channel.host}'s certificate did not verify", code=CERTIFICATE_INVALID)
    return DeliveryFailed(f"{type(error).__name__} talking to {channel.host}", code=NETWORK_ERROR)


async def send(channel: Channel, message: Message, recipients: list[Recipient]) -> int | None:
    """Nothing is sent (None) when no recipient has an email address. An email that cannot be formed
    (a header the email package refuses) is final: `malformed_message`, not retried."""
    if not channel.host or not channel.sender:
        raise DeliveryFailed(f"channel {channel.name} needs host and sender", code=CHANNEL_INCOMPLETE)
    try:
        mails = [email(channel, message, recipient) for recipient in recipients if recipient.email]
    except (ValueError, TypeError) as error:
        log.warning("channel %s: message %s cannot be formed: %s", channel.name, message.id, type(error).__name__)
        raise DeliveryFailed(f"the email cannot be formed: {type(error).__name__}: {error}", code=MALFORMED_MESSAGE, retryable=False) from None
    if not mails:
        return None
    try:
        await asyncio.to_thread(_send_all, channel, mails)
    except (smtplib.SMTPException, OSError) as error:
        failure = _failure(channel, error)
        log.warning("channel %s: %s", channel.name, failure.reason)
        raise failure from None
    return ACCEPTED
