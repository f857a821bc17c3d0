"""Cases with chosen KPI facts, projected straight into a read model (no workflow needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.read_model import ReadModel
from states.case import Actor, CaseState, Event, format_time


def reported_case(
    case_id,
    kind,
    reported,
    *,
    category=None,
    first_response=None,
    late=False,
    closed_after=None,
    closed_by=None,
    reopened=0,
    satisfied=None,
    score=None,
    breached=(),
    state=None,
    priority="normal",
    owner="alice",
    team=None,
    responses=(0, 0.0),
):
    created = reported if isinstance(reported, datetime) else datetime.fromisoformat(reported).replace(tzinfo=UTC)
    data = {"category": category} if category else {}
    if satisfied is not None:
        data.update(satisfied=satisfied, score=score)
    closed_at = format_time(created + timedelta(seconds=closed_after)) if closed_after is not None else None
    return CaseState(
        id=case_id,
        kind=kind,
        title=case_id,
        description="",
        priority=priority,
        customer=None,
        channel=None,
        state=state or ("closed" if closed_at else "analyse"),
        version=2,
        owner=owner,
        team=team,
        created_by=owner,
        created_at=format_time(created),
        updated_at=format_time(created),
        closed_at=closed_at,
        closed_by=closed_by,
        first_response_at=format_time(created + timedelta(seconds=first_response)) if first_response is not None else None,
        reopen_count=reopened,
        data=data,
        breached_targets=(["first_response"] if late else []) + list(breached),
        responses=responses[0],
        response_seconds=responses[1],
    )


async def project_all(read_model: ReadModel, cases: list[CaseState]) -> None:
    for case in cases:
        await read_model.project(case, Event(2, case.id, "comment", case.state, case.state, Actor("t", "agent"), case.updated_at))
