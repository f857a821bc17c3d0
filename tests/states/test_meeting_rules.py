"""The regular meeting (例会): its walk, the minutes' deadline in working time, and the host rotation."""

from datetime import UTC, date, datetime
from typing import Any

import pytest

from states import clocks
from states.case import Actor, Authority
from states.errors import ActionForbidden, ActionNotAllowed
from states.holidays import parse_holiday_calendar
from states.meeting_plan import (
    MeetingPlan,
    last_weekday_of_month,
    meeting_id,
    next_monthly,
    parse_meeting_plan,
    rotation_order,
    upcoming,
    weekly_days,
    weekly_host,
)
from states.policy_error import PolicyError
from states.sla_policy import DEFAULT_POLICY_DATA, department_calendar, parse_policy, policy_for_kind
from states.spec import Context
from states.vocabulary import MeetingType, RefusalCode
from tests.states._support import opened
from tests.support import AGENT, DUE, MINUTES, SUPERVISOR

BO = Actor("bo", "agent")
SHANGHAI = "Asia/Shanghai"
# Thursday 2026-10-01 is a holiday; Mon–Fri 09:00–18:00 in Shanghai otherwise.
CALENDAR_POLICY = parse_policy(
    {
        "targets": {"meeting": {"weekly": {"minutes": "PT4H"}, "monthly": {"minutes": "PT16H"}}},
        "calendar": {"timezone": SHANGHAI, "hours": {"workdays": "09:00-18:00"}, "holidays": ["2026-10-01"]},
    }
)


def meeting(meeting_type: str, held_at: str, policy=CALENDAR_POLICY):
    machine = opened("meeting", SUPERVISOR, Context(held_at), data={"meeting_type": meeting_type, "scheduled_at": held_at, "host": "sam"})
    clocks.start_cycle(machine.case, policy, held_at)
    event = machine.take("record_attendance", AGENT, {"attended": ["ann", "sam"]}, None, Context(held_at))
    clocks.after_event(machine.case, event, policy)
    return machine


def test_a_meeting_walks_from_scheduled_to_held_tasks_minutes_and_closed():
    machine = opened("meeting", SUPERVISOR, data={"meeting_type": "weekly", "scheduled_at": "2026-11-27T08:00:00Z"})
    ctx = Context("2026-11-27T09:00:00Z")
    steps: list[tuple[Actor, str, dict[str, Any] | None, str]] = [
        (AGENT, "record_attendance", {"attended": ["ann", "sam"], "absent": ["bo"]}, "analyse"),
        (AGENT, "add_action_item", {"title": "午间排班", "owner": "ann", "due": DUE}, "analyse"),
        (AGENT, "assign_tasks", None, "remediate"),
        (AGENT, "publish_minutes", MINUTES, "follow_up"),
    ]
    for actor, action, data, phase in steps:
        machine.take(action, actor, data, None, ctx)
        assert machine.case.state == phase
    assert machine.case.data["attended"] == ["ann", "sam"] and machine.case.data["minutes"]["decisions"] == MINUTES["decisions"]
    assert "decisions" not in machine.case.data and machine.case.data["minutes_published_at"] == ctx.now  # one `minutes` object
    # A task still open keeps the meeting open (it goes on the next agenda).
    with pytest.raises(ActionNotAllowed):
        machine.take("close", SUPERVISOR, None, None, ctx)
    machine.take("complete_action_item", AGENT, {"item_id": "item-1", "outcome": "done"}, None, ctx)
    machine.take("close", SUPERVISOR, None, None, ctx)
    assert machine.case.state == "closed"


def test_weekly_minutes_are_due_four_working_hours_after_the_meeting_across_the_night():
    # Held Friday 2026-11-27 16:00 Shanghai: 2 working hours that day, 2 more on Monday morning.
    machine = meeting("weekly", "2026-11-27T08:00:00Z")
    clock = machine.case.clocks["minutes"]
    assert clock["deadline"] == "2026-11-30T03:00:00.000000Z" and clock["rule"] == "targets.meeting.weekly.minutes"


def test_monthly_minutes_are_due_two_working_days_later_skipping_a_weekend_and_a_holiday():
    # Held Wednesday 2026-09-30 09:00 Shanghai: 9 working hours that day, Thursday is a holiday,
    # the other 7 on Friday: due Friday 16:00 Shanghai.
    machine = meeting("monthly", "2026-09-30T01:00:00Z")
    assert machine.case.clocks["minutes"]["deadline"] == "2026-10-02T08:00:00.000000Z"


