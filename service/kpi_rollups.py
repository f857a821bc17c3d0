"""Daily and monthly KPI roll-ups, written by the projection in the case row's transaction.

A case contributes its KPI facts (sums, and a bucket of each quantile sketch) to one cell per
cuboid and grain: the day and the calendar month it was reported in, in the department's zone. The
projection subtracts the contribution stored for the case and adds the new one (state-based, so a
write that overwrites an earlier one leaves the roll-ups as if only the last one had happened).
Same-case writes are serialized by the case row's upsert (it locks the row until commit); cells
shared by other cases are locked in one order (PostgreSQL) or by SQLite's single writer.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from operator import add, sub
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, RowMapping, bindparam, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from service.tables import cases, kpi_rollup_cases, kpi_rollup_zone, kpi_rollups
from states import quantile_sketch
from states.case import as_utc
from states.machine import DISMISSING_ACTIONS

DIMENSIONS = ("kind", "category", "priority", "owner", "team")
# The combinations kept, smallest first: a query is answered from the first that holds every
# dimension it filters or groups by (and kind and category for the volumes); others read the cases.
CUBOIDS: tuple[tuple[str, ...], ...] = (
    (),
    ("kind", "category"),
    ("priority",),
    ("team",),
    ("owner",),
    ("kind", "category", "priority"),
    ("kind", "category", "team"),
    ("kind", "category", "owner"),
)
GRAINS = ("day", "month")
ALL = "*"  # a dimension the cell's cuboid does not split by
NONE = ""  # a case without a value (no category, owner or team)
SUMS = ("volume", "first_responses", "first_response_us", "first_response_decided", "first_response_on_time", "responses", "response_us",
        "handled", "handling_us", "dismissed", "resolved", "satisfaction_responses", "satisfied", "scores", "score_total", "reopened",
        "ever_closed", "breached")  # fmt: skip
MEASURES = {"first_response_seconds": "f", "handling_seconds": "h"}
FACT_COLUMNS = ("id", "created_at", *DIMENSIONS, "first_response_seconds", "first_response_late", "handling_seconds", "closed_by", "closed_at",
                "reopen_count", "satisfied", "score", "ever_breached", "responses", "response_seconds")  # fmt: skip
DEFAULT_ZONE = "UTC"
EMPTY: dict[str, Any] = {"s": [0] * len(SUMS), **{measure: [] for measure in MEASURES.values()}}


@dataclass
class Tally:
    """Sums and sketches added up; `exact` keeps the values themselves where they are known (cases read
    directly), so a figure made of those alone stays exact.

    In figures (a case's, a cell's) each sketch is a flat list of pairs, a bucket's index then its count,
    for the buckets that count something (`[]`: none): a day's cell holds a few values spread over
    hundreds of buckets, so pairs decode and add faster than every bucket in between would."""

    sums: list[int] = field(default_factory=lambda: [0] * len(SUMS))
    sketches: dict[str, list[int]] = field(default_factory=lambda: {measure: [0] * quantile_sketch.BUCKETS for measure in MEASURES.values()})
    exact: dict[str, list[float]] = field(default_factory=lambda: {measure: [] for measure in MEASURES.values()})

    def add(self, figures: Mapping[str, Any], sign: int = 1) -> None:
        combine = add if sign == 1 else sub
        self.sums = list(map(combine, self.sums, figures["s"]))
        for measure, counts in self.sketches.items():
            pairs = iter(figures[measure])
            for index, count in zip(pairs, pairs):
                counts[index] += sign * count

    def add_exact(self, facts: Mapping[str, Any] | RowMapping) -> None:
        self.add(_figures(facts))
        for column, measure in MEASURES.items():
            if facts[column] is not None:
                self.exact[measure].append(float(facts[column]))


def _pairs(counts: Iterable[tuple[int, int]]) -> list[int]:
    """(bucket, count)s given in bucket order, flattened; the buckets that count nothing left out."""
    return [number for index, count in counts if count for number in (index, count)]


def _figures(facts: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    """One case's sums and sketch buckets (service/kpis.py counts the same over the cases)."""
    first_response, handling, late = facts["first_response_seconds"], facts["handling_seconds"], facts["first_response_late"]
    closed_by, closed, reopens, score = facts["closed_by"], facts["closed_at"] is not None, facts["reopen_count"], facts["score"]
    sums = {
        "volume": 1,
        "first_responses": first_response is not None,
        "first_response_us": _micro(first_response),
        "first_response_decided": first_response is not None or late is True,
        "first_response_on_time": first_response is not None and late is False,
        "responses": facts["responses"] or 0,
        "response_us": _micro(facts["response_seconds"]),
        "handled": handling is not None,
        "handling_us": _micro(handling),
        "dismissed": closed_by in DISMISSING_ACTIONS,
        "resolved": closed and closed_by is not None and closed_by not in DISMISSING_ACTIONS,
        "satisfaction_responses": facts["satisfied"] is not None,
        "satisfied": facts["satisfied"] is True,
        "scores": score is not None,
        "score_total": score or 0,
        "reopened": reopens > 0,
        "ever_closed": closed or reopens > 0,
        "breached": facts["ever_breached"] is True,
    }
    sketches = {measure: [] if facts[column] is None else [quantile_sketch.bucket(facts[column]), 1] for column, measure in MEASURES.items()}
    return {"s": [int(sums[name]) for name in SUMS], **sketches}


