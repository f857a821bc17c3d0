"""Reading a server-sent-event stream over HTTP, as a browser's EventSource does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Message:
    event: str | None
    id: str | None
    data: str | None
    comment: str | None

    @property
    def cursor(self) -> str:
        """The id to resume after."""
        assert self.id, self
        return self.id

    def json(self) -> Any:
        assert self.data is not None, self
        return json.loads(self.data)


class Stream:
    def __init__(self, response: httpx.Response):
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = 15) -> Message | None:
        """The next message (or comment); None when the server ended the stream."""
        async with asyncio.timeout(timeout):
            fields: dict[str, str] = {}
            async for line in self._lines:
                if line == "":
                    if fields:
                        return Message(fields.get("event"), fields.get("id"), fields.get("data"), fields.get("comment"))
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    fields["comment"] = value
                elif name == "data" and "data" in fields:
                    fields["data"] += "\n" + value
                else:
                    fields[name] = value
            return None

    async def changes(self, count: int, of: str | set[str] | None = None, timeout: float = 15) -> list[Message]:
        """The next `count` changes (of the case or cases `of` only, if given), skipping heartbeats and other cases'."""
        wanted = {of} if isinstance(of, str) else of
        found: list[Message] = []
        async with asyncio.timeout(timeout):
            while len(found) < count:
                message = await self.next(timeout)
                assert message is not None, f"the stream ended after {found}"
                if message.event == "changed" and (wanted is None or message.json()["case_id"] in wanted):
                    found.append(message)
        return found


@asynccontextmanager
async def live(client: httpx.AsyncClient, headers: dict[str, str], path: str = "/events/live", **params: str) -> AsyncIterator[Stream]:
    """An open stream; once entered, the server has subscribed it (it answers only then)."""
    async with client.stream("GET", path, params=params, headers={"Accept": "text/event-stream", **headers}) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)