def test_publishing_the_minutes_meets_their_clock_and_a_late_one_breaches():
    machine = meeting("weekly", "2026-11-27T08:00:00Z")
    ctx = Context("2026-11-27T09:00:00Z")
    for action, data in (("assign_tasks", None), ("publish_minutes", MINUTES)):
        clocks.after_event(machine.case, machine.take(action, AGENT, data, None, ctx), CALENDAR_POLICY)
    assert machine.case.clocks["minutes"]["state"] == "met"
    late = meeting("weekly", "2026-11-27T08:00:00Z")
    (breach,) = clocks.fire(late.case, "2026-11-30T03:00:00.000000Z")
    assert breach[1]["target"] == "minutes"


def test_the_default_policy_times_weekly_and_monthly_minutes():
    policy = parse_policy(DEFAULT_POLICY_DATA)
    assert policy.targets_for("meeting", "weekly", False) == {"minutes": 4 * 3600}
    assert policy.targets_for("meeting", "monthly", False) == {"minutes": 16 * 3600}


def test_a_meeting_policy_keyed_by_priority_is_refused_by_name():
    with pytest.raises(PolicyError) as refused:
        parse_policy({"targets": {"meeting": {"urgent": {"minutes": "PT1H"}}}})
    assert refused.value.key == "targets.meeting.urgent"


def test_rotation_skips_an_away_supervisor_and_keeps_the_order():
    order = ["sam", "sue", "tom"]
    days = [date(2026, 11, 27) + (date(2026, 12, 4) - date(2026, 11, 27)) * week for week in range(3)]
    moments = [datetime(day.year, day.month, day.day, 8, tzinfo=UTC) for day in days]
    plain = [str(weekly_host(order, day, moment, {})) for day, moment in zip(days, moments, strict=True)]
    assert sorted(plain) == order and len(set(plain)) == 3
    away: dict[str, tuple[datetime | None, datetime | None]] = {plain[0]: (datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC))}
    assert weekly_host(order, days[0], moments[0], away) == order[(order.index(plain[0]) + 1) % 3]
    # Back the week after: their turn comes round again as usual.
    assert weekly_host(order, days[1], moments[1], away) == plain[1]
    everyone: dict[str, tuple[datetime | None, datetime | None]] = {name: (datetime(2026, 1, 1, tzinfo=UTC), None) for name in order}
    assert weekly_host(order, days[0], moments[0], everyone) is None


def test_weekly_meetings_fall_on_the_configured_weekday_and_time_in_shanghai():
    plan = parse_meeting_plan({"weekly": {"weekday": "mon", "time": "09:30"}}, SHANGHAI)
    # Sunday 2026-11-29 23:00 UTC is already Monday 07:00 in Shanghai: that Monday's 09:30 is next.
    assert weekly_days(plan, datetime(2026, 11, 29, 23, tzinfo=UTC), 2) == [
        datetime(2026, 11, 30, 1, 30, tzinfo=UTC),
        datetime(2026, 12, 7, 1, 30, tzinfo=UTC),
    ]


def test_monthly_meetings_fall_on_the_weekday_of_the_months_last_week():
    assert last_weekday_of_month(2026, 12, 4) == date(2026, 12, 25)
    assert last_weekday_of_month(2027, 2, 0) == date(2027, 2, 22)
    plan = MeetingPlan(SHANGHAI)
    # Past December's: January's.
    assert next_monthly(plan, datetime(2026, 12, 26, tzinfo=UTC)) == datetime(2027, 1, 29, 6, tzinfo=UTC)


def test_upcoming_meetings_have_deterministic_ids_and_hosts():
    plan = parse_meeting_plan({"weekly": {"rotation": ["sue", "sam"]}, "monthly": {"place": "大会议室"}}, SHANGHAI)
    meetings = upcoming(plan, datetime(2026, 12, 3, tzinfo=UTC), 2, ["zed", "sam", "sue"], ["mia", "max"], {})
    assert [meeting.case_id for meeting in meetings] == ["meeting-weekly-2026-12-04", "meeting-weekly-2026-12-11", "meeting-monthly-2026-12"]
    assert {meeting.host for meeting in meetings} == {"sue", "sam", "max"}
    assert meetings[-1].place == "大会议室" and meetings[-1].meeting_type == MeetingType.MONTHLY
    assert meeting_id("weekly", date(2026, 12, 4)) == "meeting-weekly-2026-12-04"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"weekly": {"weekday": "friday"}}, "weekly.weekday"),
        ({"monthly": {"time": "25:00"}}, "monthly.time"),
        ({"weekly": {"rotation": ["a", "a"]}}, "weekly.rotation"),
        ({"yearly": {}}, "yearly"),
    ],
)
def test_a_bad_meetings_file_is_refused_by_key(data, key):
    with pytest.raises(PolicyError) as refused:
        parse_meeting_plan(data, SHANGHAI)
    assert refused.value.key == key


