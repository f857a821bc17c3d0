"""Weekly and monthly meetings (例会, seed 000 §2–§4): scheduled and prepared, held, tasks assigned,
minutes published, tasks followed.

A meeting closes only when every task (action item) it assigned is done: until then it stays in
follow_up, its open tasks keep their deadlines (an overdue one is a breach), and the next meeting's
agenda lists them (service/meetings.py), so tasks are followed up at the next meeting (seed 000 §3(1)3).
"""

from typing import Any

from states.case import CaseState
from states.common import (
    ATTENDEE_FIELDS,
    MINUTES_FIELDS,
    MINUTES_PREFILL,
    NO_OPEN_ACTION_ITEM,
    SHARED_ACTIONS,
    action_item_actions,
    publish_minutes,
)
from states.spec import SUPERVISOR, USER, Action, Context, Field, KindSpec
from states.vocabulary import OPEN_PHASES, SYSTEM, Kind, MeetingType, MessageKind, Phase

MEETING_TYPES = tuple(MeetingType)
# The target the minutes' clock is kept under (states/clocks.py): met by `publish_minutes`.
MINUTES_TARGET = "minutes"
# Among agents, only the meeting's host or recorder holds it, assigns its tasks and publishes its
# minutes (as for an emergency meeting, states/incident.py); supervisors and managers always may.
HOST_OR_RECORDER = ("host", "recorder")


def _change_host(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """The new host hosts and owns the meeting; the event keeps who was planned."""
    previous = case.data.get("host")
    case.data["host"] = case.owner = data["host"]
    return {**data, "previous_host": previous, "owner": case.owner}


# The daily run keeps a meeting not yet held current (service/meetings.py): its agenda's figures, and
# its host when the planned one is away on its day. The system's own actions, recorded in the history.
REFRESH_AGENDA = Action(
    "refresh_agenda",
    (Phase.REPORT,),
    roles=(SYSTEM,),
    description="the daily run brings the agenda's review figures (data.review) and open tasks up to date",
)
CHANGE_HOST = Action(
    "change_host",
    (Phase.REPORT,),
    roles=(SYSTEM,),
    fields=(Field("host", max_length=200, names=USER), Field("reason", required=False, max_length=500)),
    effect=_change_host,
    adds=frozenset({"previous_host", "owner"}),
    message=MessageKind.MEETING_SCHEDULED,
    description="the planned host is away on the meeting's day: the next in the rotation hosts it; the participants are told",
)

MEETING = KindSpec(
    kind=Kind.MEETING,
    description="a weekly or monthly meeting: agenda from the period's review, attendance, tasks, minutes",
    create_roles=SUPERVISOR,
    report_message=MessageKind.MEETING_SCHEDULED,
    routed=False,
    report_fields=(
        # Optional: a supervisor's ad-hoc meeting may leave them out (its minutes are timed as a weekly one's).
        Field("meeting_type", required=False, choices=MEETING_TYPES),
        Field("scheduled_at", "datetime", required=False),
        Field("place", required=False, max_length=500),
        *ATTENDEE_FIELDS,
        # The items to discuss, as text; the review's figures travel with it under `review` (numbers and case ids).
        Field("agenda", required=False),
    ),
    actions=(
        Action(
            "record_attendance",
            (Phase.REPORT,),
            Phase.ANALYSE,
            fields=(
                Field("attended", "string_list", max_length=200, names=USER),
                Field("absent", "string_list", required=False, max_length=200, names=USER),
            ),
            attendees_only=HOST_OR_RECORDER,
            description="the meeting is held: who attended and who was absent; the minutes' deadline starts",
        ),
        *action_item_actions((Phase.ANALYSE, Phase.REMEDIATE, Phase.FOLLOW_UP)),
        Action(
            "assign_tasks",
            (Phase.ANALYSE,),
            Phase.REMEDIATE,
            attendees_only=HOST_OR_RECORDER,
            description="the tasks decided are assigned (action items with owner and due); a meeting without tasks moves on too",
        ),
        Action(
            "publish_minutes",
            (Phase.REMEDIATE,),
            Phase.FOLLOW_UP,
            fields=MINUTES_FIELDS,
            effect=publish_minutes,  # one `minutes` object; the planned agenda, host and participants stay
            prefill=MINUTES_PREFILL,  # the form starts from the plan
            message=MessageKind.MINUTES_PUBLISHED,
            meets_target=MINUTES_TARGET,
            attendees_only=HOST_OR_RECORDER,
            description="the recorder publishes the minutes in the one format of seed 000 §4(2)",
        ),
        Action(
            "close",
            (Phase.FOLLOW_UP,),
            Phase.CLOSED,
            roles=SUPERVISOR,
            guards=(NO_OPEN_ACTION_ITEM,),
            description="every task is done; until then the meeting stays open and its tasks go on the next agenda",
        ),
        Action(
            "set_attendees",
            OPEN_PHASES,
            roles=SUPERVISOR,
            fields=ATTENDEE_FIELDS,
            message=MessageKind.ATTENDEE_NAMED,
            description="set or change the host, recorder and participants",
        ),
        REFRESH_AGENDA,
        CHANGE_HOST,
        *SHARED_ACTIONS,
    ),
)
