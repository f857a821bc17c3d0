"""Every error as application/problem+json (RFC 9457); never a stack trace."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.types import ExceptionHandlersMap
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from temporalio.service import RPCError

from api.schemas import Problem
from service.cases import CaseNotFound, CaseRefused, Unavailable
from service.payload_codec import UnknownPayloadKey
from service.read_model import BadCursor
from states.errors import ActionForbidden, CaseRuleError, InvalidData
from states.vocabulary import RefusalCode

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"

# How each refusal by the case rules reads over HTTP.
MISSING_FIELD = re.compile(r"missing required field `([^`]+)`(?: - at `\$\.?([^`]*)`)?")
WRONG_TYPE = re.compile(r"Expected `[^`]+`, got `")
RULE_STATUS = {
    "ActionNotAllowed": (409, "action not allowed", RefusalCode.NOT_ALLOWED_IN_PHASE),
    "StaleVersion": (409, "stale version", RefusalCode.STALE_VERSION),
    "AlreadyReported": (409, "already reported", RefusalCode.ALREADY_REPORTED),
    "InvalidData": (422, "invalid data", RefusalCode.INVALID_VALUE),
    "UnknownAction": (422, "unknown action", RefusalCode.UNKNOWN_ACTION),
    "ActionForbidden": (403, "forbidden", RefusalCode.FORBIDDEN_ROLE),
    "ProjectionRefused": (422, "not storable", RefusalCode.NOT_STORABLE),
}
# Refusals by HTTP status alone: the title, and the code.
HTTP_REFUSALS = {
    400: ("bad request", RefusalCode.MALFORMED_REQUEST),
    401: ("unauthorized", RefusalCode.UNAUTHENTICATED),
    403: ("forbidden", RefusalCode.FORBIDDEN_ROLE),
    404: ("not found", RefusalCode.NOT_FOUND),
    405: ("method not allowed", RefusalCode.METHOD_NOT_ALLOWED),
    412: ("precondition failed", RefusalCode.PRECONDITION_FAILED),
    413: ("request too large", RefusalCode.TOO_LARGE),
    415: ("unsupported media type", RefusalCode.UNSUPPORTED_MEDIA_TYPE),
    429: ("too many requests", RefusalCode.RATE_LIMITED),
}
# The handlers' name for the request body (Litestar's).
BODY_PARAMETER = "data"
EXTRA_FIELDS = ("state", "allowed_actions", "current_version", "field", "action", "known_actions", "roles")


# What each refusal means, for the OpenAPI document.
MEANING = {
    400: "malformed request, or a bad cursor",
    401: "no Authorization: Bearer <token>, or an unknown token",
    403: "the caller's role may not do this",
    404: "no such case, or whatever else the path names",
    409: "the phase or a guard forbids the action (`state`, `allowed_actions`), or `expected_version` is stale (`current_version`)",
    412: "If-Match names a version the case is no longer at (`current_version`)",
    413: "request body over the limit",
    422: "invalid data, naming the `field`; or a change the read model refused for good (`not storable`: nothing was changed)",
    429: "rate limit of the caller's token exceeded; see Retry-After",
    503: "Temporal or the read model did not answer; retry after Retry-After",
}
# Every call with a token may be refused for it, rate limited, or meet a dependency that is down.
WITH_TOKEN = (401, 429, 503)


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The refusals of an operation, beyond those of every call with a token, as documented responses."""
    return {
        status: ResponseSpec(data_container=Problem, media_type=PROBLEM, description=MEANING[status], generate_examples=False)
        for status in sorted({*WITH_TOKEN, *statuses})
    }


class PreconditionFailed(Exception):
    """If-Match named a version the case is no longer at."""

    def __init__(self, current_version: int | None):
        super().__init__(f"the case is at version {current_version}")
        self.current_version = current_version


def on_precondition_failed(_: Request, error: PreconditionFailed) -> Response:
    return problem(412, "precondition failed", str(error), code=RefusalCode.PRECONDITION_FAILED, current_version=error.current_version)


def problem(status: int, title: str, detail: str, *, code: str | None = None, **extra: Any) -> Response:
    """A problem+json answer; `code` defaults to what the status alone says."""
    code = code or HTTP_REFUSALS.get(status, ("", RefusalCode.REFUSED if status < 500 else RefusalCode.INTERNAL_ERROR))[1]
    body = {"type": f"https://casework.dev/problems/{title.replace(' ', '-')}", "title": title, "code": code, "status": status, "detail": detail}
    body.update({key: value for key, value in extra.items() if value is not None})
    return Response(body, status_code=status, media_type=PROBLEM)


def on_case_refused(_: Request, error: CaseRefused) -> Response:
    status, title, code = RULE_STATUS.get(error.kind, (409, "refused", RefusalCode.REFUSED))
    extra = {key: error.details.get(key) for key in EXTRA_FIELDS}
    if error.kind == "UnknownAction":
        extra["field"] = "action"
    return problem(status, title, str(error), code=error.details.get("code") or code, **extra)


