"""When the regular meetings (例会) are held and who hosts them: pure rules over dates.

Weekly meetings fall on a configured weekday and time; monthly ones on the configured weekday of the
month's last week, the last such weekday of the month (always within its last seven days). Weekly
hosts rotate among the supervisors in a fixed, visible order: the meeting of week `w` (counted from
a fixed Monday) is the turn of `rotation[w % len(rotation)]`; one who is away on the meeting's day
passes to the next in the order. The manager (first by name if several) hosts the monthly meeting.
All times are in the department's time zone; results are UTC datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from states.policy_error import PolicyError
from states.shifts import WEEKDAYS
from states.vocabulary import MeetingType

# Week 0 of the rotation: a Monday long ago, so a week's turn never depends on when the service started.
ROTATION_EPOCH = date(2024, 1, 1)
CLOCK = re.compile(r"^(\d{2}):(\d{2})$")
# Who is away when: a user's [from, to) leave (the directory's away_from/away_to).
Away = Mapping[str, tuple[datetime | None, datetime | None]]


@dataclass(frozen=True)
class MeetingSlot:
    weekday: int  # Monday 0
    at: time
    place: str = ""


@dataclass(frozen=True)
class MeetingPlan:
    timezone: str
    weekly: MeetingSlot = MeetingSlot(4, time(16, 0))
    monthly: MeetingSlot = MeetingSlot(4, time(14, 0))
    # The supervisors' hosting order; empty: every supervisor, by name.
    rotation: tuple[str, ...] = ()

    def slot(self, meeting_type: str) -> MeetingSlot:
        return self.weekly if meeting_type == MeetingType.WEEKLY else self.monthly


@dataclass(frozen=True)
class Meeting:
    """One meeting to hold: its deterministic case id makes creating it twice create it once."""

    meeting_type: MeetingType
    case_id: str
    scheduled_at: datetime  # UTC
    local_day: date
    place: str
    host: str | None


def parse_meeting_plan(data: Mapping[str, Any], timezone: str) -> MeetingPlan:
    """`[weekly] weekday, time, place, rotation` and `[monthly] weekday, time, place` (CASEWORK_MEETINGS)."""
    unknown = set(data) - {"weekly", "monthly"}
    if unknown:
        raise PolicyError(sorted(unknown)[0], "unknown key; keys: weekly, monthly")
    defaults = MeetingPlan(timezone)
    weekly = _section(data.get("weekly", {}), "weekly", defaults.weekly, {"rotation"})
    monthly = _section(data.get("monthly", {}), "monthly", defaults.monthly, set())
    rotation = data.get("weekly", {}).get("rotation", [])
    if not isinstance(rotation, list) or not all(isinstance(name, str) and name for name in rotation):
        raise PolicyError("weekly.rotation", "must be a list of user names")
    if len(set(rotation)) != len(rotation):
        raise PolicyError("weekly.rotation", "names a user twice")
    return MeetingPlan(timezone, weekly, monthly, tuple(rotation))


def _section(data: Any, key: str, default: MeetingSlot, extra: set[str]) -> MeetingSlot:
    if not isinstance(data, dict):
        raise PolicyError(key, "must be a table")
    unknown = set(data) - {"weekday", "time", "place", *extra}
    if unknown:
        raise PolicyError(f"{key}.{sorted(unknown)[0]}", "unknown key")
    weekday = data.get("weekday", WEEKDAYS[default.weekday])
    if weekday not in WEEKDAYS:
        raise PolicyError(f"{key}.weekday", f"must be one of {', '.join(WEEKDAYS)}")
    at = data.get("time", default.at.strftime("%H:%M"))
    match = CLOCK.match(at) if isinstance(at, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise PolicyError(f"{key}.time", "must be a time like 16:00")
    place = data.get("place", default.place)
    if not isinstance(place, str):
        raise PolicyError(f"{key}.place", "must be text")
    return MeetingSlot(WEEKDAYS.index(weekday), time(int(match[1]), int(match[2])), place)


def weekly_days(plan: MeetingPlan, after: datetime, count: int) -> list[datetime]:
    """The next `count` weekly meetings' times (UTC) strictly after `after`."""
    zone = ZoneInfo(plan.timezone)
    day = after.astimezone(zone).date()
    day += timedelta(days=(plan.weekly.weekday - day.weekday()) % 7)
    found: list[datetime] = []
    while len(found) < count:
        moment = _at(day, plan.weekly.at, zone)
        if moment > after:
            found.append(moment)
        day += timedelta(days=7)
    return found


