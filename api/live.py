"""Live updates as server-sent events: `GET /events/live` for API clients; the console serves the
same stream (`live_stream`) behind its session."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from litestar import get
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.errors import problems
from service.live import Change, LiveFeed, Opening
from service.visibility import Viewer

HEARTBEAT_SECONDS = 15.0
CHANGED = "changed"
RESET = "reset"  # the client missed more than can be replayed: reload rather than resume

CaseFilter = Annotated[str | None, QueryParameter(max_length=64, description="only this case's changes")]
LastEventId = Annotated[
    str | None,
    HeaderParameter(name="Last-Event-ID", max_length=64, description="resume after this event id (browsers send it when they reconnect)"),
]


async def live_stream(live: LiveFeed, case_id: str | None, last_event_id: str | None, viewer: Viewer | None = None) -> ServerSentEvent:
    """The stream of changes (one case's, or all, of the cases `viewer` may see), resumed after
    `last_event_id`. Subscribes before answering, so any change committed after the response's
    headers reaches it; a full or stopping server answers 503."""
    opening = await live.open(case_id, last_event_id, None if viewer is None else viewer.follows)

    async def leave() -> None:  # also when the client leaves before the first message, which skips the generator's `finally`
        live.leave(opening.subscription)

    return ServerSentEvent(_messages(live, opening), background=BackgroundTask(leave))


async def _messages(live: LiveFeed, opening: Opening) -> AsyncIterator[ServerSentEventMessage]:
    try:
        if opening.reset:
            yield ServerSentEventMessage(event=RESET, data=json.dumps({"reason": "too many changes missed, or an unknown event id"}))
        for change in opening.replay:
            yield _changed(change)
        while (batch := await opening.subscription.next(HEARTBEAT_SECONDS)) is not None:
            if not batch:
                yield ServerSentEventMessage(comment="heartbeat", data=None)
            for change in batch:
                yield _changed(change)
    finally:
        live.leave(opening.subscription)


def _changed(change: Change) -> ServerSentEventMessage:
    return ServerSentEventMessage(id=str(change.cursor), event=CHANGED, data=json.dumps(change.as_json(), separators=(",", ":")))


@get(
    "/events/live",
    tags=["cases"],
    summary="Changes to cases as they happen (server-sent events); resumes after Last-Event-ID",
    description="Each message: `id` (resume after it with Last-Event-ID), `event: changed`, `data` "
    '`{"case_id", "seq", "action", "kind", "state"}`. After more missed changes than can be replayed, one `event: reset`: '
    "reload, then follow. A comment every 15 s keeps idle connections open.",
    media_type="text/event-stream",
    response_description="the stream, open until the client or the server ends it",
    responses=problems(400, 422),
)
async def live_events(
    live: NamedDependency[LiveFeed], viewer: NamedDependency[Viewer], case_id: CaseFilter = None, last_event_id: LastEventId = None
) -> ServerSentEvent:
    return await live_stream(live, case_id, last_event_id, viewer)
