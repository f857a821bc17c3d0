"""`casework audit export` and `casework audit verify`: the auditor's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TextIO

from service.audit import Audit
from service.export import EVENTS, csv_batch, csv_header, event_batches, json_batch
from service.read_model import EventFilter, ReadModel, engine_for
from service.settings import Settings
from service.temporal import connect
from states.case import as_utc
from states.machine import KINDS


def add_commands(commands) -> None:
    audit = commands.add_parser("audit", help="export events and verify case histories (read-only)")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write events across cases as JSON Lines or CSV")
    export.add_argument("--since", type=_time, help="events at or after this RFC 3339 time")
    export.add_argument("--until", type=_time, help="events before this RFC 3339 time")
    export.add_argument("--kind", choices=KINDS, help="only cases of this kind")
    export.add_argument("--actor", help="only events by this user name (or 'system')")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    verify = actions.add_parser("verify", help="check histories against their hash chains and Temporal's record")
    which = verify.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every case in the read model")
    which.add_argument("--case", action="append", metavar="ID", help="this case (repeatable)")


async def run(settings: Settings, arguments: argparse.Namespace) -> int:
    if arguments.audit_command == "export":
        return await _export(settings, arguments)
    return await _verify(settings, arguments)


@asynccontextmanager
async def _read_model(settings: Settings) -> AsyncIterator[ReadModel]:
    read_model = ReadModel(engine_for(settings))
    try:
        yield read_model
    finally:
        await read_model.close()


async def _export(settings: Settings, arguments: argparse.Namespace) -> int:
    where = EventFilter(arguments.since, arguments.until, arguments.kind, arguments.actor)
    # Opened once for the command's whole run, closed below; a blocking open is fine in a one-shot command.
    output = open(arguments.output, "w", encoding="utf-8", newline="") if arguments.output else sys.stdout  # noqa: ASYNC230, SIM115
    count = 0
    try:
        async with _read_model(settings) as read_model:
            if arguments.format == "csv":
                output.write(csv_header(EVENTS, None))
            async for batch in event_batches(read_model, where, None):
                output.write(csv_batch(EVENTS, batch, None) if arguments.format == "csv" else json_batch(batch))
                count += len(batch)
    finally:
        if output is not sys.stdout:
            output.close()
    print(f"exported {count} events", file=sys.stderr)
    return 0


async def _verify(settings: Settings, arguments: argparse.Namespace) -> int:
    async with _read_model(settings) as read_model:
        client = await connect(settings.temporal_connection)
        audit = Audit(client, read_model)
        case_ids = await read_model.case_ids() if arguments.all else arguments.case
        failed = gone = 0
        for done, case_id in enumerate(case_ids, start=1):
            result = await audit.verify(case_id)
            gone += result.temporal == "gone"
            if not result.ok:
                failed += 1
                _clear_progress(sys.stderr)
                print(f"FAILED {case_id} at seq {result.seq}: {result.problem}: {result.detail}", file=sys.stderr)
            _progress(sys.stderr, done, len(case_ids))
        _clear_progress(sys.stderr)
    print(f"verified {len(case_ids)} cases: {len(case_ids) - failed} ok, {failed} failed ({gone} checked by hash chain only: Temporal history gone)")
    return 1 if failed else 0


def _progress(stream: TextIO, done: int, total: int, width: int = 30) -> None:
    if not stream.isatty():
        return
    filled = width * done // max(total, 1)
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    stream.flush()


def _clear_progress(stream: TextIO) -> None:
    if stream.isatty():
        stream.write("\r\033[K")


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {text!r}") from None
    return as_utc(moment)
