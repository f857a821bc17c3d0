"""Free-text search over cases (`q`): what a case is found by, and how each database finds it.

Each case has one row in `case_search`: its title, description, customer name and id, order
reference and id, joined by a separator that no field and no query keeps, so a match never spans
two fields. SQLite finds text of three characters or more through an FTS5 trigram index over that
row (`case_search_fts`, kept in step with it by triggers: migration 0004); PostgreSQL through a
pg_trgm GIN index, which serves ILIKE '%q%'. A trigram index cannot find one or two characters:
those read the rows with LIKE, slower but as correct. The user's text is never query syntax.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, column, exists, literal_column, select, table

from service.tables import SEARCH_INDEX, case_search, cases

# ASCII's unit separator: between fields, and taken out of every field and query.
SEPARATOR = "\x1f"
TRIGRAM = 3
MAX_QUERY = 200
LIKE_ESCAPE = "\\"

fts = table(SEARCH_INDEX, column("rowid"))


def search_body(case: Mapping[str, Any]) -> str:
    """What `q` looks in, from a case as the projection stores it (its snapshot)."""
    customer = case.get("customer") or {}
    data = case.get("data") or {}
    fields = (case.get("title"), case.get("description"), customer.get("name"), customer.get("id"), data.get("order_ref"), case.get("id"))
    return SEPARATOR.join(field.replace(SEPARATOR, " ") for field in fields if isinstance(field, str) and field)


def search_text(q: str | None) -> str | None:
    """The text to look for, or None when there is nothing to look for (a blank `q`)."""
    text = (q or "").replace(SEPARATOR, " ").strip()
    return text or None


def matches(text: str, dialect: str) -> ColumnElement[bool]:
    """A condition on `cases`: the case's search row contains `text`, as a substring."""
    if dialect == "sqlite" and len(text) >= TRIGRAM:
        # A quoted FTS5 string is a phrase: nothing inside it is an operator; its quotes are doubled.
        phrase = '"' + text.replace('"', '""') + '"'
        found = select(case_search.c.case_id).join(fts, fts.c.rowid == case_search.c.id).where(literal_column(SEARCH_INDEX).op("MATCH")(phrase))
        return cases.c.id.in_(found)
    pattern = "%" + escape_like(text) + "%"
    body = case_search.c.body
    contains = body.ilike(pattern, escape=LIKE_ESCAPE) if dialect == "postgresql" else body.like(pattern, escape=LIKE_ESCAPE)
    return exists().where(case_search.c.case_id == cases.c.id, contains)


def escape_like(text: str) -> str:
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
