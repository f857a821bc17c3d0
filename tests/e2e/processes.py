"""Helpers for tests that run Casework as separate processes."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support import eventually


async def wait_healthy(port: int, logs: Callable[[], str] = lambda: "", timeout: float = 120) -> None:
    """Until the API on `port` answers GET /health with 200. A process starts slowly on a loaded
    machine (the suite shares two cores), hence the generous bound."""
    async with httpx.AsyncClient() as client:

        async def healthy() -> bool:
            try:
                return (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200
            except httpx.TransportError:
                return False

        try:
            await eventually(healthy, timeout, f"healthy API on port {port}")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{logs()}") from None
