"""Export of events across cases, as JSON Lines or CSV, read in batches so memory stays flat."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from service.read_model import EventFilter, ReadModel

FORMATS = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
CSV_COLUMNS = [
    "case_id", "seq", "kind", "action", "from_state", "to_state", "actor_name", "actor_role",
    "at", "note", "data", "request_id", "prev_hash", "hash", "cursor",
]  # fmt: skip
BATCH = 1000
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); such a cell
# gets a leading apostrophe, which shows it as text. JSON Lines is the exact export.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


async def export_events(read_model: ReadModel, where: EventFilter, cursor: str | None, form: str) -> AsyncIterator[str]:
    """Lines of the export; each event carries the cursor to resume after it."""
    if form == "csv":
        yield _csv_line(CSV_COLUMNS)
    while True:
        batch = await read_model.events_after(where, cursor, BATCH)
        for event in batch:
            yield _csv_line(_csv_row(event)) if form == "csv" else json.dumps(event, ensure_ascii=False) + "\n"
        if len(batch) < BATCH:
            return
        cursor = batch[-1]["cursor"]


def _csv_row(event: dict[str, Any]) -> list[Any]:
    flat = {
        **event,
        "actor_name": event["actor"]["name"],
        "actor_role": event["actor"].get("role"),
        "data": json.dumps(event["data"], ensure_ascii=False),
    }
    return [flat.get(column) for column in CSV_COLUMNS]


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([_cell(value) for value in values])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
