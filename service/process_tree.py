"""`casework serve` as one process tree: the API and the worker each in a Python process of its own.

One Python process runs on one core at a time (the GIL); on the small machine `casework serve` is
for, the API and the worker then queue behind each other. As children of `serve` they use both
cores and still behave as one program: they start in order, each says when it is ready, one signal
stops them all, and a child that dies takes the rest down with it. The kernel ends every child when
`serve` itself ends, however it ends (kill -9 included), so nothing is left running.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

log = logging.getLogger("casework")

PR_SET_PDEATHSIG = 1
# The child writes one byte here once it serves; `serve` waits for it before going on.
READY_FD = "CASEWORK_SERVE_READY_FD"
_libc = ctypes.CDLL(None, use_errno=True)


def dies_with_this_process(signum: int = signal.SIGTERM) -> Callable[[], None]:
    """A preexec_fn: the kernel sends `signum` to the child when the process that started it ends.

    It runs in the child between fork and exec, so it must start children from the thread that
    lives as long as this process (the kernel watches the thread, not the process)."""
    parent = os.getpid()

    def arm() -> None:
        _libc.prctl(PR_SET_PDEATHSIG, signum)
        if os.getppid() != parent:  # the parent ended before the line above took effect
            os._exit(1)

    return arm


def announce_ready() -> None:
    """In a child of `casework serve`: tell it this process now serves. Elsewhere: nothing."""
    descriptor = os.environ.pop(READY_FD, None)
    if descriptor is None:
        return
    try:
        os.write(int(descriptor), b"1")
        os.close(int(descriptor))
    except OSError:
        pass  # serve is gone; the death signal follows


class ChildDied(RuntimeError):
    pass


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    ready: int  # the read end of the child's ready pipe
    exited: asyncio.Task = field(init=False)

    def __post_init__(self) -> None:
        self.exited = asyncio.ensure_future(self.process.wait())

    @property
    def pid(self) -> int:
        return self.process.pid

    async def until_ready(self) -> None:
        """Until the child announced it serves; ChildDied if it ended first."""
        loop = asyncio.get_running_loop()
        announced: asyncio.Future[bytes] = loop.create_future()

        def read() -> None:
            if not announced.done():
                announced.set_result(os.read(self.ready, 1))  # b"" if the child closed it without a word

        loop.add_reader(self.ready, read)
        try:
            await asyncio.wait({announced, self.exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            loop.remove_reader(self.ready)
            os.close(self.ready)
        if not (announced.done() and announced.result()):
            raise ChildDied(f"the {self.name} (pid {self.pid}) exited with status {await self.exited} before it was ready: see its log above")

    def terminate(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


class ProcessTree:
    """The children of `casework serve`, each a `casework` command run with `env`."""

    def __init__(self, env: Mapping[str, str]):
        self._env = dict(env)
        self.children: list[Child] = []

    async def start(self, name: str, command: str) -> Child:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "service.cli", command,
                env={**self._env, READY_FD: str(write_end)}, pass_fds=(write_end,), stdin=asyncio.subprocess.DEVNULL,
                preexec_fn=dies_with_this_process(),
            )  # fmt: skip
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        child = Child(name, process, read_end)
        self.children.append(child)
        return child

    async def until_one_ends(self) -> Child:
        """The first child to exit."""
        done, _ = await asyncio.wait({child.exited for child in self.children}, return_when=asyncio.FIRST_COMPLETED)
        return next(child for child in self.children if child.exited in done)

    def terminate(self) -> None:
        for child in self.children:
            child.terminate()

    def kill(self) -> None:
        for child in self.children:
            child.kill()

    async def wait(self) -> dict[str, int]:
        """Until every child has exited; their exit statuses by name."""
        return {child.name: await child.exited for child in self.children}
