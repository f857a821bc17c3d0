"""The codec endpoint for the Temporal web UI and CLI (Temporal's codec server protocol): POST
/codec/decode and /codec/encode take and give `{"payloads": [...]}` (Payloads as protobuf JSON, so
metadata values and data in base64). Decoding: auditors, supervisors and managers (api/audit.py's
guard, the same people who read Temporal's history); encoding — ciphertext under the production key —
supervisors and managers only, auditors change nothing. CORS for the UI's origins."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from litestar import Controller, Request, Response, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Receive, Scope, Send
from temporalio.api.common.v1 import Payloads

from api.audit import may_audit
from api.auth import CODEC_PREFIX
from api.errors import problems
from service.payload_codec import SETTING, EncryptionCodec, UnknownPayloadKey
from states.vocabulary import Role

ENCODING_ROLES = (Role.SUPERVISOR, Role.MANAGER)
# What the Temporal UI sends with its requests (X-Namespace always; Authorization when configured).
ALLOWED_HEADERS = "content-type, x-namespace, authorization"
PREFLIGHT_MAX_AGE = "600"


def is_codec(path: str) -> bool:
    return path.startswith(CODEC_PREFIX)


def may_encode(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user.role not in ENCODING_ROLES:
        raise PermissionDeniedException("only supervisors and managers may encode payloads under the production key")


class CodecController(Controller):
    path = "/codec"
    tags = ["audit"]
    guards = [may_audit]

    @post(
        "/decode", summary="Decrypt Temporal payloads for the web UI (codec server protocol)", status_code=200, responses=problems(400, 401, 403, 404)
    )
    async def decode(self, request: Request) -> Response[bytes]:
        codec = _codec(request)
        payloads = await _payloads(request)
        try:
            decoded = await codec.decode(payloads.payloads)
        except UnknownPayloadKey as error:
            raise ClientException(str(error)) from None
        return _answer(decoded)

    @post(
        "/encode",
        summary="Encrypt payloads the web UI sends (codec server protocol): supervisors and managers",
        status_code=200,
        guards=[may_encode],
        responses=problems(400, 401, 403, 404),
    )
    async def encode(self, request: Request) -> Response[bytes]:
        codec = _codec(request)
        return _answer(await codec.encode((await _payloads(request)).payloads))


def _codec(request: Request) -> EncryptionCodec:
    codec = request.app.state.codec
    if codec is None:
        raise NotFoundException(f"payloads are not encrypted here: {SETTING} is not set")
    return codec


async def _payloads(request: Request) -> Payloads:
    try:
        return json_format.Parse(await request.body(), Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError) as error:
        raise ClientException(f'send {{"payloads": [{{"metadata": {{...}}, "data": "..."}}]}} (protobuf JSON, base64 bytes): {error}') from None


def _answer(payloads: Any) -> Response[bytes]:
    body = json.dumps({"payloads": [json_format.MessageToDict(payload) for payload in payloads]}).encode()
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


class CodecCors:
    """CORS for /codec/ only, for CASEWORK_CODEC_CORS_ORIGINS: the UI sends its cookies or token
    (credentials), so only the listed origins are answered, never `*`. Wraps the whole app (api/app.py),
    so its answers carry the headers too when they are refusals (401, 403), and the API's own CORS
    (CASEWORK_CORS_ORIGINS) never answers for /codec/."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]):
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_codec(scope["path"]):
            await self.app(scope, receive, send)
            return
        origin = Headers.from_scope(scope).get("origin")
        allowed = origin is not None and origin in self.origins
        if scope.get("method") == "OPTIONS":
            await _preflight(send, origin if allowed else None)
            return
        if not allowed:
            await self.app(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers["Access-Control-Allow-Origin"] = str(origin)
                headers["Access-Control-Allow-Credentials"] = "true"
                headers["Vary"] = "Origin"
            await send(message)

        await self.app(scope, receive, with_cors)


async def _preflight(send: Send, origin: str | None) -> None:
    """204 with the allowances for a listed origin; 403 without any for another (the browser refuses)."""
    headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
    if origin is not None:
        headers += [
            (b"access-control-allow-origin", origin.encode()),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-allow-methods", b"POST, OPTIONS"),
            (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
        ]
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 204 if origin is not None else 403, "headers": headers}
    body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
    await send(start)
    await send(body)
