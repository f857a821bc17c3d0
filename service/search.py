"""Free-text search over cases (`q`): what a case is found by, and how each database finds it.

Each case has one row in `case_search`: its title, description, customer name and id, order
reference and id, in lower case, joined by a separator that no field and no query keeps, so a match
never spans two fields. SQLite finds text of three characters or more through an FTS5 trigram index
over that row (`SEARCH_INDEX`, kept in step with it by triggers: migration 0004); PostgreSQL through
a pg_trgm GIN index, which serves LIKE '%q%'. A trigram index cannot find one or two characters:
those read the rows (instr, strpos), slower but as correct. Both sides are lowered here, in Python,
so the databases compare bytes (PostgreSQL's ILIKE lowers every row of Chinese text it reads: ten
times slower). The user's text is never query syntax: an FTS5 phrase, an escaped LIKE pattern, or
plain text to strpos.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, column, exists, func, literal_column, select, table
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from service.tables import SEARCH_INDEX, case_search, cases

# ASCII's unit separator: between fields, and taken out of every field and query.
SEPARATOR = "\x1f"
TRIGRAM = 3
FEW = 500  # at most this many matches, a page is made by looking each up: see `matches`
MAX_QUERY = 200
LIKE_ESCAPE = "\\"

fts = table(SEARCH_INDEX, column("rowid"))


def search_body(case: Mapping[str, Any]) -> str:
    """What `q` looks in, from a case as the projection stores it (its snapshot)."""
    customer = case.get("customer") or {}
    data = case.get("data") or {}
    fields = (case.get("title"), case.get("description"), customer.get("name"), customer.get("id"), data.get("order_ref"), case.get("id"))
    return SEPARATOR.join(field.replace(SEPARATOR, " ").lower() for field in fields if isinstance(field, str) and field)


def search_text(q: str | None) -> str | None:
    """The text to look for, or None when there is nothing to look for (a blank `q`)."""
    text = (q or "").replace(SEPARATOR, " ").strip().lower()
    return text or None


async def matches(connection: AsyncConnection, text: str, paging: bool) -> ColumnElement[bool]:
    """A condition on `cases`: the case's search row contains `text` (from `search_text`), as a
    substring. `paging`: for a page of a list, rather than a count of every match."""
    found = _found(text, connection.dialect.name)
    if paging:
        # Neither database can tell from the query how many cases match. A rare word's few matches
        # are best looked up by id and sorted; a common word's thousands are not: the list's own
        # index, walked newest first, fills a page with them soon. So ask first.
        few = (await connection.execute(found.limit(FEW + 1))).scalars().all()
        if len(few) <= FEW:
            return cases.c.id.in_(few)
    if connection.dialect.name == "sqlite" and len(text) >= TRIGRAM:
        # Unary + keeps SQLite from looking every match up by id anyway.
        return (UnaryExpression(cases.c.id, operator=custom_op("+")) if paging else cases.c.id).in_(found)
    return exists(found.where(case_search.c.case_id == cases.c.id))


def _found(text: str, dialect: str) -> Select:
    """The ids of the cases whose search row contains `text`."""
    if len(text) < TRIGRAM:
        position = func.instr(case_search.c.body, text) if dialect == "sqlite" else func.strpos(case_search.c.body, text)
        return select(case_search.c.case_id).where(position > 0)
    if dialect == "postgresql":
        return select(case_search.c.case_id).where(case_search.c.body.like("%" + escape_like(text) + "%", escape=LIKE_ESCAPE))
    # A quoted FTS5 string is a phrase: nothing inside it is an operator; its quotes are doubled.
    phrase = '"' + text.replace('"', '""') + '"'
    return select(case_search.c.case_id).join(fts, fts.c.rowid == case_search.c.id).where(literal_column(SEARCH_INDEX).op("MATCH")(phrase))


def escape_like(text: str) -> str:
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
