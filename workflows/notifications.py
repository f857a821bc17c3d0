"""Webhook notifications: each event that notifies (timers, and the actions declared with
`notifies=True`: escalation, assignment) POSTed to a webhook, signed. Not to be confused with the
notices one case sends another (workflows/follow_ons.py).

Signature: HMAC-SHA256 with the shared secret over "<timestamp>.<body>", hex, in
`X-Casework-Signature: sha256=<hex>`, the Unix timestamp in `X-Casework-Timestamp`. A delivery's id
(`X-Casework-Delivery`: case id and event seq) is the same on every retry, so a receiver can
de-duplicate. Every attempt and its outcome is written to the read model.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Protocol

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.channels.webhook import sign  # the old signature's one definition; importers of it here keep working
from workflows.inputs import NotificationInput

log = logging.getLogger("casework.notifications")


class DeliveryLog(Protocol):
    async def record_delivery(self, case_id: str, seq: int, attempt: int, outcome: str, status_code: int | None, error: str | None) -> None: ...


@dataclass(frozen=True)
class Webhook:
    url: str | None = None
    secret: str | None = field(default=None, repr=False)


class Notifier:
    def __init__(self, webhook: Webhook, deliveries: DeliveryLog):
        self._webhook = webhook
        self._deliveries = deliveries

    @activity.defn(name="deliver_notification")
    async def deliver_notification(self, notification: NotificationInput) -> None:
        event, attempt = notification.event, activity.info().attempt
        delivery = f"{event.case_id}:{event.seq}"
        if not self._webhook.url:
            log.info("notification %s: %s on %s case %s", delivery, event.action, notification.case_kind, event.case_id)
            await self._deliveries.record_delivery(event.case_id, event.seq, attempt, "logged", None, None)
            return
        body = json.dumps(
            {
                "delivery": delivery,
                "event": asdict(event),
                "case": {
                    "id": event.case_id,
                    "title": notification.case_title,
                    "kind": notification.case_kind,
                    "priority": notification.case_priority,
                },
            },
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Casework-Delivery": delivery,
            "X-Casework-Event": event.action,
            "X-Casework-Timestamp": timestamp,
        }
        if self._webhook.secret:
            headers["X-Casework-Signature"] = sign(self._webhook.secret, timestamp, body)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.post(self._webhook.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            await self._deliveries.record_delivery(event.case_id, event.seq, attempt, "failed", None, type(error).__name__)
            raise ApplicationError(f"delivery {delivery} failed: {type(error).__name__}") from None
        if not response.is_success:
            await self._deliveries.record_delivery(event.case_id, event.seq, attempt, "failed", response.status_code, None)
            raise ApplicationError(f"delivery {delivery} got HTTP {response.status_code}")
        await self._deliveries.record_delivery(event.case_id, event.seq, attempt, "delivered", response.status_code, None)