def on_rule_error(_: Request, error: CaseRuleError) -> Response:
    if isinstance(error, InvalidData):
        return problem(422, "invalid data", str(error), code=error.code, field=error.field)
    if isinstance(error, ActionForbidden):
        return problem(403, "forbidden", str(error), code=error.code, roles=error.roles)
    return problem(409, "refused", str(error), code=error.code)


def on_not_found(_: Request, error: CaseNotFound) -> Response:
    return problem(404, "not found", str(error), code=RefusalCode.UNKNOWN_CASE, case_id=error.case_id)


def on_bad_cursor(_: Request, error: BadCursor) -> Response:
    return problem(400, "bad cursor", str(error), code=RefusalCode.BAD_CURSOR, field="cursor")


def on_unavailable(_: Request, error: Unavailable) -> Response:
    response = problem(503, "unavailable", str(error), code=RefusalCode.DEPENDENCY_DOWN)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def on_validation(_: Request, error: ValidationException) -> Response:
    errors = [item for item in (error.extra or []) if isinstance(item, dict)] if isinstance(error.extra, list) else []
    fields = [_field_name(item) for item in errors if item.get("key")]
    if not fields:
        return problem(400, "bad request", _clean_detail(error.detail, errors), code=RefusalCode.MALFORMED_REQUEST)
    detail = "; ".join(f"{_field_name(item)}: {item.get('message', 'invalid')}" for item in errors if item.get("key"))
    first = str(next(item for item in errors if item.get("key")).get("message", ""))
    return problem(
        422,
        "invalid data",
        detail,
        code=_validation_code(first),
        field=fields[0],
        errors=[{"field": _field_name(item), "message": item.get("message")} for item in errors if item.get("key")],
    )


def _validation_code(message: str) -> str:
    if MISSING_FIELD.search(message):
        return RefusalCode.MISSING_FIELD
    if WRONG_TYPE.search(message):
        return RefusalCode.WRONG_TYPE
    return RefusalCode.INVALID_VALUE


def on_http(_: Request, error: HTTPException) -> Response:
    headers = dict(error.headers or {})
    if error.status_code == 429 and "RateLimit-Reset" in headers:
        headers["Retry-After"] = headers["RateLimit-Reset"]
    default = ("error", RefusalCode.REFUSED if error.status_code < 500 else RefusalCode.INTERNAL_ERROR)
    title, code = HTTP_REFUSALS.get(error.status_code, default)
    response = problem(error.status_code, title, str(error.detail), code=code)
    response.headers.update(headers)
    return response


def on_dependency_down(_: Request, error: Exception) -> Response:
    """The read model or Temporal did not answer: nothing wrong with the request, try it again."""
    log.warning("a dependency is unavailable: %s", type(error).__name__)
    response = problem(
        503,
        "unavailable",
        "the read model or Temporal did not answer; retry shortly (with the same Idempotency-Key)",
        code=RefusalCode.DEPENDENCY_DOWN,
    )
    response.headers["Retry-After"] = "2"
    return response


def on_unknown_payload_key(request: Request, error: UnknownPayloadKey) -> Response:
    """A payload encrypted with a key CASEWORK_PAYLOAD_KEYS no longer holds: say which (its id only)."""
    log.error("on %s %s: %s", request.method, request.url.path, error)
    return problem(500, "payload key missing", str(error), code=RefusalCode.INTERNAL_ERROR)


def on_unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "internal error", "the server failed; the error is logged", code=RefusalCode.INTERNAL_ERROR)


def _field_name(item: dict[str, Any]) -> str:
    # A missing field is reported against its parent object (for the body, the handler's parameter),
    # so the field's own name comes from msgspec's message.
    missing = MISSING_FIELD.search(str(item.get("message", "")))
    key = str(item.get("key", ""))
    if missing:
        parent = missing.group(2)
        if parent is None:  # Litestar cuts the path off the message into `key`, which for the body itself is its parameter
            parent = "" if key == BODY_PARAMETER else key
        return f"{parent}.{missing.group(1)}" if parent else missing.group(1)
    return key.removeprefix("$.")


def _clean_detail(detail: str, errors: list[dict[str, Any]]) -> str:
    messages = [str(item.get("message")) for item in errors if item.get("message")]
    return "; ".join(messages) or detail


HANDLERS: ExceptionHandlersMap = {
    PreconditionFailed: on_precondition_failed,
    CaseRefused: on_case_refused,
    CaseRuleError: on_rule_error,
    CaseNotFound: on_not_found,
    BadCursor: on_bad_cursor,
    Unavailable: on_unavailable,
    ValidationException: on_validation,
    HTTPException: on_http,
    DBAPIError: on_dependency_down,
    RPCError: on_dependency_down,
    RedisConnectionError: on_dependency_down,  # CASEWORK_REDIS_URL's server, when set
    RedisTimeoutError: on_dependency_down,
    OSError: on_dependency_down,
    UnknownPayloadKey: on_unknown_payload_key,
    Exception: on_unexpected,
}
