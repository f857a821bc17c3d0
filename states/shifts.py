"""Shifts: the spans of the day when a team or the department works, week after week.

Parsed from plain data such as `{"mon": ["08:30-17:30", "17:00-01:00"], "workdays": "09:00-18:00"}`.
A day key is a weekday (mon..sun), `workdays` or `everyday`; its value a span or a list of spans.
A span whose end is not after its start crosses midnight: "17:00-01:00" starts on its day and ends
at 01:00 the next day, and belongs to the day it starts on (a Sunday night shift is Sunday's, even
in the hours that fall on Monday). "00:00-24:00" is the whole day. Overlapping spans are merged.

Holidays (a HolidayCalendar):
- a weekday key (mon..sun) does not run on a public holiday;
- `workdays` runs on every working day: Monday to Friday except holidays, plus make-up days (调休);
- `everyday` runs always, holidays included.
A day's spans are the union of the keys that run on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from states.holidays import HolidayCalendar
from states.policy_error import PolicyError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKDAYS = "workdays"
EVERYDAY = "everyday"
DAY_KEYS = (*WEEKDAYS, WORKDAYS, EVERYDAY)
MINUTES_PER_DAY = 24 * 60
SPAN = re.compile(r"^\s*(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*$")

Span = tuple[int, int]  # minutes after its day's midnight: start (< 24 h) and end (after start, ≤ 48 h)


@dataclass(frozen=True)
class WeeklyShifts:
    weekdays: tuple[tuple[Span, ...], ...]  # seven entries, Monday first
    workdays: tuple[Span, ...] = ()
    everyday: tuple[Span, ...] = ()

    def spans_on(self, day: date, holidays: HolidayCalendar) -> list[Span]:
        """The spans that start on `day`, merged and in order."""
        spans = list(self.everyday)
        if not holidays.is_holiday(day):
            spans += self.weekdays[day.weekday()]
        if holidays.is_workday(day):
            spans += self.workdays
        return _merged(spans)

    def intervals(self, start: datetime, end: datetime, zone: tzinfo | str, holidays: HolidayCalendar) -> Iterator[tuple[datetime, datetime]]:
        """The shifts' time (UTC datetimes) overlapping [start, end), in order, merged and clipped to it."""
        zone = ZoneInfo(zone) if isinstance(zone, str) else zone
        pending: tuple[datetime, datetime] | None = None
        day = start.astimezone(zone).date() - timedelta(days=1)  # yesterday's overnight spans reach into today
        while _at(day, 0, zone) < end:
            for first, last in self.spans_on(day, holidays):
                opening, closing = _at(day, first, zone), _at(day, last, zone)
                if closing <= start or opening >= end:
                    continue
                if pending is not None and opening <= pending[1]:
                    pending = (pending[0], max(pending[1], closing))
                    continue
                if pending is not None:
                    yield max(pending[0], start), min(pending[1], end)
                pending = (opening, closing)
            day += timedelta(days=1)
        if pending is not None:
            yield max(pending[0], start), min(pending[1], end)

    def covers(self, moment: datetime, zone: tzinfo | str, holidays: HolidayCalendar) -> bool:
        """Whether `moment` falls in a shift."""
        return next(self.intervals(moment, moment + timedelta(microseconds=1), zone, holidays), None) is not None


def parse_shifts(data: Any, key: str) -> WeeklyShifts:
    """Shifts from plain data; a refusal names the exact key, e.g. `calendar.hours.mon[1]`."""
    if not isinstance(data, dict) or not data:
        raise PolicyError(key, 'must name at least one day, e.g. mon = "08:30-17:30"')
    spans: dict[str, tuple[Span, ...]] = {}
    for day, value in data.items():
        day_key = f"{key}.{day}"
        if day not in DAY_KEYS:
            raise PolicyError(day_key, f"unknown day; days: {', '.join(DAY_KEYS)}")
        if isinstance(value, str):
            parsed = [_span(value, day_key)]
        elif isinstance(value, list) and value:
            parsed = [_span(text, f"{day_key}[{index}]") for index, text in enumerate(value)]
        else:
            raise PolicyError(day_key, 'must be a span like "08:30-17:30" or a list of them')
        spans[day] = tuple(_merged(parsed))
    return WeeklyShifts(tuple(spans.get(day, ()) for day in WEEKDAYS), spans.get(WORKDAYS, ()), spans.get(EVERYDAY, ()))


def _span(text: Any, key: str) -> Span:
    match = SPAN.match(text) if isinstance(text, str) else None
    if match is None:
        raise PolicyError(key, f'must be HH:MM-HH:MM like "08:30-17:30", not {text!r}')
    start_hour, start_minute, end_hour, end_minute = (int(part) for part in match.groups())
    if start_hour > 23 or end_hour > 24 or start_minute > 59 or end_minute > 59 or (end_hour == 24 and end_minute):
        raise PolicyError(key, f"{text!r} is not a time of day; a span ends at 24:00 at the latest")
    start, end = start_hour * 60 + start_minute, end_hour * 60 + end_minute
    if start == end:
        raise PolicyError(key, f'{text!r} starts and ends at the same time; a whole day is "00:00-24:00"')
    return start, end if end > start else end + MINUTES_PER_DAY


def _merged(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _at(day: date, minutes: int, zone: tzinfo) -> datetime:
    # Adding to an aware datetime moves its wall clock: 01:00 the next day even across a DST change.
    return (datetime.combine(day, time(0), zone) + timedelta(minutes=minutes)).astimezone(UTC)
