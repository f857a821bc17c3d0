"""Deadlines over China's holidays and make-up working days (调休), and the holiday calendar itself.

The dates are China's official 2026 calendar (tests/service/test_holidays.py checks them against
the pinned package): the Spring Festival holiday runs Sunday 15 to Monday 23 February, worked on
Saturdays 14 and 28 February; New Year's Day is 1-3 January, worked on Sunday 4 January; Sunday
20 September is worked for the Mid-Autumn holiday of 25-27 September.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from states.holidays import HolidayCalendar, parse_holiday_calendar
from states.policy_error import PolicyError
from states.sla_policy import parse_policy


def days(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=offset)).isoformat() for offset in range((end - start).days + 1)]


OFFICE = {
    "timezone": "Asia/Shanghai",
    "hours": {"workdays": "08:30-17:30"},
    "holidays": days("2026-01-01", "2026-01-03") + days("2026-02-15", "2026-02-23") + days("2026-09-25", "2026-09-27"),
    "workdays": ["2026-01-04", "2026-02-14", "2026-02-28", "2026-09-20"],
}
HOUR = 3600


def beijing(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


@pytest.fixture
def policy():
    return parse_policy({"calendar": OFFICE})


def test_a_deadline_on_the_eve_of_the_spring_festival_falls_on_the_makeup_saturday(policy):
    # Friday 13 February 16:30 with two hours to go: one hour to 17:30, the other on Saturday 14
    # February (worked in exchange for the holiday), 08:30-09:30.
    assert policy.add_working_time(beijing(2, 13, 16, 30), 2 * HOUR) == beijing(2, 14, 9, 30)


def test_the_spring_festival_holiday_stops_the_clock_for_nine_days(policy):
    # Saturday 14 February 17:00 with one hour to go: 30 minutes to 17:30; Sunday 15 to Monday 23
    # February are holidays; the other 30 minutes on Tuesday 24 February, 08:30-09:00.
    assert policy.add_working_time(beijing(2, 14, 17), HOUR) == beijing(2, 24, 9)
    # A one-day target (24 working hours) from Friday 13 February 09:00: 8.5 h on Friday, 9 h on
    # Saturday 14, and the remaining 6.5 h from 08:30 on Tuesday 24 February: 15:00.
    assert policy.add_working_time(beijing(2, 13, 9), 24 * HOUR) == beijing(2, 24, 15)
    # From Friday's close to Tuesday's opening only the make-up Saturday counts.
    assert policy.working_seconds(beijing(2, 13, 17, 30), beijing(2, 24, 8, 30)) == 9 * HOUR


def test_the_second_makeup_saturday_after_the_festival_is_worked(policy):
    # Friday 27 February 17:00, one hour: 30 minutes on Friday, 30 on Saturday 28 February from 08:30.
    assert policy.add_working_time(beijing(2, 27, 17), HOUR) == beijing(2, 28, 9)


def test_makeup_sundays_are_worked(policy):
    # Friday 18 September 17:00, one hour: 30 minutes on Friday; Sunday 20 September is worked: 09:00.
    assert policy.add_working_time(beijing(9, 18, 17), HOUR) == beijing(9, 20, 9)
    # Wednesday 31 December 2025 17:00, one hour: 30 minutes that evening, 1-3 January are New
    # Year's holidays, Sunday 4 January is worked: 09:00.
    assert policy.add_working_time(beijing(12, 31, 17, year=2025), HOUR) == beijing(1, 4, 9)


def test_a_weekday_timetable_skips_holidays_and_does_not_work_makeup_days():
    # Teams that list weekdays rather than `workdays` keep their week: Saturday 14 February is not theirs.
    policy = parse_policy({"calendar": {**OFFICE, "hours": {day: "08:30-17:30" for day in ("mon", "tue", "wed", "thu", "fri")}}})
    assert policy.add_working_time(beijing(2, 13, 16, 30), 2 * HOUR) == beijing(2, 24, 9, 30)


def test_the_holiday_calendar_knows_holidays_makeup_days_and_ordinary_weeks():
    calendar = parse_holiday_calendar(OFFICE["holidays"], OFFICE["workdays"], "calendar.")
    assert calendar.is_holiday(date(2026, 2, 16)) and not calendar.is_workday(date(2026, 2, 16))  # a Monday of the festival
    assert calendar.is_makeup_workday(date(2026, 2, 14)) and calendar.is_workday(date(2026, 2, 14))  # a Saturday
    assert calendar.is_workday(date(2026, 2, 24)) and not calendar.is_workday(date(2026, 3, 1))  # a Tuesday, a Sunday
    assert not calendar.is_holiday(date(2026, 3, 1))


def test_amending_a_calendar_adds_dates_and_moves_a_date_between_kinds():
    official = HolidayCalendar(frozenset({date(2026, 10, 1), date(2026, 10, 8)}), frozenset({date(2026, 10, 10)}))
    amended = official.overridden_by(HolidayCalendar(frozenset({date(2026, 10, 10)}), frozenset({date(2026, 10, 8)})))
    assert amended == HolidayCalendar(frozenset({date(2026, 10, 1), date(2026, 10, 10)}), frozenset({date(2026, 10, 8)}))


@pytest.mark.parametrize(
    ("holidays", "workdays", "key"),
    [
        (["2026-13-01"], [], "calendar.holidays"),
        ("2026-10-01", [], "calendar.holidays"),
        ([], ["soon"], "calendar.workdays"),
        (["2026-10-01"], ["2026-10-01"], "calendar.workdays"),
    ],
)
def test_bad_holiday_lists_are_refused_naming_the_key(holidays, workdays, key):
    with pytest.raises(PolicyError) as refused:
        parse_holiday_calendar(holidays, workdays, "calendar.")
    assert refused.value.key == key
