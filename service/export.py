"""Exports of events and of the case list, read in batches so memory stays flat however many rows.

Two readers: a person opens CSV or XLSX in a spreadsheet, so there the header and the terms are
labels in their language and times are in the department's time zone (a `Presentation`); a script
reads JSON Lines, the exact wire values. Without a presentation (the command line), CSV keeps the
wire values too.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.cases import Cases
from service.read_model import CaseFilter, EventFilter, ReadModel
from states.case import parse_time
from states.vocabulary import SystemAction

FORMATS = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BATCH = 1000
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); such a cell
# gets a leading apostrophe, which shows it as text. JSON Lines is the exact export.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Excel reads a CSV file as the system's code page (GBK on Chinese Windows) unless it starts with one.
BOM = "\ufeff"
SYSTEM_ACTIONS = frozenset(SystemAction)


@dataclass(frozen=True)
class Presentation:
    """How a person reads an export: `label(context, term)` in their language, times in `zone`."""

    label: Callable[[str, str], str]
    zone: ZoneInfo


@dataclass(frozen=True)
class Column:
    """One column: `name` is its term in the catalogs' `column` context; `read` takes it from a record.
    A term column names the catalog context of its values (or picks it by value); a flag shows yes or no."""

    name: str
    read: Callable[[dict[str, Any]], Any]
    terms: str | Callable[[str], str] | None = None
    time: bool = False
    flag: bool = False

    def cell(self, record: dict[str, Any], shown: Presentation | None) -> Any:
        value = self.read(record)
        if shown is None or value is None:
            return value
        if self.time:
            return parse_time(value).astimezone(shown.zone)
        if self.flag:
            return shown.label("answer", "yes" if value else "no")
        if self.terms is not None:
            return shown.label(self.terms if isinstance(self.terms, str) else self.terms(value), value)
        return value


@dataclass(frozen=True)
class Table:
    """What an export holds: its name (in the catalogs' `export` context, and in the file name) and columns."""

    name: str
    columns: tuple[Column, ...]

    def header(self, shown: Presentation | None) -> list[str]:
        return [shown.label("column", column.name) if shown else column.name for column in self.columns]

    def rows(self, records: Iterable[dict[str, Any]], shown: Presentation | None) -> list[list[Any]]:
        return [[column.cell(record, shown) for column in self.columns] for record in records]

    def title(self, shown: Presentation) -> str:
        return shown.label("export", self.name)


def _field(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda record: record.get(name)


def _customer(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda record: (record.get("customer") or {}).get(name)


def _json(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda record: json.dumps(record[name], ensure_ascii=False)


def _action_terms(action: str) -> str:
    return "system_action" if action in SYSTEM_ACTIONS else "action"


EVENTS = Table(
    "events",
    (
        Column("case_id", _field("case_id")),
        Column("seq", _field("seq")),
        Column("kind", _field("kind"), terms="kind"),
        Column("action", _field("action"), terms=_action_terms),
        Column("from_state", _field("from_state"), terms="phase"),
        Column("to_state", _field("to_state"), terms="phase"),
        Column("actor_name", lambda event: event["actor"]["name"]),
        Column("actor_role", lambda event: event["actor"].get("role"), terms="role"),
        Column("at", _field("at"), time=True),
        Column("note", _field("note")),
        Column("data", _json("data")),
        Column("request_id", _field("request_id")),
        Column("prev_hash", _field("prev_hash")),
        Column("hash", _field("hash")),
        Column("cursor", _field("cursor")),
    ),
)
CASES = Table(
    "cases",
    (
        Column("case_id", _field("id")),
        Column("kind", _field("kind"), terms="kind"),
        Column("title", _field("title")),
        Column("description", _field("description")),
        Column("priority", _field("priority"), terms="priority"),
        Column("state", _field("state"), terms="phase"),
        Column("owner", _field("owner")),
        Column("customer_id", _customer("id")),
        Column("customer_name", _customer("name")),
        Column("vip", _customer("vip"), flag=True),
        Column("channel", _field("channel")),
        Column("created_by", _field("created_by")),
        Column("created_at", _field("created_at"), time=True),
        Column("updated_at", _field("updated_at"), time=True),
        Column("closed_at", _field("closed_at"), time=True),
        Column("version", _field("version")),
        Column("sla_breached", _field("sla_breached"), flag=True),
        Column("data", _json("data")),
    ),
)


async def event_batches(read_model: ReadModel, where: EventFilter, cursor: str | None) -> AsyncIterator[list[dict[str, Any]]]:
    """Events oldest first, each carrying the cursor to resume after it."""
    while True:
        batch = await read_model.events_after(where, cursor, BATCH)
        if batch:
            yield batch
        if len(batch) < BATCH:
            return
        cursor = batch[-1]["cursor"]


async def case_batches(cases: Cases, where: CaseFilter, sort: str) -> AsyncIterator[list[dict[str, Any]]]:
    """The list's cases in its order, page by page through its cursor."""
    cursor = None
    while True:
        page = await cases.find(where, BATCH, cursor, sort)
        if page.items:
            yield page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def each_shown(
    batches: AsyncIterator[list[dict[str, Any]]], shown: Callable[[dict[str, Any]], dict[str, Any]]
) -> AsyncIterator[list[dict[str, Any]]]:
    """The batches with each record as the reader may see it (service/visibility.py)."""
    async for batch in batches:
        yield [shown(record) for record in batch]


async def json_lines(batches: AsyncIterator[list[dict[str, Any]]], shape: Callable[[dict[str, Any]], Any] = dict) -> AsyncIterator[str]:
    async for batch in batches:
        yield json_batch(batch, shape)


def json_batch(records: list[dict[str, Any]], shape: Callable[[dict[str, Any]], Any] = dict) -> str:
    return "".join(json.dumps(shape(record), ensure_ascii=False) + "\n" for record in records)


async def csv_text(table: Table, batches: AsyncIterator[list[dict[str, Any]]], shown: Presentation | None) -> AsyncIterator[str]:
    """The header, then a chunk of lines per batch."""
    yield csv_header(table, shown)
    async for batch in batches:
        yield csv_batch(table, batch, shown)


def csv_header(table: Table, shown: Presentation | None) -> str:
    """For a person, the file starts with a BOM."""
    return (BOM if shown else "") + _csv_lines([table.header(shown)])


def csv_batch(table: Table, records: list[dict[str, Any]], shown: Presentation | None) -> str:
    return _csv_lines(table.rows(records, shown))


def _csv_lines(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([_csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
