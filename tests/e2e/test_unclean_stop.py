"""`casework serve` keeps what it acknowledged across a power cut: Temporal's store syncs every
commit, and the read model (SQLite, synchronous=NORMAL) is put back from Temporal after an unclean stop."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.test_readme import CASEWORK, wait_for_banner

HEADERS = {role: {"Authorization": f"Bearer demo-{role}-token"} for role in ("agent", "supervisor", "auditor")}
STEPS = [("acknowledge", None), ("start_analysis", None), ("record_findings", {"findings": "left at the wrong station"})]


class Serve:
    """`casework serve` in a session of its own, so that a kill takes its Temporal server down with it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")}
        self.env.update(
            CASEWORK_DATA_DIR=str(folder / "data"),
            CASEWORK_HTTP_PORT=str(self.port),
            CASEWORK_TEMPORAL_PORT=str(free_port()),
            CASEWORK_TEMPORAL_UI_PORT=str(free_port()),
        )
        self.process: subprocess.Popen | None = None
        self.log = folder / "serve.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def marker(self) -> Path:
        return self.folder / "data" / "serving-since"

    def start(self, *arguments: str) -> None:
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [str(CASEWORK), "serve", *arguments], env=self.env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def running(self) -> subprocess.Popen:
        assert self.process is not None, "casework serve was never started"
        return self.process

    def temporal_pid(self) -> int:
        children = Path(f"/proc/{self.running.pid}/task/{self.running.pid}/children").read_text().split()
        return next(int(pid) for pid in children if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"/temporal"))

    def kill(self) -> None:
        """As a power cut stops it: nothing gets to clean up."""
        os.killpg(self.running.pid, signal.SIGKILL)
        self.running.wait()

    def stop(self) -> None:
        self.running.send_signal(signal.SIGINT)
        assert self.running.wait(timeout=60) == 0, self.log.read_text()

    def ensure_gone(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def serve(tmp_path):
    serve = Serve(tmp_path)
    yield serve
    serve.ensure_gone()


def open_and_walk(client: httpx.Client, steps) -> dict:
    case = client.post("/cases", json={"kind": "complaint", "title": "包裹三天未到"}, headers=HEADERS["agent"]).json()
    for action, data in steps:
        response = client.post(f"/cases/{case['id']}/transitions", json={"action": action, "data": data}, headers=HEADERS["agent"])
        assert response.status_code == 200, response.text
        case = response.json()
    return case


def pragmas(pid: int) -> list[str]:
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    return [args[index + 1] for index, arg in enumerate(args) if arg == "--sqlite-pragma"]


def test_serve_runs_temporals_store_syncing_every_commit(serve):
    serve.start()
    wait_for_banner(serve.process, serve.log)
    pid = serve.temporal_pid()
    assert [pragma for pragma in pragmas(pid) if pragma.startswith("synchronous=")][-1] == "synchronous=full"
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed: the pragma in effect is not observable")
    # The pragma in effect: with `full` the store's WAL is synced at every commit, with `normal` only at checkpoints.
    trace = serve.folder / "strace.txt"
    tracer = subprocess.Popen(
        ["strace", "-f", "-qq", "-y", "-e", "signal=none", "-e", "trace=fsync,fdatasync", "-o", str(trace), "-p", str(pid)], stderr=subprocess.PIPE
    )
    try:
        time.sleep(2)  # attached to every thread
        if tracer.poll() is not None:
            assert tracer.stderr is not None  # piped above
            pytest.skip(f"strace cannot attach here: {tracer.stderr.read().decode()}")
        with httpx.Client(base_url=serve.base, timeout=60) as client:
            for _ in range(5):
                assert client.post("/cases", json={"kind": "complaint", "title": "t"}, headers=HEADERS["agent"]).status_code == 201
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
    synced = [line for line in trace.read_text().splitlines() if "temporal.db" in line and "sync(" in line]
    assert len(synced) >= 10, trace.read_text()[-2000:]
    serve.stop()
    assert not serve.marker.exists()  # a clean stop: nothing to repair at the next start


def test_serve_puts_back_what_the_read_model_lost_before_answering_after_an_unclean_stop(serve):
    serve.start()
    wait_for_banner(serve.process, serve.log)
    with httpx.Client(base_url=serve.base, timeout=60) as client:
        walked = open_and_walk(client, STEPS)
        last = open_and_walk(client, [])
    serve.kill()
    assert serve.marker.exists()

    # What a power cut can do to a read model on synchronous=NORMAL: its last commits rolled back.
    database = sqlite3.connect(serve.folder / "data" / "casework.db")
    with database:
        database.execute("DELETE FROM events WHERE case_id = ? AND seq >= 3", (walked["id"],))
        # The row as the transaction of event 2 left it, fence and all.
        database.execute(
            "UPDATE cases SET version = 2, state = 'report', fence = (SELECT fence FROM events WHERE case_id = ? AND seq = 2) WHERE id = ?",
            (walked["id"], walked["id"]),
        )
        database.execute("DELETE FROM events WHERE case_id = ?", (last["id"],))
        database.execute("DELETE FROM cases WHERE id = ?", (last["id"],))
    database.close()

    serve.start()
    first = None
    with httpx.Client(base_url=serve.base, timeout=60) as client:
        for _ in range(1200):
            assert serve.process.poll() is None, serve.log.read_text()
            try:
                first = client.get(f"/cases/{walked['id']}/history", headers=HEADERS["auditor"])
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert first is not None, serve.log.read_text()
        # The very first answer already has every acknowledged event.
        assert first.status_code == 200, first.text
        assert [event["seq"] for event in first.json()["items"]] == [1, 2, 3, 4]
        # The coming meetings `serve` schedules at start are cases too: this test is about the two it wrote.
        cases = client.get("/cases", headers=HEADERS["auditor"]).json()["items"]
        listed = {case["id"]: (case["state"], case["version"]) for case in cases if case["kind"] != "meeting"}
        assert listed == {walked["id"]: ("analyse", 4), last["id"]: ("report", 1)}
    log = serve.log.read_text().split("did not stop cleanly", 1)
    assert len(log) == 2, serve.log.read_text()
    # Every case is checked (the two written here and the meetings serve scheduled), the two damaged repaired.
    assert re.search(r"(\d+) of \1 cases checked", log[1]) and "2 repaired" in log[1], log[1]
    # Only the two are reconciled in full: the others' rows carry their history's last projection.
    assert "in agreement by their history, 2 to reconcile" in log[1], log[1]
    serve.stop()
    assert not serve.marker.exists()