def last_weekday_of_month(year: int, month: int, weekday: int) -> date:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    last = first_of_next - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def next_monthly(plan: MeetingPlan, after: datetime) -> datetime:
    """The next monthly meeting's time (UTC) strictly after `after`."""
    zone = ZoneInfo(plan.timezone)
    local = after.astimezone(zone)
    year, month = local.year, local.month
    while True:
        moment = _at(last_weekday_of_month(year, month, plan.monthly.weekday), plan.monthly.at, zone)
        if moment > after:
            return moment
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def is_away(name: str, moment: datetime, away: Away) -> bool:
    start, end = away.get(name, (None, None))
    return start is not None and start <= moment and (end is None or moment < end)


def weekly_host(order: list[str] | tuple[str, ...], local_day: date, moment: datetime, away: Away) -> str | None:
    """Whose turn the weekly meeting on `local_day` is, skipping those away at `moment`; None if all are."""
    if not order:
        return None
    turn = ((local_day - ROTATION_EPOCH).days // 7) % len(order)
    for offset in range(len(order)):
        name = order[(turn + offset) % len(order)]
        if not is_away(name, moment, away):
            return name
    return None


def monthly_host(managers: list[str] | tuple[str, ...]) -> str | None:
    return min(managers) if managers else None


def rotation_order(plan: MeetingPlan, supervisors: list[str] | tuple[str, ...]) -> list[str]:
    """The configured order as written, kept to the enabled supervisors among it (a name that is no
    enabled supervisor, or no longer one, hosts nothing); with no order configured every supervisor by name.

    Turns go by `week % len(order)`: adding or removing a supervisor shifts the turns of the meetings
    not made yet (those already made keep their host)."""
    if not plan.rotation:
        return sorted(supervisors)
    enabled = set(supervisors)
    return [name for name in plan.rotation if name in enabled]


def meeting_id(meeting_type: str, local_day: date) -> str:
    """One case per meeting: the weekly one by its day, the monthly one by its month."""
    if meeting_type == MeetingType.MONTHLY:
        return f"meeting-{meeting_type}-{local_day:%Y-%m}"
    return f"meeting-{meeting_type}-{local_day:%Y-%m-%d}"


def upcoming(plan: MeetingPlan, after: datetime, weeks: int, supervisors: list[str], managers: list[str], away: Away) -> list[Meeting]:
    """The next `weeks` weekly meetings and the next monthly one, in time order, with their hosts."""
    zone = ZoneInfo(plan.timezone)
    order = rotation_order(plan, supervisors)
    meetings = []
    for moment in weekly_days(plan, after, weeks):
        day = moment.astimezone(zone).date()
        meetings.append(
            Meeting(MeetingType.WEEKLY, meeting_id(MeetingType.WEEKLY, day), moment, day, plan.weekly.place, weekly_host(order, day, moment, away))
        )
    monthly = next_monthly(plan, after)
    day = monthly.astimezone(zone).date()
    meetings.append(Meeting(MeetingType.MONTHLY, meeting_id(MeetingType.MONTHLY, day), monthly, day, plan.monthly.place, monthly_host(managers)))
    return sorted(meetings, key=lambda meeting: meeting.scheduled_at)


def _at(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
