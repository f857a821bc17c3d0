"""Weeks and months of the KPIs are the department's (CASEWORK_TIMEZONE, here Asia/Shanghai), over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.conftest import auth
from tests.service.kpi_cases import project_all, reported_case

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the stack's CASEWORK_TIMEZONE, UTC+8


def beijing(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


async def grouped(api, group_by: str, start: datetime, end: datetime) -> list[dict]:
    params = {"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by}
    response = await api.client.get("/kpis", params=params, headers=auth("auditor"))
    assert response.status_code == 200, response.text
    return [{"key": group["key"], "from": group["from"], "volume": group["kpis"]["volume"]} for group in response.json()["groups"]]


async def test_a_case_reported_early_on_monday_in_beijing_counts_in_that_week(own_stack):
    async with own_stack() as stack:
        await project_all(
            stack.read_model,
            [
                # Sunday 22 November 23:30 and Monday 23 November 00:30 in Beijing: 15:30 and 16:30 UTC on Sunday.
                reported_case("sunday-night", "complaint", beijing(11, 22, 23, 30)),
                reported_case("monday-early", "complaint", beijing(11, 23, 0, 30)),
                reported_case("monday-morning", "complaint", beijing(11, 23, 7, 59)),
            ],
        )
        weeks = await grouped(stack.api, "week", beijing(11, 16, 0), beijing(11, 30, 0))
        assert weeks == [
            {"key": "2026-W47", "from": "2026-11-15T16:00:00.000000Z", "volume": 1},
            {"key": "2026-W48", "from": "2026-11-22T16:00:00.000000Z", "volume": 2},
        ]


async def test_the_first_hours_of_a_month_in_beijing_count_in_that_month(own_stack):
    async with own_stack() as stack:
        await project_all(
            stack.read_model,
            [
                reported_case("november-last", "complaint", beijing(11, 30, 23, 0)),
                reported_case("december-first", "complaint", beijing(12, 1, 0, 30)),  # 30 November 16:30 UTC
            ],
        )
        months = await grouped(stack.api, "month", beijing(11, 1, 0), beijing(12, 2, 0))
        assert months == [
            {"key": "2026-11", "from": "2026-10-31T16:00:00.000000Z", "volume": 1},
            {"key": "2026-12", "from": "2026-11-30T16:00:00.000000Z", "volume": 1},
        ]
