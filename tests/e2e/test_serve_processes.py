"""`casework serve` runs the API and the worker in processes of their own (both cores work) and
still behaves as one program: one signal stops them all, one that dies stops the rest, and a
kill -9 of `serve` itself leaves nothing running."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from service.settings import Settings
from tests.e2e.test_readme import wait_for_banner
from tests.e2e.test_unclean_stop import HEADERS, Serve

# Beyond the shutdown bound: the interpreter's own exit, on a loaded 2-core machine.
EXIT_SLACK = 5


SEEN: dict[str, int] = {}  # the children of the running test's serve by role, killed if the test failed


@pytest.fixture
def serve(tmp_path):
    serve = Serve(tmp_path)
    SEEN.clear()
    yield serve
    serve.ensure_gone()
    for pid in SEEN.values():
        if running(pid):
            os.kill(pid, signal.SIGKILL)


def children(pid: int) -> dict[str, int]:
    """The processes `pid` started, by role: temporal, worker, api."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        args = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
        role = "temporal" if args[0].endswith("/temporal") else args[3] if args[1:3] == ["-m", "service.cli"] else args[0]
        found[role] = int(child)
    return found


def running(pid: int) -> bool:
    """Whether the process still runs (a zombie nobody reaped has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def until_all_ended(pids: dict[str, int], seconds: float) -> dict[str, int]:
    """The processes still running after `seconds`, by role."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(running(pid) for pid in pids.values()):
        time.sleep(0.2)
    return {role: pid for role, pid in pids.items() if running(pid)}


def started(serve: Serve, *arguments: str) -> dict[str, int]:
    serve.start(*arguments)
    wait_for_banner(serve.running, serve.log)
    found = children(serve.running.pid)
    SEEN.update(found)
    return found


def test_serve_runs_the_api_and_the_worker_in_processes_of_their_own_and_sigterm_stops_them_all(serve):
    processes = started(serve)
    assert set(processes) == {"temporal", "worker", "api"}, processes
    assert len({serve.running.pid, *processes.values()}) == 4
    # The API process hands the change to the worker process through Temporal, and reads it back.
    with httpx.Client(base_url=serve.base, timeout=60) as client:
        created = client.post("/cases", json={"kind": "complaint", "title": "t"}, headers=HEADERS["agent"])
        assert created.status_code == 201, created.text
        moved = client.post(f"/cases/{created.json()['id']}/transitions", json={"action": "acknowledge"}, headers=HEADERS["agent"])
        assert moved.status_code == 200, moved.text
        assert client.get("/health").json()["status"] == "ok"
    serve.running.send_signal(signal.SIGTERM)
    assert serve.running.wait(timeout=Settings().shutdown_seconds + EXIT_SLACK) == 0, serve.log.read_text()
    assert until_all_ended(processes, 1) == {}
    assert not serve.marker.exists()  # stopped cleanly: nothing to repair at the next start


def test_ctrl_c_in_a_terminal_stops_serve_and_its_children_cleanly(serve):
    processes = started(serve)
    os.killpg(serve.running.pid, signal.SIGINT)  # a terminal signals its whole foreground process group
    assert serve.running.wait(timeout=Settings().shutdown_seconds + EXIT_SLACK) == 0, serve.log.read_text()
    assert until_all_ended(processes, 1) == {}
    assert not serve.marker.exists()


def test_kill_9_of_serve_leaves_no_child_running(serve):
    processes = started(serve)
    serve.running.kill()  # serve alone: its children are not signalled by anyone but the kernel
    serve.running.wait()
    assert until_all_ended(processes, Settings().shutdown_seconds + EXIT_SLACK) == {}


def test_a_child_that_dies_stops_the_whole_serve_with_an_error(serve):
    processes = started(serve)
    os.kill(processes["worker"], signal.SIGKILL)
    assert serve.running.wait(timeout=Settings().shutdown_seconds + EXIT_SLACK) != 0
    assert "the worker exited unexpectedly" in serve.log.read_text()
    assert until_all_ended(processes, 1) == {}
    assert serve.marker.exists()  # not a clean stop: the next start repairs the read model


def test_serve_one_process_runs_the_api_and_the_worker_in_its_own_and_leaves_nothing_behind_a_kill_9(serve):
    processes = started(serve, "--one-process")
    assert set(processes) == {"temporal"}, processes
    with httpx.Client(base_url=serve.base, timeout=60) as client:
        created = client.post("/cases", json={"kind": "complaint", "title": "t"}, headers=HEADERS["agent"])
        assert created.status_code == 201, created.text
    serve.running.kill()
    serve.running.wait()
    assert until_all_ended(processes, Settings().shutdown_seconds + EXIT_SLACK) == {}


def test_a_child_that_fails_to_start_stops_serve_with_an_error_naming_it(serve):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", serve.port))
        taken.listen()
        serve.start()
        assert serve.running.wait(timeout=120) == 1, serve.log.read_text()
    log = serve.log.read_text()
    assert "casework: the API" in log and "before it was ready" in log, log
    assert "Press Ctrl+C to stop." not in log
    assert not group_has_members(serve.running.pid), "a process of serve's group still runs"


def group_has_members(group: int) -> bool:
    try:
        os.killpg(group, 0)
        return True
    except ProcessLookupError:
        return False
