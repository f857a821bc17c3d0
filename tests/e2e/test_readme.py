"""`casework serve` starts everything, and the README's walkthrough works as written."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from service.settings import Settings
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CASEWORK = Path(sys.executable).parent / "casework"


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Walkthrough", 1)[1]
    commands = re.search(r"```sh\n(.*?)```", section, re.S)
    assert commands is not None, "the README's walkthrough has no ```sh block"
    return commands.group(1)


def wait_for_banner(process: subprocess.Popen, log: Path, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text()
        if "Press Ctrl+C to stop." in text:
            return text
        assert process.poll() is None, text
        time.sleep(0.2)
    raise AssertionError(f"no banner after {timeout}s:\n{log.read_text()}")


def start_serve(tmp_path: Path) -> tuple[subprocess.Popen, Path, dict[str, int]]:
    ports = {"http": free_port(), "temporal": free_port(), "ui": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEWORK_")}
    env.update(
        CASEWORK_DATA_DIR=str(tmp_path / "data"),
        CASEWORK_HTTP_PORT=str(ports["http"]),
        CASEWORK_TEMPORAL_PORT=str(ports["temporal"]),
        CASEWORK_TEMPORAL_UI_PORT=str(ports["ui"]),
    )
    log = tmp_path / "serve.log"
    with open(log, "wb") as output:
        serve = subprocess.Popen([str(CASEWORK), "serve"], env=env, stdout=output, stderr=subprocess.STDOUT)
    return serve, log, ports


def stop(serve: subprocess.Popen, log: Path, signum: int) -> None:
    """Stop `casework serve` as a user or a process manager would; it must exit cleanly, within the
    shutdown bound (CASEWORK_SHUTDOWN_SECONDS; beyond it the process cuts itself off with status 1)."""
    serve.send_signal(signum)
    try:
        assert serve.wait(timeout=Settings().shutdown_seconds + 5) == 0, log.read_text()
    finally:
        serve.kill()


def assert_port_free(port: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_serve_stops_cleanly_on_sigterm(tmp_path):
    serve, log, ports = start_serve(tmp_path)
    try:
        wait_for_banner(serve, log)
        headers = {"Authorization": "Bearer demo-agent-token"}
        created = httpx.post(f"http://127.0.0.1:{ports['http']}/cases", json={"kind": "complaint", "title": "t"}, headers=headers)
        assert created.status_code == 201
    finally:
        stop(serve, log, signal.SIGTERM)
    assert "demo-agent-token" not in log.read_text().split("Press Ctrl+C to stop.")[1]
    assert_port_free(ports["temporal"])
    assert_port_free(ports["http"])


def test_serve_runs_the_readme_walkthrough_and_stops_cleanly_on_ctrl_c(tmp_path):
    serve, log, ports = start_serve(tmp_path)
    port, temporal_port, ui_port = ports["http"], ports["temporal"], ports["ui"]
    try:
        banner = wait_for_banner(serve, log)
        assert f"http://127.0.0.1:{port}/schema" in banner
        assert f"Temporal web UI:  http://127.0.0.1:{ui_port}" in banner
        assert "token demo-supervisor-token" in banner and "password sam-demo-password" in banner
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["status"] == "ok"

        script = walkthrough().replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")
        script = script.replace("http://127.0.0.1:8233", f"http://127.0.0.1:{ui_port}")
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert lines[0].startswith("case ")
        states = [line.split()[0:2] for line in lines[1:9]]
        assert states == [["report", "2"], ["analyse", "3"], ["analyse", "4"], ["remediate", "5"],
                          ["follow_up", "6"], ["remediate", "7"], ["follow_up", "8"], ["closed", "9"]]  # fmt: skip
        assert lines[9].startswith("closed None ['reopen']") and "not possible in state 'closed'" in lines[9]
        assert lines[10].startswith("None None None") and "auditors may read but not change" in lines[10]
        history = lines[11:20]
        assert [line.split()[0] for line in history] == [str(seq) for seq in range(1, 10)]
        assert history[6].endswith("record_satisfaction follow_up -> remediate")
        case_id = lines[0].split()[1]
        assert lines[20] == f"[('{case_id}', 'closed')]"
        assert lines[21].endswith(f"/namespaces/default/workflows/{case_id}")
        # One complaint, resolved, its customer's latest verdict a 5, never reopened; and the coming
        # meetings `serve` scheduled at start, as many as were made by then.
        review_line = next(index for index, line in enumerate(lines) if line.startswith("review "))
        kpi_lines = lines[22:review_line]
        assert "complaint 1 1.0 5.0 0.0" in kpi_lines
        assert all(line == "complaint 1 1.0 5.0 0.0" or line.startswith("meeting ") for line in kpi_lines), kpi_lines
        review_id = lines[review_line].split()[1]
        assert lines[review_line] == f"review {review_id} in review.html"
        page = (tmp_path / "review.html").read_text()
        assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    finally:
        stop(serve, log, signal.SIGINT)
    # The embedded Temporal server went down with it: its port is free again.
    assert_port_free(temporal_port)
