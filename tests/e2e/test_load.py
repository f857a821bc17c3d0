"""Load: concurrent clients mixing creations, transitions and reads against `casework serve`.

Zero 5xx; every acknowledged change is an event and every event an acknowledged change. The figures
(throughput and latency percentiles) are printed and written to `load-results.json` in the test's
folder; CASEWORK_LOAD_CLIENTS and CASEWORK_LOAD_SECONDS set the size (default 8 clients, 20 s).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import statistics
import time

import httpx

from tests.e2e.test_readme import start_serve, stop, wait_for_banner
from tests.support import COMPLAINT_WALK

CLIENTS = int(os.environ.get("CASEWORK_LOAD_CLIENTS", "8"))
SECONDS = float(os.environ.get("CASEWORK_LOAD_SECONDS", "20"))
TOKENS = {"agent": "demo-agent-token", "supervisor": "demo-supervisor-token", "auditor": "demo-auditor-token"}


def headers(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


class Tally:
    def __init__(self):
        self.latencies: dict[str, list[float]] = {"create": [], "transition": [], "read": []}
        self.acknowledged: dict[str, int] = {}
        self.server_errors: list[str] = []

    def timed(self, kind: str, started: float, response: httpx.Response) -> None:
        self.latencies[kind].append(time.perf_counter() - started)
        if response.status_code >= 500:
            self.server_errors.append(f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:200]}")


async def client_loop(client: httpx.AsyncClient, tally: Tally, until: float, rng: random.Random) -> None:
    mine: list[tuple[str, int]] = []  # case id, next step of its walk
    while time.monotonic() < until:
        roll = rng.random()
        if roll < 0.15 or not mine:
            started = time.perf_counter()
            response = await client.post("/cases", json={"kind": "complaint", "title": "负载"}, headers=headers("agent"))
            tally.timed("create", started, response)
            if response.status_code == 201:
                case_id = response.json()["id"]
                tally.acknowledged[case_id] = 1
                mine.append((case_id, 0))
        elif roll < 0.8:
            index = rng.randrange(len(mine))
            case_id, step = mine[index]
            walked = COMPLAINT_WALK[step]
            assert walked.actor.role is not None
            started = time.perf_counter()
            response = await client.post(f"/cases/{case_id}/transitions", json=walked.body(), headers=headers(walked.actor.role))
            tally.timed("transition", started, response)
            if response.status_code == 200:
                tally.acknowledged[case_id] += 1
                if step + 1 == len(COMPLAINT_WALK):
                    mine.pop(index)
                else:
                    mine[index] = (case_id, step + 1)
        else:
            started = time.perf_counter()
            if roll < 0.9:
                response = await client.get(f"/cases/{rng.choice(mine)[0]}", headers=headers("auditor"))
            else:
                response = await client.get("/cases", params={"state": "analyse", "limit": 20}, headers=headers("auditor"))
            tally.timed("read", started, response)


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"count": len(values)}
    cuts = statistics.quantiles(values, n=100)
    return {"count": len(values), "p50_ms": round(cuts[49] * 1000, 1), "p95_ms": round(cuts[94] * 1000, 1), "p99_ms": round(cuts[98] * 1000, 1)}


async def test_concurrent_clients_get_no_5xx_and_every_acknowledged_change_is_one_event(tmp_path):
    serve, log, ports = start_serve(tmp_path)
    try:
        wait_for_banner(serve, log)
        tally = Tally()
        base = f"http://127.0.0.1:{ports['http']}"
        limits = httpx.Limits(max_connections=CLIENTS * 2)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
            started = time.monotonic()
            await asyncio.gather(*(client_loop(client, tally, started + SECONDS, random.Random(seed)) for seed in range(CLIENTS)))
            elapsed = time.monotonic() - started
            assert tally.server_errors == [], tally.server_errors[:5]
            recorded = 0
            for case_id, acknowledged in tally.acknowledged.items():
                history = (await client.get(f"/cases/{case_id}/history", headers=headers("auditor"))).json()["items"]
                assert len(history) == acknowledged, (case_id, [event["action"] for event in history])
                recorded += len(history)
        changes = sum(tally.acknowledged.values())
        assert recorded == changes
        figures = {
            "clients": CLIENTS,
            "seconds": round(elapsed, 1),
            "acknowledged_changes": changes,
            "recorded_events": recorded,
            "changes_per_second": round(changes / elapsed, 1),
            **{kind: percentiles(values) for kind, values in tally.latencies.items()},
        }
        (tmp_path / "load-results.json").write_text(json.dumps(figures, indent=2))
        print("\nload:", json.dumps(figures))
    finally:
        stop(serve, log, signal.SIGINT)