def _micro(seconds: float | None) -> int:
    # Whole microseconds: sums that are added and subtracted for years stay exact.
    return 0 if seconds is None else round(seconds * 1_000_000)


def contribution(facts: Mapping[str, Any] | RowMapping, zone: ZoneInfo) -> dict[str, Any] | None:
    """What one case row adds to the roll-ups; None for a row without KPI facts (before 0002)."""
    if facts["reopen_count"] is None:
        return None
    day = as_utc(facts["created_at"]).astimezone(zone).date()
    return {"day": day.isoformat(), "dims": [_stored(facts[name]) for name in DIMENSIONS], **_figures(facts)}


def _stored(value: str | None) -> str:
    return NONE if value is None else value


def cells(contribution: Mapping[str, Any]) -> Iterable[tuple[Any, ...]]:
    """The keys (cuboid, grain, period, kind, category, priority, owner, team) of the cells a contribution is in."""
    day = date.fromisoformat(contribution["day"])
    periods = {"day": day, "month": day.replace(day=1)}
    for cuboid in CUBOIDS:
        values = tuple(value if name in cuboid else ALL for name, value in zip(DIMENSIONS, contribution["dims"], strict=True))
        for grain in GRAINS:
            yield (",".join(cuboid), grain, periods[grain], *values)


KEY = [kpi_rollups.c[name] for name in ("cuboid", "grain", "period", *DIMENSIONS)]
KEY_NAMES = [column.name for column in KEY]


