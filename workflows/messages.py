"""Messages to people, durably: `announce` (an activity) decides who hears of an event, writes their
inbox and starts one `MessageDelivery` workflow per message (workflow id = message id, so a retried
announcement starts it once); that workflow delivers over each channel as its own activity, retried
without end with a capped backoff: a channel that is down delays a message, never loses it, and
never holds up the case that caused it (the case does not wait for channels).

What is said and to whom is the service's business (service/notifications.py, behind `MessageOffice`);
the channels only transport (workflows/channels/).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from workflows import channels
    from workflows.channels import Channel, DeliveryFailed, Message, Recipient

log = logging.getLogger("casework.messages")

MESSAGE_DELIVERY_WORKFLOW = "MessageDelivery"
# Unlimited attempts (maximum_attempts 0), at most ten minutes apart.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=10), maximum_attempts=0
)
ANNOUNCE_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30))


@dataclass
class AnnounceInput:
    """One event's message: what it is about, for the rules' audiences."""

    message_id: str  # "<case id>:<seq>" for a case's event; stable across retries
    kind: str  # MessageKind
    case_id: str | None = None
    case_kind: str | None = None
    title: str = ""
    owner: str | None = None
    team: str | None = None
    people: list[str] = field(default_factory=list)  # a meeting's host, recorder, participants
    action_item_owner: str | None = None
    agent: str | None = None
    actor: str | None = None  # who took the action: never told of it
    named: list[str] = field(default_factory=list)  # the people the event itself names (Audience.NAMED)
    task_queue: str | None = None  # where the delivery workflow runs; None: the announcer's own


@dataclass
class ChannelDelivery:
    """One channel's share of a message, in one language, for its recipients."""

    channel: str
    message: Message
    recipients: list[Recipient]


@dataclass
class MessageDeliveryInput:
    message_id: str
    deliveries: list[ChannelDelivery]


@dataclass
class DeliverInput:
    delivery: ChannelDelivery


class MessageOffice(Protocol):
    async def prepare(self, request: AnnounceInput) -> list[ChannelDelivery]:
        """Write the inbox of everyone who hears of it (once per person), and say what goes out on which channel."""
        ...

    async def channel(self, name: str) -> Channel | None: ...

    async def record_attempt(self, delivery: ChannelDelivery, attempt: int, status: str, status_code: int | None, error: str | None) -> None: ...


class NoOffice:
    """Where no one is told anything (a worker built without a directory, in some tests): logged only."""

    async def prepare(self, request: AnnounceInput) -> list[ChannelDelivery]:
        log.info("message %s (%s) on case %s: no office to announce it", request.message_id, request.kind, request.case_id)
        return []

    async def channel(self, name: str) -> Channel | None:
        return None

    async def record_attempt(self, delivery: ChannelDelivery, attempt: int, status: str, status_code: int | None, error: str | None) -> None:
        return None


class MessageActivities:
    def __init__(self, office: MessageOffice, task_queue: str):
        self._office = office
        self._task_queue = task_queue

    @activity.defn(name="announce")
    async def announce(self, request: AnnounceInput) -> None:
        deliveries = await self._office.prepare(request)
        await start_delivery(activity.client(), request.message_id, deliveries, request.task_queue or self._task_queue)

    @activity.defn(name="deliver_message")
    async def deliver_message(self, input: DeliverInput) -> int | None:
        delivery, attempt = input.delivery, activity.info().attempt
        channel = await self._office.channel(delivery.channel)
        if channel is None:  # taken out of the policy since: said in the log, not retried
            await self._office.record_attempt(delivery, attempt, "skipped", None, "channel no longer configured")
            return None
        try:
            status_code = await channels.deliver(channel, delivery.message, delivery.recipients)
        except DeliveryFailed as failure:
            await self._office.record_attempt(delivery, attempt, "failed", failure.status_code, failure.reason[:300])
            raise ApplicationError(f"{delivery.channel}: {failure.reason}", non_retryable=not failure.retryable) from None
        except Exception as error:  # a transport's bug or an unreachable host: logged, tried again
            await self._office.record_attempt(delivery, attempt, "failed", None, f"{type(error).__name__}: {error}"[:300])
            raise
        await self._office.record_attempt(delivery, attempt, "delivered", status_code, None)
        return status_code


async def start_delivery(client: Client, message_id: str, deliveries: list[ChannelDelivery], task_queue: str) -> None:
    """Start the message's delivery workflow, once: a retried announcement finds it started (or done)."""
    if not deliveries:
        return
    try:
        await client.start_workflow(
            MessageDelivery.run,
            MessageDeliveryInput(message_id, deliveries),
            id=f"message-{message_id}",
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass


@workflow.defn(name=MESSAGE_DELIVERY_WORKFLOW)
class MessageDelivery:
    @workflow.run
    async def run(self, input: MessageDeliveryInput) -> dict[str, Any]:
        results = await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    MessageActivities.deliver_message,
                    DeliverInput(delivery),
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=DELIVERY_RETRY,
                )
                for delivery in input.deliveries
            ),
            return_exceptions=True,
        )
        # A delivery given up (refused for good) ends here; the log has its attempts.
        return {f"{d.channel}/{d.message.language}": not isinstance(r, BaseException) for d, r in zip(input.deliveries, results, strict=True)}
