"""The console's live stream: the API's server-sent events of case changes, behind the session.

A page starts its stream after the newest change it was rendered with (`after`), since a browser's
first connection cannot send Last-Event-ID; when it reconnects it sends the header, which wins."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, get
from litestar.params import QueryParameter
from litestar.response import ServerSentEvent

from api.console.render import viewer_of
from api.live import CaseFilter, LastEventId, live_stream

After = Annotated[str | None, QueryParameter(max_length=64)]


@get("/ui/live", include_in_schema=False)
async def console_live(request: Request, case_id: CaseFilter = None, after: After = None, last_event_id: LastEventId = None) -> ServerSentEvent:
    return await live_stream(request.app.state.live, case_id, last_event_id or after, await viewer_of(request))


async def live_start(request: Request) -> str:
    """Where a page rendered now starts its stream."""
    return str(await request.app.state.live.newest())
