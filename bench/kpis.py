"""`GET /kpis` over the seeded read model: the KPI facts a seeded row carries, and the queries a
team's dashboard and review meetings send.

The facts are drawn the way a busy department's would fall: most first responses within the hour
(log-normal around 15 minutes, a long tail past the target), handling times of the closed cases as
seeded, satisfaction verdicts on most closed complaints and feedback, a few reopened cases.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from bench.http_load import measure_gets
from states.case import format_time
from states.spec import CASE_CATEGORIES

CATEGORY_WEIGHTS = (30, 25, 15, 20, 10)
FIRST_RESPONSE_TARGET = 3600
CLOSED_BY = {"incident": "close", "improvement_plan": "record_effect"}


def kpi_facts(rng: random.Random, kind: str, state: str, created: datetime, closed_at: datetime | None, breached: bool) -> dict:
    """The KPI columns of one seeded case row."""
    answered = state != "report" or rng.random() < 0.6
    first_response = rng.lognormvariate(math.log(900), 1.0) if answered else None
    late = first_response is not None and first_response > FIRST_RESPONSE_TARGET
    closed_by = None
    if closed_at is not None:
        closed_by = CLOSED_BY.get(kind) or ("dismiss" if rng.random() < 0.15 else "record_satisfaction")
    satisfied = None
    if closed_by == "record_satisfaction":
        satisfied = True
    elif kind in ("complaint", "feedback") and state == "remediate" and rng.random() < 0.3:
        satisfied = False  # sent back by an unsatisfied customer
    return {
        "category": rng.choices(CASE_CATEGORIES, weights=CATEGORY_WEIGHTS)[0] if kind in ("complaint", "feedback") else None,
        "first_response_seconds": first_response,
        "first_response_late": late,
        "handling_seconds": (closed_at - created).total_seconds() if closed_at else None,
        "closed_by": closed_by,
        "reopen_count": 1 if rng.random() < 0.04 else 0,
        "satisfied": satisfied,
        "score": None if satisfied is None else rng.randint(3, 5) if satisfied else rng.randint(1, 2),
        "ever_breached": late or breached or rng.random() < 0.05,
    }


def queries(now: datetime) -> dict[str, dict]:
    """What the dashboard and the review meetings ask; each named, as query parameters."""
    year, quarter = format_time(now - timedelta(days=365)), format_time(now - timedelta(days=91))
    return {
        "last 30 days": {},
        "year": {"from": year},
        "year by month": {"from": year, "group_by": "month"},
        "quarter by week": {"from": quarter, "group_by": "week"},
        "year, complaints by category": {"from": year, "kind": "complaint", "group_by": "category"},
        "year by owner": {"from": year, "group_by": "owner"},
        "year, one owner": {"from": year, "owner": "agent-07"},
    }


async def measure_http(base: str, named: dict[str, dict], rounds: int) -> dict:
    return await measure_gets(base, "/kpis", named, rounds, ("cases_counted", lambda answer: answer["kpis"]["volume"]))
