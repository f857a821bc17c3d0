"""Shifts: several spans a day, spans across midnight, merging, holidays and make-up days, refusals."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from states.holidays import NO_HOLIDAYS, HolidayCalendar
from states.policy_error import PolicyError
from states.shifts import parse_shifts

SHANGHAI = "Asia/Shanghai"


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A moment of 2026 (November unless told) on Shanghai's wall clock, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(SHANGHAI)).astimezone(UTC)


def spans(shifts, start, end, holidays=NO_HOLIDAYS):
    return list(shifts.intervals(start, end, SHANGHAI, holidays))


def test_an_overnight_span_runs_from_its_day_into_the_next():
    shifts = parse_shifts({"mon": "17:00-01:00"}, "hours")
    # Monday 23 November 2026: 17:00 Monday to 01:00 Tuesday.
    assert spans(shifts, local(23, 0), local(25, 0)) == [(local(23, 17), local(24, 1))]
    assert shifts.covers(local(24, 0, 30), SHANGHAI, NO_HOLIDAYS)
    assert not shifts.covers(local(24, 1), SHANGHAI, NO_HOLIDAYS)
    assert not shifts.covers(local(23, 16, 59), SHANGHAI, NO_HOLIDAYS)


def test_a_day_has_several_spans_and_overlapping_ones_merge():
    shifts = parse_shifts({"mon": ["08:30-12:00", "13:00-17:30", "17:00-01:00"]}, "hours")
    # 13:00-17:30 and 17:00-01:00 overlap: one interval from 13:00 to 01:00.
    assert spans(shifts, local(23, 0), local(25, 0)) == [(local(23, 8, 30), local(23, 12)), (local(23, 13), local(24, 1))]
    assert not shifts.covers(local(23, 12, 30), SHANGHAI, NO_HOLIDAYS)


def test_spans_of_different_keys_and_consecutive_days_merge():
    shifts = parse_shifts({"mon": "17:00-01:00", "tue": "00:00-24:00", "workdays": "08:30-17:30"}, "hours")
    # Monday: 08:30-17:30 (workdays) then 17:00-01:00; Tuesday's whole day joins it; Wednesday 08:30 starts anew.
    assert spans(shifts, local(23, 0), local(25, 12)) == [(local(23, 8, 30), local(25, 0)), (local(25, 8, 30), local(25, 12))]


def test_intervals_are_clipped_to_the_window():
    shifts = parse_shifts({"everyday": "08:00-20:00"}, "hours")
    assert spans(shifts, local(23, 10), local(24, 9)) == [(local(23, 10), local(23, 20)), (local(24, 8), local(24, 9))]


def test_a_sunday_night_shift_belongs_to_sunday():
    shifts = parse_shifts({"sun": "22:00-06:00"}, "hours")
    # Sunday 29 November 22:00 to Monday 30 November 06:00; nothing on Monday night.
    assert spans(shifts, local(29, 0), local(1, 0, month=12)) == [(local(29, 22), local(30, 6))]
    assert shifts.covers(local(30, 5, 59), SHANGHAI, NO_HOLIDAYS)
    # When that Sunday is a holiday, its night shift does not run, Monday morning included.
    sunday_off = HolidayCalendar(holidays=frozenset({date(2026, 11, 29)}))
    assert not shifts.covers(local(30, 5), SHANGHAI, sunday_off)
    # When Monday is a holiday, Sunday's shift still runs into it.
    monday_off = HolidayCalendar(holidays=frozenset({date(2026, 11, 30)}))
    assert shifts.covers(local(30, 5), SHANGHAI, monday_off)


def test_workdays_run_on_a_makeup_sunday_and_not_on_holidays_while_weekday_keys_follow_the_week():
    # 2026: Sunday 4 January is worked in exchange for 1-3 January (New Year).
    calendar = HolidayCalendar(
        holidays=frozenset({date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)}), makeup_workdays=frozenset({date(2026, 1, 4)})
    )
    workdays = parse_shifts({"workdays": "08:30-17:30"}, "hours")
    weekdays = parse_shifts({day: "08:30-17:30" for day in ("mon", "tue", "wed", "thu", "fri")}, "hours")
    everyday = parse_shifts({"everyday": "08:30-17:30"}, "hours")
    sunday_10, friday_10 = local(4, 10, month=1), local(2, 10, month=1)
    assert workdays.covers(sunday_10, SHANGHAI, calendar) and not weekdays.covers(sunday_10, SHANGHAI, calendar)
    assert not workdays.covers(friday_10, SHANGHAI, calendar) and not weekdays.covers(friday_10, SHANGHAI, calendar)
    assert everyday.covers(friday_10, SHANGHAI, calendar) and everyday.covers(sunday_10, SHANGHAI, calendar)


def test_the_zone_may_be_given_by_name_or_as_a_zone():
    shifts = parse_shifts({"mon": "08:30-17:30"}, "hours")
    assert list(shifts.intervals(local(23, 0), local(24, 0), ZoneInfo(SHANGHAI), NO_HOLIDAYS)) == spans(shifts, local(23, 0), local(24, 0))


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({}, "calendar.hours"),
        ("08:30-17:30", "calendar.hours"),
        ({"someday": "08:00-17:00"}, "calendar.hours.someday"),
        ({"mon": "8am-5pm"}, "calendar.hours.mon"),
        ({"mon": ["08:30-17:30", "17:00-25:00"]}, "calendar.hours.mon[1]"),
        ({"mon": ["08:30-17:30", "09:00-09:00"]}, "calendar.hours.mon[1]"),
        ({"tue": ["08:30-17:30", 9]}, "calendar.hours.tue[1]"),
        ({"workdays": "24:00-08:00"}, "calendar.hours.workdays"),
        ({"everyday": []}, "calendar.hours.everyday"),
        ({"sun": "08:60-17:00"}, "calendar.hours.sun"),
    ],
)
def test_bad_shifts_are_refused_naming_the_exact_key(data, key):
    with pytest.raises(PolicyError) as refused:
        parse_shifts(data, "calendar.hours")
    assert refused.value.key == key
