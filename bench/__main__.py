"""`python -m bench [--quick]`: Casework against the raw Temporal floor, side by side, in one run.

Prints a table and writes bench/results/latest.json (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import console, exports, kpis, live, projection, report, setup_info, stats, sweep
from bench import profile as profiling
from bench import serve as serve_topology
from bench.floor import Floor
from bench.http_load import CaseworkLoad
from bench.listing import Rows, Seeder, measure_counts, measure_http, measure_read_model, seed_to
from bench.postgres import fresh_database
from bench.stack import FLOOR_QUEUE, Stack, cpu_seconds, rss_mb
from service.temporal import DURABLE_SYNCHRONOUS

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Plan:
    name: str
    seconds: float  # measured time of each throughput phase
    warmup: float  # uncounted time before it
    concurrency: tuple[int, ...]
    open_cases: int  # open cases for the worker's memory figure
    list_sizes: tuple[int, ...]
    list_rounds: int  # times each list query is sent per size and database
    kpi_rounds: int  # times each /kpis query is sent per size and database (0: not measured)
    kpi_sizes: tuple[int, ...]  # read-model sizes of the KPI-only part (cases seeded without search rows)
    projection_events: int  # events projected in-process per size and database (ReadModel.project alone)


PLANS = {
    "full": Plan(
        "full",
        seconds=15,
        warmup=3,
        concurrency=(1, 10, 50),
        open_cases=10_000,
        list_sizes=(10_000, 100_000),
        list_rounds=100,
        kpi_rounds=25,
        kpi_sizes=(100_000, 1_000_000),
        projection_events=1000,
    ),
    "quick": Plan(
        "quick",
        seconds=2,
        warmup=0.5,
        concurrency=(1, 10, 50),
        open_cases=500,
        list_sizes=(10_000, 100_000),
        list_rounds=10,
        kpi_rounds=0,
        kpi_sizes=(),
        projection_events=100,
    ),
}


async def timed_phase(stack: Stack | serve_topology.ServeStack, phase, profile: str | None = None, seconds: float = 0):
    """Run one phase; its figures, with the share of a core each process used meanwhile.

    With `profile` (a phase name), py-spy samples the Python processes of the stack during the
    measured window.
    """
    pids = stack.pids()
    spies: dict[str, tuple[Path, asyncio.subprocess.Process]] = {}

    at_window: dict[str, float] = {}

    async def spy() -> None:
        at_window.update({name: cpu_seconds(pid) for name, pid in pids.items()})
        if not profile:
            return
        for name in ("worker", "api", "floor", "bench"):
            if name in pids:
                path = RESULTS / f"profile-{profile}-{name}.txt"
                spies[name] = (path, await profiling.record(pids[name], seconds, path))

    token = stats.on_measuring.set(spy)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    began = time.perf_counter()
    try:
        run = await phase
    finally:
        stats.on_measuring.reset(token)
    elapsed = time.perf_counter() - began
    figures = run.figures()
    # Over the whole phase (set-up and warm-up included): which process the machine's cores went to.
    figures["cpu_cores_busy"] = {
        name: round((cpu_seconds(pid) - before[name]) / elapsed, 2) for name, pid in pids.items() if Path(f"/proc/{pid}").exists()
    }
    if at_window and run.latencies:
        # CPU from the window's opening to the phase's end (its last operations' tails included), per operation counted.
        figures["cpu_ms_per_op"] = {name: round(1000 * (cpu_seconds(pid) - at_window[name]) / len(run.latencies), 1)
                                    for name, pid in pids.items() if name in at_window and Path(f"/proc/{pid}").exists()}  # fmt: skip
        figures["cpu_ms_per_op"]["total"] = round(sum(figures["cpu_ms_per_op"].values()), 1)
    for _, process in spies.values():
        await process.wait()
    if spies:
        figures["profile"] = {name: profiling.summarise(path) for name, (path, _) in spies.items() if path.exists()}
    return figures


READ_MODEL_URL = "sqlite+aiosqlite:///{dir}/data/casework.db"


@dataclass
class Variant:
    """One embedded stack under load: its Temporal store's synchronous setting, its clients."""

    stack: Stack
    load: CaseworkLoad
    floor: Floor


