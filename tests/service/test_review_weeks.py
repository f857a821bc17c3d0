"""Scheduled reviews cover the department's weeks and months (Asia/Shanghai), not UTC's."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from service.reviews import Period, Reviews, period_before, previous_period
from states.case import format_time
from tests.service.kpi_cases import project_all, reported_case

SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_the_week_before_monday_1am_in_beijing_is_that_weeks_monday_to_sunday():
    # The weekly schedule fires Monday 30 November 01:00 in Beijing: Sunday 29 November 17:00 UTC.
    week = period_before(beijing(11, 30, 1), "weekly", SHANGHAI)
    assert week == Period(beijing(11, 23, 0), beijing(11, 30, 0))
    assert previous_period(week, "weekly", SHANGHAI) == Period(beijing(11, 16, 0), beijing(11, 23, 0))
    month = period_before(beijing(12, 1, 1), "monthly", SHANGHAI)
    assert month == Period(beijing(11, 1, 0), beijing(12, 1, 0))
    assert previous_period(month, "monthly", SHANGHAI) == Period(beijing(10, 1, 0), beijing(11, 1, 0))


async def test_the_scheduled_weekly_review_counts_monday_morning_in_beijing_in_its_week(read_model):
    await project_all(
        read_model,
        [
            reported_case("sunday-night", "complaint", beijing(11, 22, 23, 30)),  # the week before
            reported_case("monday-early", "complaint", beijing(11, 23, 0, 30)),  # Sunday 16:30 UTC
            reported_case("sunday-last", "complaint", beijing(11, 29, 23, 59)),
            reported_case("next-monday", "complaint", beijing(11, 30, 0, 1)),  # the week after
        ],
    )
    reviews = Reviews(read_model, SHANGHAI)
    review = await reviews.get(await reviews.make_scheduled("weekly", format_time(beijing(11, 30, 1))))
    assert review is not None
    assert review["id"] == "rev_weekly_2026-11-23" and review["timezone"] == "Asia/Shanghai"
    assert review["period"] == {"from": "2026-11-22T16:00:00.000000Z", "to": "2026-11-29T16:00:00.000000Z"}
    assert (review["kpis"]["volume"], review["previous_kpis"]["volume"]) == (2, 1)


async def test_the_scheduled_monthly_review_counts_the_first_hours_of_the_month_in_beijing(read_model):
    await project_all(
        read_model,
        [
            reported_case("november-first", "complaint", beijing(11, 1, 0, 30)),  # 31 October 16:30 UTC
            reported_case("december-first", "complaint", beijing(12, 1, 0, 30)),  # 30 November 16:30 UTC
        ],
    )
    reviews = Reviews(read_model, SHANGHAI)
    review = await reviews.get(await reviews.make_scheduled("monthly", format_time(beijing(12, 1, 1))))
    assert review is not None and review["id"] == "rev_monthly_2026-11-01"
    assert (review["kpis"]["volume"], review["previous_kpis"]["volume"]) == (1, 0)
