"""The whole case list exported (`GET /audit/cases`) at each list size: how long, how large, and how
much the API process's memory peaks above where it stood, which must not grow with the cases."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from bench.stack import TOKENS, rss_mb

FORMATS = ("csv", "xlsx")


async def measure(base: str, api_pid: int) -> dict:
    results = {}
    headers = {"Authorization": f"Bearer {TOKENS['auditor']}"}
    async with httpx.AsyncClient(base_url=base, timeout=900, headers=headers) as client:
        for form in FORMATS:
            before = rss_mb(api_pid)
            peak_reset = _reset_peak(api_pid)
            began = time.perf_counter()
            size = 0
            async with client.stream("GET", "/audit/cases", params={"format": form}) as response:
                response.raise_for_status()
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
            results[form] = {
                "seconds": round(time.perf_counter() - began, 1),
                "mib": round(size / 2**20, 1),
                "api_rss_mb_before": before,
                # None where the kernel would not reset the peak (then VmHWM is the process's lifetime peak).
                "api_peak_rss_growth_mb": round(_peak_mb(api_pid) - before, 1) if peak_reset else None,
            }
    return results


def _reset_peak(pid: int) -> bool:
    """Linux: writing 5 to clear_refs sets the process's peak resident memory (VmHWM) to its current."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")
