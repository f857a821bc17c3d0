"""What text the stores can hold: the one check every stored string passes, at the edge and in the workflow.

PostgreSQL's `text` and `jsonb` refuse U+0000 (NUL): "unsupported Unicode escape sequence" for
jsonb, "invalid byte sequence" for text. A surrogate code point (U+D800 to U+DFFF) on its own is not
a character at all: it cannot be encoded as UTF-8, so asyncpg refuses to send it to PostgreSQL.
JSON decoding already refuses a lone surrogate, but a caller of the workflow need not come through
JSON. Every other code point (the other C0 controls, non-characters, emoji, bidirectional marks) is
stored and read back unchanged by both stores (tests/api/test_unicode.py holds them to that).
"""

from __future__ import annotations

import re
from typing import Any

from states.errors import InvalidData
from states.vocabulary import RefusalCode

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def describe_unstorable(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    code = ord(found.group())
    what = "U+0000 (NUL)" if code == 0 else f"U+{code:04X} (a lone surrogate)"
    return f"contains {what} at position {found.start()}, which the database cannot store"


def first_unstorable(value: Any, field: str) -> tuple[str, str] | None:
    """The first string in `value` (its keys included, at any depth) that cannot be stored: (field, why)."""
    if isinstance(value, str):
        reason = describe_unstorable(value)
        return None if reason is None else (field, reason)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (reason := describe_unstorable(key)):
                return field or "body", f"a key {reason}"
            if found := first_unstorable(item, f"{field}.{key}" if field else str(key)):
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if found := first_unstorable(item, f"{field}[{index}]"):
                return found
    return None


def check_storable(value: Any, field: str = "") -> None:
    """Refuse `value` if any string in it cannot be stored, naming the field (a dotted path)."""
    found = first_unstorable(value, field)
    if found is not None:
        raise InvalidData(*found, RefusalCode.INVALID_TEXT)
