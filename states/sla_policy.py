"""Service-level policy: targets per kind and priority, warnings, pauses, escalation, business hours.

Parsed from plain data (the TOML file's contents) into frozen values; every refusal names its key.
The data arrives complete: the edge (service/settings.py) has filled in the department's time zone
and holiday calendar, so a workflow needs nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from states.holidays import NO_HOLIDAYS, HolidayCalendar, parse_holiday_calendar
from states.policy_error import PolicyError
from states.shifts import WeeklyShifts, parse_shifts
from states.vocabulary import OPEN_PHASES, Kind, MeetingType, Phase, Priority

PRIORITIES = list(Priority)
# The minutes' deadline (会议纪要, seed 000 §4(3)): from when a meeting is held to when its minutes are published.
MINUTES = "minutes"
TARGET_NAMES = ("first_response", "resolution", MINUTES, *OPEN_PHASES)
# Regular meetings have no priority: their targets are keyed by meeting type instead.
MEETING_TYPES = list(MeetingType)
ISO_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
KINDS = tuple(Kind)
# Named in `auto_escalate` next to priorities: a VIP customer's case escalates on a breach whatever its
# priority (the default policy lists it; a policy without it leaves VIPs to the priorities listed).
VIP = "vip"
AUTO_ESCALATE_NAMES = (*PRIORITIES, VIP)
DEFAULT_AUTO_ESCALATE = (Priority.URGENT, VIP)


@dataclass(frozen=True)
class Calendar:
    """When the clocks run: shifts in a time zone, with its holidays and make-up working days."""

    timezone: str
    hours: WeeklyShifts
    holidays: HolidayCalendar = NO_HOLIDAYS

    def open_intervals(self, start: datetime, end: datetime):
        """Business intervals (UTC datetimes) overlapping [start, end), in order."""
        return self.hours.intervals(start, end, ZoneInfo(self.timezone), self.holidays)


@dataclass(frozen=True)
class ServiceLevelPolicy:
    warn_at: float = 0.8
    pause_in: frozenset[str] = frozenset({Phase.FOLLOW_UP})
    auto_escalate: frozenset[str] = frozenset(DEFAULT_AUTO_ESCALATE)
    targets: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    calendar: Calendar | None = None

    def targets_for(self, kind: str, priority: str, vip: bool) -> dict[str, float]:
        """Seconds allowed per target; a VIP customer gets the next priority up. For a regular
        meeting `priority` is its meeting type (weekly, monthly)."""
        if vip and priority in PRIORITIES and priority != PRIORITIES[-1]:
            priority = PRIORITIES[PRIORITIES.index(Priority(priority)) + 1]
        return dict(self.targets.get(kind, {}).get(priority, {}))

    def add_working_time(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` of clock time after `start`: business time when a calendar is set."""
        if self.calendar is None:
            return start + timedelta(seconds=seconds)
        remaining = timedelta(seconds=seconds)
        horizon = start + timedelta(days=3660)
        for opening, closing in self.calendar.open_intervals(start, horizon):
            if closing - opening >= remaining:
                return opening + remaining
            remaining -= closing - opening
        raise PolicyError("calendar", "no business hours within ten years")

    def working_seconds(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        if self.calendar is None:
            return (end - start).total_seconds()
        return sum((closing - opening).total_seconds() for opening, closing in self.calendar.open_intervals(start, end))


DEFAULT_POLICY_DATA: dict[str, Any] = {
    "warn_at": 0.8,
    "pause_in": [Phase.FOLLOW_UP],
    "auto_escalate": list(DEFAULT_AUTO_ESCALATE),
    "targets": {
        Kind.COMPLAINT: {
            Priority.URGENT: {"first_response": "PT10M", "resolution": "PT8H", Phase.ANALYSE: "PT2H"},
            Priority.HIGH: {"first_response": "PT30M", "resolution": "P1D", Phase.ANALYSE: "PT4H"},
            Priority.NORMAL: {"first_response": "PT2H", "resolution": "P3D"},
            Priority.LOW: {"first_response": "PT8H", "resolution": "P7D"},
        },
        Kind.FEEDBACK: {
            Priority.URGENT: {"first_response": "PT30M", "resolution": "P1D"},
            Priority.HIGH: {"first_response": "PT2H", "resolution": "P2D"},
            Priority.NORMAL: {"first_response": "PT8H", "resolution": "P5D"},
            Priority.LOW: {"first_response": "P1D", "resolution": "P10D"},
        },
        Kind.INCIDENT: {
            Priority.URGENT: {"first_response": "PT15M", Phase.FOLLOW_UP: "PT4H"},
            Priority.HIGH: {"first_response": "PT1H", Phase.FOLLOW_UP: "PT8H"},
            Priority.NORMAL: {Phase.FOLLOW_UP: "P1D"},
            Priority.LOW: {Phase.FOLLOW_UP: "P2D"},
        },
        Kind.IMPROVEMENT_PLAN: {priority: {"resolution": "P30D"} for priority in PRIORITIES},
        # Seed 000 §4(3): weekly minutes within hours, monthly within working days. In working time on
        # the policy's calendar: 4 hours of it for a weekly meeting; 16 hours, two 8-hour working
        # days, for a monthly one (without one, a meeting runs on the department's: policy_for_kind).
        Kind.MEETING: {MeetingType.WEEKLY: {MINUTES: "PT4H"}, MeetingType.MONTHLY: {MINUTES: "PT16H"}},
    },
}


# The department's working hours for a meeting's minutes when the policy sets no calendar: Monday to
# Friday (and make-up working days) 09:00–18:00, in CASEWORK_TIMEZONE, without its public holidays.
MEETING_WORKING_HOURS = {"workdays": "09:00-18:00"}


def department_calendar(timezone: str, holidays: HolidayCalendar) -> dict[str, Any]:
    """The department's working calendar as policy data (plain lists: it travels to workflows as JSON)."""
    return {
        "timezone": timezone,
        "hours": dict(MEETING_WORKING_HOURS),
        "holidays": sorted(day.isoformat() for day in holidays.holidays),
        "workdays": sorted(day.isoformat() for day in holidays.makeup_workdays),
    }


def policy_for_kind(data: dict[str, Any] | None, kind: str, meeting_calendar: dict[str, Any] | None) -> dict[str, Any] | None:
    """The policy data a new case of `kind` runs on: a meeting's minutes are due in working time, so
    a meeting (only: every other kind's deadlines stay as they were) gets the department's calendar
    when the policy has none. None stays the built-in default for every other kind."""
    if kind != Kind.MEETING or meeting_calendar is None or (data is not None and "calendar" in data):
        return data
    return {**(DEFAULT_POLICY_DATA if data is None else data), "calendar": meeting_calendar}


def with_department_calendar(data: dict[str, Any], timezone: str, holidays: HolidayCalendar) -> dict[str, Any]:
    """The policy's data, its calendar completed from the department's: a calendar without a time
    zone takes the department's; one that lists neither holidays nor make-up working days takes the
    department's holiday calendar (as plain lists: the data travels to workflows as JSON)."""
    calendar = data.get("calendar")
    if isinstance(calendar, dict):
        calendar = dict(calendar)
        calendar.setdefault("timezone", timezone)
        if "holidays" not in calendar and "workdays" not in calendar:
            calendar["holidays"] = sorted(day.isoformat() for day in holidays.holidays)
            calendar["workdays"] = sorted(day.isoformat() for day in holidays.makeup_workdays)
        data = {**data, "calendar": calendar}
    return data


def parse_policy(data: dict[str, Any]) -> ServiceLevelPolicy:
    unknown = set(data) - {"warn_at", "pause_in", "auto_escalate", "targets", "calendar"}
    if unknown:
        raise PolicyError(sorted(unknown)[0], "unknown key")
    warn_at = data.get("warn_at", 0.8)
    if isinstance(warn_at, bool) or not isinstance(warn_at, (int, float)) or not 0 < warn_at < 1:
        raise PolicyError("warn_at", "must be a number between 0 and 1")
    return ServiceLevelPolicy(
        warn_at=float(warn_at),
        pause_in=frozenset(_names(data.get("pause_in", [Phase.FOLLOW_UP]), "pause_in", OPEN_PHASES)),
        auto_escalate=frozenset(_names(data.get("auto_escalate", list(DEFAULT_AUTO_ESCALATE)), "auto_escalate", AUTO_ESCALATE_NAMES)),
        targets=_targets(data.get("targets", {})),
        calendar=_calendar(data["calendar"]) if "calendar" in data else None,
    )


def parse_duration(value: Any, key: str) -> float:
    if isinstance(value, bool):
        raise PolicyError(key, "must be seconds or an ISO 8601 duration like PT10M")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (match := ISO_DURATION.match(value)) and any(match.groups()):
        weeks, days, hours, minutes, secs = (float(part or 0) for part in match.groups())
        seconds = (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + secs
    else:
        raise PolicyError(key, f"must be seconds or an ISO 8601 duration like PT10M, not {value!r}")
    if seconds <= 0:
        raise PolicyError(key, "must be longer than zero")
    return seconds


def _names(values: Any, key: str, allowed) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise PolicyError(key, "must be a list of names")
    for value in values:
        if value not in allowed:
            raise PolicyError(key, f"{value!r} is not one of {', '.join(allowed)}")
    return values


def _targets(data: Any) -> dict[str, dict[str, dict[str, float]]]:
    if not isinstance(data, dict):
        raise PolicyError("targets", "must be a table")
    parsed: dict[str, dict[str, dict[str, float]]] = {}
    for kind, priorities in data.items():
        if kind not in KINDS:
            raise PolicyError(f"targets.{kind}", f"unknown kind; kinds: {', '.join(KINDS)}")
        if not isinstance(priorities, dict):
            raise PolicyError(f"targets.{kind}", "must be a table of priorities")
        tiers = MEETING_TYPES if kind == Kind.MEETING else PRIORITIES
        for priority, targets in priorities.items():
            key = f"targets.{kind}.{priority}"
            if priority not in tiers:
                what = "meeting type; meeting types" if kind == Kind.MEETING else "priority; priorities"
                raise PolicyError(key, f"unknown {what}: {', '.join(tiers)}")
            if not isinstance(targets, dict):
                raise PolicyError(key, "must be a table of targets")
            for name in targets:
                if name not in TARGET_NAMES:
                    raise PolicyError(f"{key}.{name}", f"unknown target; targets: {', '.join(TARGET_NAMES)}")
            parsed.setdefault(kind, {})[priority] = {name: parse_duration(value, f"{key}.{name}") for name, value in targets.items()}
    return parsed


def _calendar(data: Any) -> Calendar:
    if not isinstance(data, dict):
        raise PolicyError("calendar", "must be a table")
    zone = data.get("timezone")
    try:
        if not isinstance(zone, str):
            raise ValueError(zone)
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError("calendar.timezone", f"unknown time zone {zone!r}") from None
    hours = parse_shifts(data.get("hours"), "calendar.hours")
    return Calendar(zone, hours, parse_holiday_calendar(data.get("holidays", []), data.get("workdays", []), "calendar."))
