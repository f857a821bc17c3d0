"""Helpers for tests that run Casework as separate processes."""

from __future__ import annotations

import asyncio
from typing import Callable

import httpx


async def wait_healthy(port: int, logs: Callable[[], str] = lambda: "", attempts: int = 300) -> None:
    """Until the API on `port` answers GET /health with 200 (about 30 s at most)."""
    async with httpx.AsyncClient() as client:
        for _ in range(attempts):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"the API on port {port} never became healthy\n{logs()}")