class KpiRollups:
    """The write side: the projection's one call, and the rebuild."""

    def __init__(self, dialect: str):
        self._postgres = dialect == "postgresql"
        insert = postgresql.insert if self._postgres else sqlite.insert
        # PostgreSQL: cells created if missing, and an existing one "updated" to itself, which locks it,
        # in the order the cells are given; then read, and written back with the deltas added.
        postgres_cell = postgresql.insert(kpi_rollups)
        self._open_cells = postgres_cell.on_conflict_do_update(index_elements=KEY, set_={"figures": kpi_rollups.c.figures})
        upsert = insert(kpi_rollup_cases)
        self._put_contribution = upsert.on_conflict_do_update(
            index_elements=[kpi_rollup_cases.c.case_id], set_={"contribution": upsert.excluded.contribution}
        )
        self._set_figures = (
            update(kpi_rollups).where(*(column == bindparam(f"k_{column.name}") for column in KEY)).values(figures=bindparam("b_figures"))
        )
        # SQLite (one writer holds every cell): each cell created or added to in one statement, the sum
        # made in SQLite by `add_figures_sql` (read_model.py registers it on every connection).
        sqlite_cell = sqlite.insert(kpi_rollups)
        self._add_figures = sqlite_cell.on_conflict_do_update(
            index_elements=KEY, set_={"figures": getattr(func, ADD_FIGURES)(kpi_rollups.c.figures, sqlite_cell.excluded.figures)}
        )
        self._stored_contribution = select(kpi_rollup_cases.c.contribution).where(kpi_rollup_cases.c.case_id == bindparam("case_id"))
        self._zone: ZoneInfo | None = None

    def apply(self, connection: Connection, row: Mapping[str, Any]) -> None:
        """Bring the roll-ups from the case's stored contribution to the one of `row` (the case row just written)."""
        zone = self._zone or self._stored_zone(connection)
        new = contribution(row, zone)
        stored = connection.execute(self._stored_contribution, {"case_id": row["id"]}).scalar()
        old = None if stored is None else json.loads(stored)
        if _normal(old) == _normal(new):
            return
        # Every cell of a part gets the same delta: the old part taken away, the new added, or both.
        taken, put = (set(cells(part)) if part is not None else set() for part in (old, new))
        minus = added(EMPTY, old, -1) if old is not None else EMPTY
        plus = added(EMPTY, new) if new is not None else EMPTY
        both = added(minus, plus)
        deltas = ((key, both if key in taken and key in put else minus if key in taken else plus) for key in sorted(taken | put))
        changed = [(key, delta) for key, delta in deltas if delta != EMPTY]
        if changed:
            self._add_to_cells(connection, changed)
        if new is None:
            connection.execute(delete(kpi_rollup_cases).where(kpi_rollup_cases.c.case_id == row["id"]))
        else:
            connection.execute(self._put_contribution, {"case_id": row["id"], "contribution": json.dumps(new)})

    def _add_to_cells(self, connection: Connection, changed: list[tuple[tuple, dict[str, Any]]]) -> None:
        if not self._postgres:
            # One statement where PostgreSQL takes the three below, and no figures read into Python.
            distinct = {id(delta): delta for _, delta in changed}  # three deltas at most, shared by the cells
            encoded = {key: json.dumps(delta) for key, delta in distinct.items()}
            connection.execute(
                self._add_figures, [{**dict(zip(KEY_NAMES, key, strict=True)), "figures": encoded[id(delta)]} for key, delta in changed]
            )
            return
        # Cells are created empty or locked, all in key order (so two writers never wait on each other in a circle).
        empty = json.dumps(EMPTY)
        connection.execute(self._open_cells, [{**dict(zip(KEY_NAMES, key, strict=True)), "figures": empty} for key, _ in changed])
        query = select(*KEY, kpi_rollups.c.figures).where(tuple_(*KEY).in_([key for key, _ in changed]))
        current = {tuple(row[:-1]): row[-1] for row in connection.execute(query).all()}
        updates = []
        for key, delta in changed:
            figures = figures_with(current[key], delta)
            updates.append({**{f"k_{name}": value for name, value in zip(KEY_NAMES, key, strict=True)}, "b_figures": figures})
        connection.execute(self._set_figures, updates)

    def _stored_zone(self, connection: Connection) -> ZoneInfo:
        stored = stored_zone(connection)
        self._zone = ZoneInfo(stored or DEFAULT_ZONE)
        return self._zone


def added(figures: Mapping[str, Any], other: Mapping[str, Any], sign: int = 1) -> dict[str, Any]:
    """Figures with another's added (sign 1) or taken away (-1), pairs in order and none that count
    nothing: over a cell's own few hundred pairs at most, where a Tally goes over every bucket (a
    third of the worker's CPU per new case, for the 16 cells a projection changes: docs/benchmarks.md)."""
    combine = add if sign == 1 else sub
    sketches = {}
    for measure in MEASURES.values():
        if not other[measure]:
            # Nothing to add to this sketch (a new case has measured nothing yet): its pairs stay as they are.
            sketches[measure] = list(figures[measure])
            continue
        counts = dict(zip(figures[measure][::2], figures[measure][1::2]))
        for index, count in zip(other[measure][::2], other[measure][1::2]):
            counts[index] = combine(counts.get(index, 0), count)
        sketches[measure] = _pairs(sorted(counts.items()))
    return {"s": list(map(combine, figures["s"], other["s"])), **sketches}


ADD_FIGURES = "casework_add_figures"


