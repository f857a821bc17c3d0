"""`Idempotency-Key` on mutating calls: the same key and body get the first response, applied once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from litestar import Request, Response

from api.errors import HANDLERS, PROBLEM
from service.idempotency import MAX_KEY_LENGTH, Claim, IdempotencyKeys, KeyReused, fingerprint
from states.errors import InvalidData

Work = Callable[[Claim | None], Awaitable[Response]]


async def once(request: Request, key: str | None, body: msgspec.Struct, keys: IdempotencyKeys, new_case_id: str, work: Work) -> Response:
    if key is None:
        return await work(None)
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise InvalidData("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    request_hash = fingerprint(request.method, request.url.path, msgspec.json.encode(body))
    try:
        claim = await keys.claim(request.user.name, key, request_hash, new_case_id)
    except KeyReused:
        raise InvalidData("Idempotency-Key", "was used before with a different request") from None
    if claim.status is not None:
        return _replay(claim, claim.status)
    try:
        response = await work(claim)
    except Exception as error:
        response = _problem(request, error)
        if (response.status_code or 200) >= 500:
            raise  # not an answer to keep: the client may retry and succeed
    status = response.status_code or 200
    content = msgspec.json.encode(response.content)
    etag = response.headers.get("ETag")
    await keys.complete(claim, status, content, etag)
    return Response(content, status_code=status, media_type=response.media_type, headers=dict(response.headers))


def _replay(claim: Claim, status: int) -> Response:
    headers = {"X-Request-ID": claim.update_id, "Idempotent-Replayed": "true"}
    if claim.etag:
        headers["ETag"] = claim.etag
    media_type = PROBLEM if status >= 400 else "application/json"
    return Response(claim.response, status_code=status, media_type=media_type, headers=headers)


def _problem(request: Request, error: Exception) -> Response:
    for cls in type(error).__mro__:
        if cls in HANDLERS:
            return HANDLERS[cls](request, error)
    raise error
