"""py-spy over a phase: where each Python process spends its CPU, summarised per function (`--gil`:
a sample is the thread that holds the interpreter, so waits and C code run without it are not counted).

Needs the `bench` extra (py-spy) and permission to read other processes' memory (root, or
ptrace_scope 0). Raw collapsed stacks are kept in bench/results/ (not in git).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^:()]*)(?::\d+)?\)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def record(pid: int, seconds: float, output: Path) -> asyncio.subprocess.Process:
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is not installed: pip install '.[bench]'")
    return await asyncio.create_subprocess_exec(
        binary, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", "200",
        "--format", "raw", "--nonblocking", "--gil", "--output", str(output),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


def _name(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['function']} ({path})"


def summarise(raw: Path, top: int = 15) -> dict:
    """Share of samples per function: self (on top of the stack) and inclusive (anywhere in it)."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [_name(frame) for frame in stack.split(";") if frame]
        if not frames:
            continue
        total += samples
        own[frames[-1]] += samples
        for name in set(frames):
            anywhere[name] += samples
    share = lambda counter: [(name, round(100 * count / total, 1)) for name, count in counter.most_common(top)]  # noqa: E731
    return {"samples": total, "self_percent": share(own), "inclusive_percent": share(anywhere)}