async def start_variant(stack: Stack) -> Variant:
    client = await stack.start_temporal()
    (stack.dir / "data").mkdir(parents=True, exist_ok=True)
    await stack.start_floor_worker()
    base = await stack.start_casework(READ_MODEL_URL.format(dir=stack.dir))
    load = CaseworkLoad(base)
    await load.creations(2, 1, 0)  # first-call costs out of the way
    return Variant(stack, load, Floor(client, FLOOR_QUEUE))


PHASES = ("floor_start", "floor_update_with_start", "create", "floor_update", "floor_update_local", "transition")


def _phase(variant: Variant, name: str):
    return {
        "floor_start": variant.floor.starts, "floor_update_with_start": variant.floor.update_with_start, "create": variant.load.creations,
        "floor_update": variant.floor.updates, "floor_update_local": variant.floor.updates_with_local_activity, "transition": variant.load.transitions,
    }[name]  # fmt: skip


async def throughput(variants: dict[str, Variant], plan: Plan, progress, profile: bool = False) -> dict[str, dict]:
    """Floor and Casework, on each Temporal store setting, interleaved at each concurrency, so noise
    from the machine hits all alike. The first variant is the shipped one (the only one profiled)."""
    results: dict[str, dict[str, dict[str, dict]]] = {variant: {name: {} for name in PHASES} for variant in variants}
    shipped = next(iter(variants))
    for concurrency in plan.concurrency:
        for name in PHASES:
            for variant_name, variant in variants.items():
                progress(f"{name} at concurrency {concurrency}, Temporal store synchronous={variant_name}")
                spied = f"{name}-{concurrency}" if profile and variant_name == shipped and concurrency == max(plan.concurrency) else None
                run = _phase(variant, name)(concurrency, plan.seconds, plan.warmup)
                results[variant_name][name][str(concurrency)] = await timed_phase(variant.stack, run, spied, plan.seconds)
    return results


async def memory(stack: Stack, plan: Plan, load: CaseworkLoad, baseline: float, progress) -> dict:
    progress(f"opening cases until {plan.open_cases} are open (worker memory)")
    began = time.perf_counter()
    await load.open_until(plan.open_cases)
    await asyncio.sleep(2)
    pid = stack.processes["worker"].pid
    return {
        "open_cases": load.opened,
        "worker_rss_mb": rss_mb(pid),
        "worker_rss_mb_at_start": baseline,
        "api_rss_mb": rss_mb(stack.processes["api"].pid),
        "seconds_to_open": round(time.perf_counter() - began, 1),
        "note": None if plan.open_cases >= 10_000 else f"quick run: {plan.open_cases} open cases, not 10k",
    }