def add_figures_sql(stored: str, delta: str) -> str:
    """SQLite's `casework_add_figures(figures, delta)`: a cell's stored figures with a delta added."""
    return figures_with(stored, _decoded(delta))


@functools.lru_cache(maxsize=16)
def _decoded(delta: str) -> dict[str, Any]:
    # One write adds one, two or three deltas to its sixteen cells: each decoded once (never changed by `added`).
    return json.loads(delta)


SUMS_FIRST = '{"s": '


def figures_with(stored: str, delta: Mapping[str, Any]) -> str:
    """A cell's stored figures (JSON text) with a delta added, as JSON text. A delta that counts nothing
    in the sketches (most changes: a response, a satisfaction score, a closing) changes the sums alone,
    so only they are read and written again: a month's cell holds hundreds of buckets, whose decoding
    and encoding cost ten times the sums' (bench: 180 µs a cell of 300 buckets each)."""
    if not any(delta[measure] for measure in MEASURES.values()) and stored.startswith(SUMS_FIRST):
        end = stored.index("]", len(SUMS_FIRST)) + 1
        sums = list(map(add, json.loads(stored[len(SUMS_FIRST) : end]), delta["s"]))
        return SUMS_FIRST + json.dumps(sums) + stored[end:]
    return json.dumps(added(json.loads(stored), delta))


def _normal(part: Mapping[str, Any] | None) -> Any:
    # JSON turns the sketches' integer keys into strings: compare what was stored with what is new alike.
    return None if part is None else json.loads(json.dumps(part))


def stored_zone(connection: Connection) -> str | None:
    return connection.execute(select(kpi_rollup_zone.c.zone)).scalar()


def follow_zone(connection: Connection, zone_name: str) -> None:
    """Cut the roll-ups again when the department's zone is no longer the one they were cut in."""
    if stored_zone(connection) != zone_name:
        rebuild(connection, zone_name)


def rebuild(connection: Connection, zone_name: str, batch: int = 20_000) -> int:
    """Every roll-up made again from the case rows, cut in `zone_name`; the number of cases it holds.

    For the migration that adds them, a change of the department's zone, and the bench's seeding."""
    zone = ZoneInfo(zone_name)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("LOCK TABLE cases IN SHARE MODE")  # no projection in between
    connection.execute(delete(kpi_rollups))
    connection.execute(delete(kpi_rollup_cases))
    connection.execute(delete(kpi_rollup_zone))
    connection.execute(kpi_rollup_zone.insert(), {"zone": zone_name})
    totals: dict[tuple, tuple[list[int], dict[int, int], dict[int, int]]] = {}
    held, after = 0, ""
    query = select(*(cases.c[name] for name in FACT_COLUMNS)).where(cases.c.reopen_count.is_not(None)).order_by(cases.c.id).limit(batch)
    while facts_batch := connection.execute(query.where(cases.c.id > after)).mappings().all():
        parts = []
        for facts in facts_batch:
            part = contribution(facts, zone)
            assert part is not None
            sums, first_response, handling = part["s"], part["f"], part["h"]
            for key in cells(part):
                cell = totals.get(key)
                if cell is None:
                    cell = totals[key] = ([0] * len(SUMS), {}, {})
                cell[0][:] = map(add, cell[0], sums)
                for counts, pair in ((cell[1], first_response), (cell[2], handling)):
                    if pair:  # one case: [bucket, 1]
                        counts[pair[0]] = counts.get(pair[0], 0) + 1
            parts.append({"case_id": facts["id"], "contribution": json.dumps(part)})
        connection.execute(kpi_rollup_cases.insert(), parts)
        held += len(parts)
        after = facts_batch[-1]["id"]
    rows = [
        {
            **dict(zip(KEY_NAMES, key, strict=True)),
            "figures": json.dumps({"s": cell[0], "f": _pairs(sorted(cell[1].items())), "h": _pairs(sorted(cell[2].items()))}),
        }
        for key, cell in totals.items()
    ]
    for start in range(0, len(rows), batch):
        connection.execute(kpi_rollups.insert(), rows[start : start + batch])
    return held