def test_among_agents_only_the_host_or_the_recorder_holds_the_meeting_and_publishes_the_minutes():
    def acting(actor):
        return Context("2026-11-27T09:00:00Z", authority=Authority(actor.name, ownership=False))

    machine = opened("meeting", SUPERVISOR, data={"meeting_type": "weekly", "host": "sam", "recorder": "bo"})
    with pytest.raises(ActionForbidden) as refused:
        machine.check("record_attendance", "agent", {"attended": ["ann"]}, acting(AGENT))  # ann neither hosts nor records
    assert refused.value.code == RefusalCode.NOT_YOUR_CASE
    machine.take("record_attendance", BO, {"attended": ["ann", "bo"]}, None, acting(BO))
    with pytest.raises(ActionForbidden):
        machine.check("assign_tasks", "agent", None, acting(AGENT))
    machine.take("assign_tasks", SUPERVISOR, None, None, acting(SUPERVISOR))  # supervisors always may
    with pytest.raises(ActionForbidden):
        machine.check("publish_minutes", "agent", MINUTES, acting(AGENT))
    machine.take("publish_minutes", BO, MINUTES, None, acting(BO))
    assert machine.case.state == "follow_up"


def test_a_configured_rotation_is_kept_as_written_among_the_enabled_supervisors():
    plan = parse_meeting_plan({"weekly": {"rotation": ["sue", "gone", "sam", "ann"]}}, SHANGHAI)
    # "gone" left and "ann" is no supervisor: the order is the configured one, filtered.
    assert rotation_order(plan, ["sam", "sue", "zed"]) == ["sue", "sam"]
    assert rotation_order(parse_meeting_plan({}, SHANGHAI), ["sue", "sam"]) == ["sam", "sue"]
    day = date(2026, 12, 4)
    moment = datetime(2026, 12, 4, 8, tzinfo=UTC)
    hosts = {meeting.host for meeting in upcoming(plan, moment, 4, ["sam", "sue"], ["mia"], {}) if meeting.meeting_type == MeetingType.WEEKLY}
    assert hosts == {"sam", "sue"} and weekly_host(rotation_order(plan, ["sam", "sue"]), day, moment, {}) in {"sam", "sue"}


def test_without_a_policy_calendar_a_meetings_minutes_run_on_the_departments_working_hours():
    # The department: Asia/Shanghai, Mon–Fri 09:00–18:00 (MEETING_WORKING_HOURS), 2026-10-01 a holiday.
    department = department_calendar(SHANGHAI, parse_holiday_calendar(["2026-10-01"], [], ""))
    data = policy_for_kind(None, "meeting", department)
    assert data is not None and data["calendar"] == department
    policy = parse_policy(data)
    # Friday 2026-11-27 16:00 Shanghai: 2 working hours that day, 2 on Monday: due Monday 11:00 Shanghai.
    machine = meeting("weekly", "2026-11-27T08:00:00Z", policy)
    assert machine.case.clocks["minutes"]["deadline"] == "2026-11-30T03:00:00.000000Z"
    # Other kinds keep their deadlines: the built-in policy (None) and a policy's own calendar stay as given.
    assert policy_for_kind(None, "complaint", department) is None
    own = {**DEFAULT_POLICY_DATA, "calendar": {"timezone": SHANGHAI, "hours": {"workdays": "08:00-20:00"}}}
    assert policy_for_kind(own, "meeting", department) is own
    assert parse_policy(DEFAULT_POLICY_DATA).add_working_time(datetime(2026, 11, 27, 8, tzinfo=UTC), 4 * 3600) == datetime(
        2026, 11, 27, 12, tzinfo=UTC
    )


def test_the_minutes_leave_the_planned_host_participants_and_agenda_in_place():
    planned = {
        "meeting_type": "weekly",
        "scheduled_at": "2026-11-27T08:00:00Z",
        "host": "sam",
        "participants": ["ann", "sam", "bo"],
        "agenda": "本周数据",
    }
    machine = opened("meeting", SUPERVISOR, data=planned)
    ctx = Context("2026-11-27T09:00:00Z")
    for action, data in (("record_attendance", {"attended": ["ann", "sam"]}), ("assign_tasks", None)):
        machine.take(action, AGENT, data, None, ctx)
    minutes = {**MINUTES, "host": "ann", "participants": ["ann"], "agenda": "临时议题"}
    machine.take("publish_minutes", AGENT, minutes, None, ctx)
    assert (machine.case.data["host"], machine.case.data["participants"], machine.case.data["agenda"]) == ("sam", ["ann", "sam", "bo"], "本周数据")
    assert machine.case.data["minutes"]["host"] == "ann" and machine.case.data["minutes"]["agenda"] == "临时议题"