async def listing(stack: Stack, plan: Plan, databases: dict[str, str], progress) -> dict:
    """Every read model seeded together, batch by batch, then measured one at a time at each size."""
    rows = Rows()
    seeders = {name: Seeder(url) for name, url in databases.items()}
    results: dict[str, dict] = {name: {"sizes": {}} for name in databases}
    apis: dict[str, str] = {}
    try:
        for name, url in databases.items():
            await stack.upgrade(url)
            results[name]["server_version"] = await seeders[name].server_version()
        seeded = 0
        for size in plan.list_sizes:
            progress(f"list: seeding {' and '.join(databases)} to {size} cases")
            seconds = await seed_to(rows, list(seeders.values()), seeded, size)
            seeded = size
            queries = rows.queries()
            for name, url in databases.items():
                if name not in apis:
                    apis[name] = await stack.start_casework(url, name=f"list-api-{name}", with_worker=False)
                progress(f"list: {name} at {size} cases")
                figures = results[name]["sizes"][str(size)] = {
                    "seed_seconds_all_databases": round(seconds, 1),
                    "http": await measure_http(apis[name], queries, plan.list_rounds),
                    "search": await measure_http(apis[name], rows.searches(), plan.list_rounds),
                    "counts": await measure_counts(apis[name], rows.counts(), plan.list_rounds),
                    "read_model": await measure_read_model(seeders[name].model, queries, max(plan.list_rounds // 2, 5)),
                    "projection": await projection.measure(seeders[name].model, plan.projection_events, case_id=f"bench-projection-{size}"),
                }
                if name == "sqlite":  # what the read model's FULL would cost each change (docs/benchmarks.md, "Durability")
                    figures["projection_synchronous_full"] = await projection.measure_on(
                        url, "FULL", plan.projection_events, case_id=f"bench-projection-full-{size}"
                    )
                progress(f"console: {name} at {size} cases")
                figures["console"] = await console.measure(apis[name], seeders[name].model, rows.searches(), plan.list_rounds, size)
                if name == "sqlite":  # the exports' cost barely depends on the database: one is enough
                    progress(f"exports: the whole list as CSV and XLSX at {size} cases")
                    figures["exports"] = await exports.measure(apis[name], stack.processes[f"list-api-{name}"].pid)
                if plan.kpi_rounds:
                    progress(f"kpis: {name} at {size} cases")
                    figures["kpis"] = await kpis.measure_http(apis[name], kpis.queries(rows.now), plan.kpi_rounds)
        for database in results.values():
            first, last = (database["sizes"][str(size)]["http"] for size in (plan.list_sizes[0], plan.list_sizes[-1]))
            database["growth_p50"] = round(last["p50_ms"] / first["p50_ms"], 2)
            database["growth_p99"] = round(last["p99_ms"] / first["p99_ms"], 2)
    finally:
        for name in apis:
            stack.stop_process(f"list-api-{name}")
        for seeder in seeders.values():
            await seeder.close()
    return results


async def kpi_scale(stack: Stack, plan: Plan, databases: dict[str, str], progress) -> dict:
    """`GET /kpis` alone up to a million cases: seeded like the list's (the same year of history
    before the newest, so the larger sizes hold more years), without search rows."""
    rows = Rows()
    seeders = {name: Seeder(url, with_search=False) for name, url in databases.items()}
    results: dict[str, dict] = {name: {"sizes": {}} for name in databases}
    apis: dict[str, str] = {}
    try:
        for url in databases.values():
            await stack.upgrade(url)
        seeded = 0
        for size in plan.kpi_sizes:
            progress(f"kpis: seeding {' and '.join(databases)} to {size} cases")
            seconds = await seed_to(rows, list(seeders.values()), seeded, size)
            seeded = size
            for name, url in databases.items():
                if name not in apis:
                    apis[name] = await stack.start_casework(url, name=f"kpi-api-{name}", with_worker=False)
                progress(f"kpis: {name} at {size} cases")
                results[name]["sizes"][str(size)] = {
                    "seed_seconds_all_databases": round(seconds, 1),
                    "kpis": await kpis.measure_http(apis[name], kpis.queries(rows.now), plan.kpi_rounds),
                }
    finally:
        for name in apis:
            stack.stop_process(f"kpi-api-{name}")
        for seeder in seeders.values():
            await seeder.close()
    return results


PARTS = ("throughput", "durability", "memory", "sweep", "list", "live", "kpis", "serve")
COMPARED_SYNCHRONOUS = "normal"  # the Temporal store's setting before issue #14, run beside the shipped one


async def main(plan: Plan, postgres_url: str | None, keep: bool, parts: tuple[str, ...] = PARTS, profile: bool = False) -> dict:
    started = time.perf_counter()
    bench_began = datetime.now(UTC)

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    stack = Stack(keep=keep)
    compared = Stack(keep=keep, synchronous=COMPARED_SYNCHRONOUS) if {"throughput", "durability"} <= set(parts) else None
    result: dict[str, Any] = {
        "plan": plan.__dict__,
        "setup": {"started_at": setup_info.now(), "machine": setup_info.machine(), "versions": setup_info.versions()},
    }
    variants: dict[str, Variant] = {}
    try:
        if "serve" in parts:  # first, alone on the machine: two `casework serve` of their own
            top = max(plan.concurrency)
            result["serve"] = await serve_topology.measure(top, plan.seconds, plan.warmup, timed_phase, progress, keep)
            if set(parts) == {"serve"}:
                return result
        progress(f"starting the embedded stack in {stack.dir}")
        variants[DURABLE_SYNCHRONOUS] = await start_variant(stack)
        if compared is not None:
            progress(f"starting a second stack, its Temporal store on synchronous={COMPARED_SYNCHRONOUS}, in {compared.dir}")
            variants[COMPARED_SYNCHRONOUS] = await start_variant(compared)
        result["setup"]["settings"] = {
            "temporal_dev_server": setup_info.temporal_settings(stack.dir),
            "compared_temporal_dev_server": compared and setup_info.temporal_settings(compared.dir, COMPARED_SYNCHRONOUS),
            "topology": "separate processes: Temporal dev server, Casework worker, Casework API, floor worker, load generator"
                        + ("; the same again on a second Temporal dev server for the store comparison" if compared else ""),
            "read_model_for_http": "SQLite (WAL, synchronous=NORMAL) in the temporary data folder",
            "throughput_phase_seconds": plan.seconds, "warmup_seconds": plan.warmup,
            "list_page_size": 50, "postgres": postgres_url and postgres_url.split("@")[-1],
        }  # fmt: skip
        main_variant = variants[DURABLE_SYNCHRONOUS]
        try:
            worker_rss_at_start = rss_mb(stack.processes["worker"].pid)
            if "throughput" in parts:
                by_variant = await throughput(variants, plan, progress, profile)
                result["throughput"] = by_variant.pop(DURABLE_SYNCHRONOUS)
                result["durability"] = {f"temporal_synchronous_{name}": figures for name, figures in by_variant.items()}
            else:
                result["throughput"] = {}
            if compared is not None:
                await variants.pop(COMPARED_SYNCHRONOUS).load.close()
                compared.stop()
            if "memory" in parts:
                result["memory"] = await memory(stack, plan, main_variant.load, worker_rss_at_start, progress)
            if "sweep" in parts:
                result["sweep"] = await sweep.measure(stack, READ_MODEL_URL.format(dir=stack.dir), "default", bench_began, progress)
        finally:
            for variant in variants.values():
                await variant.load.close()
        stack.stop_process("api")
        stack.stop_process("worker")
        stack.stop_process("floor")
        if "live" in parts:
            result["live"] = await live.measure(stack.dir, postgres_url, progress)
        result["list"] = {}
        if "list" in parts:
            databases = await _databases(stack, "list", postgres_url, result["list"])
            result["list"].update(await listing(stack, plan, databases, progress))
        result["kpis"] = {}
        if "kpis" in parts and plan.kpi_sizes:
            databases = await _databases(stack, "kpis", postgres_url, result["kpis"])
            result["kpis"].update(await kpi_scale(stack, plan, databases, progress))
    finally:
        stack.stop()
        if compared is not None:
            compared.stop()
        result["setup"]["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
        result["setup"]["seconds"] = round(time.perf_counter() - started, 1)
        result["ratios"] = report.ratios(result)
        result["durability_ratios"] = report.durability(result)
        result["targets"] = report.targets(result)
    return result


async def _databases(stack: Stack, name: str, postgres_url: str | None, skipped: dict) -> dict[str, str]:
    """A fresh SQLite file and, when given and reachable, the fresh PostgreSQL database."""
    databases = {"sqlite": f"sqlite+aiosqlite:///{stack.dir / f'{name}.db'}"}
    if postgres_url:
        try:
            databases["postgres"] = await fresh_database(postgres_url)
        except Exception as error:  # an unreachable PostgreSQL is reported, not fatal
            skipped["postgres"] = {"skipped": f"{type(error).__name__}: {error}"}
    return databases


def cli() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short phases, 500 open cases for the memory figure, no /kpis figures: about ten minutes (the durability part runs every throughput phase twice)",
    )
    parser.add_argument("--postgres", default=os.environ.get("CASEWORK_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/casework_bench"),
                        help="a PostgreSQL database the bench may drop and create for the list figures ('' to skip)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of: {', '.join(PARTS)} (default: all)")
    parser.add_argument("--profile", action="store_true", help="py-spy the Python processes during the top-concurrency phases")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder (logs) after the run")
    arguments = parser.parse_args()
    result = asyncio.run(
        main(
            PLANS["quick" if arguments.quick else "full"],
            arguments.postgres or None,
            arguments.keep,
            tuple(arguments.parts.split(",")),
            arguments.profile,
        )
    )
    print(report.table(result))
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(cli())
