"""When the read model refuses a row for good: tell it from a passing failure, and raise the alarm.

A transient failure (the connection dropped, the database is restarting, a lock timed out) is
retried by the projection activity as before. A deterministic one (the row breaks a type or a
constraint: PostgreSQL's SQLSTATE classes 22 and 23, a value the driver cannot encode) fails the
same way on every attempt; retrying it would hold the case's update until its caller gives up.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.exc import DataError, IntegrityError

from service.observability import PROJECTIONS_REFUSED

log = logging.getLogger("casework.projection")

# SQLSTATE classes: 22 data exception (bad value, untranslatable character), 23 integrity violation.
DETERMINISTIC_SQLSTATE_CLASSES = ("22", "23")
# How long /health reports the read model as degraded after a refusal.
ALARM_WINDOW_SECONDS = 15 * 60


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = getattr(cause, "orig", None) or cause.__cause__ or cause.__context__


def refused_for_good(error: BaseException) -> bool:
    """Whether writing the same row again must fail again."""
    causes = list(_chain(error))
    if any(isinstance(cause, (OSError, TimeoutError)) for cause in causes):
        return False
    for cause in causes:
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and len(sqlstate) == 5:
            return sqlstate[:2] in DETERMINISTIC_SQLSTATE_CLASSES
    # A value the driver cannot encode (asyncpg's DataError is a ValueError; a lone surrogate a UnicodeError).
    return any(isinstance(cause, (DataError, IntegrityError, ValueError, TypeError)) for cause in causes)


@dataclass(frozen=True)
class Refusal:
    case_id: str
    seq: int
    reason: str
    at: float


class ProjectionAlarm:
    """The recent refusals this process saw, for /health; the metric and the log line are the alert."""

    def __init__(self, window_seconds: float = ALARM_WINDOW_SECONDS, clock=time.monotonic):
        self._recent: deque[Refusal] = deque(maxlen=100)
        self._window = window_seconds
        self._clock = clock

    def raise_for(self, case_id: str, seq: int, kind: str, error: BaseException) -> str:
        reason = describe(error)
        log.error("the read model refused event %s of case %s for good (%s); the change is not applied: see docs/deploy.md", seq, case_id, reason)
        PROJECTIONS_REFUSED.labels(kind).inc()
        self.record(case_id, seq, reason)
        return reason

    @property
    def window_seconds(self) -> float:
        return self._window

    def record(self, case_id: str, seq: int, reason: str, age_seconds: float = 0.0) -> None:
        """`age_seconds`: how long ago it happened (a refusal another process recorded earlier)."""
        if not any(refusal.case_id == case_id and refusal.seq == seq for refusal in self._recent):
            self._recent.append(Refusal(case_id, seq, reason, self._clock() - age_seconds))

    def status(self) -> str | None:
        """ "degraded: ..." while a refusal is recent, else None."""
        since = self._clock() - self._window
        recent = [refusal for refusal in self._recent if refusal.at >= since]
        if not recent:
            return None
        last = recent[-1]
        return f"degraded: {len(recent)} change(s) refused in the last {self._window // 60:.0f} min, the last on case {last.case_id} ({last.reason})"


def describe(error: BaseException) -> str:
    """What the database said, never the row's content (a driver's own message may quote the value)."""
    causes = list(_chain(error))
    for cause in causes:
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str):
            first_line = (str(cause).splitlines() or [""])[0][:200]
            return f"{type(cause).__name__} (SQLSTATE {sqlstate}): {first_line}"
    return " from ".join(type(cause).__name__ for cause in causes)
