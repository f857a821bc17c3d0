"""After an unclean stop of `casework serve`, put back what its SQLite read model may have lost.

The embedded read model runs SQLite with WAL and synchronous=NORMAL: a power cut or an operating-
system crash can roll back its last commits. Temporal's store syncs every commit, so it still holds
every change that was acknowledged. While `casework serve` runs, a marker in the data folder holds
the moment it started; a clean stop makes the read model durable (a checkpoint) and then removes it.
A start that finds the marker reconciles, before the API answers anything, every case that can have
changed since that moment (the running workflows and those closed since) whose row does not carry the
fence of its history's last projection (service/last_projection.py): a rolled-back commit takes its
fence with it, so such a row names an older task, or there is no row at all.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service.read_model import ReadModel
from service.reconcile import Reconciler

log = logging.getLogger(__name__)

# Long enough for thousands of open cases; past it the API serves and the rest is left to `casework reconcile`.
REPAIR_TIME_LIMIT = timedelta(minutes=10)
PROGRESS_EVERY_SECONDS = 5.0
# Temporal and this process share a clock; the margin covers a change in flight as the marker was written.
MARGIN = timedelta(minutes=1)


class RunMarker:
    """`serving-since` in the data folder: present while `casework serve` runs, gone after a clean stop."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / "serving-since"

    def unclean_since(self) -> datetime | None:
        """When the session that did not stop cleanly began; None after a clean stop (or on a first start)."""
        try:
            return datetime.fromisoformat(self.path.read_text().strip())
        except FileNotFoundError:
            return None
        except ValueError:
            return datetime.fromtimestamp(0, UTC)  # unreadable: assume the worst, repair every case

    def write(self, since: datetime) -> None:
        """Durably, so that the marker itself survives the power cut it is there for."""
        partial = self.path.with_name(self.path.name + ".partial")
        with open(partial, "w") as file:
            file.write(since.isoformat())
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, self.path)
        _sync_directory(self.path.parent)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        _sync_directory(self.path.parent)


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass
class Repair:
    cases: int = 0
    done: int = 0
    repaired: int = 0
    with_problems: int = 0

    @property
    def complete(self) -> bool:
        return self.done == self.cases


async def repair(reconciler: Reconciler, since: datetime, time_limit: timedelta = REPAIR_TIME_LIMIT) -> Repair:
    """Reconcile every case changed since `since` that the end of its history does not show in
    agreement (a rolled-back commit leaves its row's fence behind the last projection), logging
    progress; stop at the time limit."""
    began = time.monotonic()
    case_ids = await reconciler.case_ids_changed_since(since - MARGIN)
    summary = Repair(cases=len(case_ids))
    log.warning(
        "casework serve did not stop cleanly (running since %s): reconciling the read model's %d cases that may have changed, before serving",
        since.isoformat(),
        summary.cases,
    )
    last_report = began
    try:
        async with asyncio.timeout(time_limit.total_seconds()):
            in_doubt = await reconciler.in_doubt(await reconciler.fences_of(case_ids))
            summary.done = summary.cases - len(in_doubt)
            log.info("reconcile: %d of %d cases in agreement by their history, %d to reconcile", summary.done, summary.cases, len(in_doubt))
            async with aclosing(reconciler.reconcile_many(in_doubt)) as results:
                async for result in results:
                    summary.done += 1
                    summary.repaired += result.changed
                    summary.with_problems += bool(result.problems)
                    if result.changed or result.problems:
                        log.warning("reconcile: %s", result.describe())
                    if time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
                        last_report = time.monotonic()
                        log.info("reconcile: %d of %d cases checked, %d repaired", summary.done, summary.cases, summary.repaired)
    except TimeoutError:
        log.error("reconcile: stopped after %s with %d of %d cases checked; serving now: run `casework reconcile` to finish",
                  time_limit, summary.done, summary.cases)  # fmt: skip
    log.info("reconcile: %d of %d cases checked in %.1f s, %d repaired, %d with problems left alone",
                summary.done, summary.cases, time.monotonic() - began, summary.repaired, summary.with_problems)  # fmt: skip
    return summary


async def make_durable(read_model: ReadModel) -> bool:
    """Checkpoint the WAL into the database file, syncing both: with synchronous=NORMAL the last
    commits are otherwise only in the operating system's cache. False if a reader or writer kept it from completing."""
    async with read_model.engine.connect() as connection:
        busy = (await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()[0]
    return busy == 0
