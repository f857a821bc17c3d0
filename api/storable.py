"""Refuse, before any handler runs, a request carrying text the stores cannot hold (states/text.py).

One check for every operation: path and query parameters, the Idempotency-Key, and every string of
a JSON body, keys included, at any depth. A body that is not JSON is left to the handler to refuse.
"""

from __future__ import annotations

import msgspec
from litestar import Request

from states.text import check_storable

IDEMPOTENCY_KEY = "Idempotency-Key"


async def refuse_unstorable_text(request: Request) -> None:
    check_storable(dict(request.path_params))
    for name, value in request.query_params.multi_items():
        check_storable({name: value})
    if (key := request.headers.get(IDEMPOTENCY_KEY)) is not None:
        check_storable(key, IDEMPOTENCY_KEY)
    if request.method in ("POST", "PUT", "PATCH") and "json" in (request.headers.get("content-type") or ""):
        try:
            body = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            return
        check_storable(body)
