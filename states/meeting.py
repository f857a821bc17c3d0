"""Weekly and monthly meetings (例会, seed 000 §2–§4): scheduled and prepared, held, tasks assigned,
minutes published, tasks followed.

A meeting closes only when every task (action item) it assigned is done: until then it stays in
follow_up, its open tasks keep their deadlines (an overdue one is a breach), and the next meeting's
agenda lists them (service/meetings.py), so tasks are followed up at the next meeting (seed 000 §3(1)3).
"""

from states.common import (
    ATTENDEE_FIELDS,
    MINUTES_FIELDS,
    MINUTES_PREFILL,
    NO_OPEN_ACTION_ITEM,
    SHARED_ACTIONS,
    action_item_actions,
    publish_minutes,
)
from states.spec import SUPERVISOR, Action, Field, KindSpec
from states.vocabulary import OPEN_PHASES, Kind, MeetingType, MessageKind, Phase

MEETING_TYPES = tuple(MeetingType)
# The target the minutes' clock is kept under (states/clocks.py): met by `publish_minutes`.
MINUTES_TARGET = "minutes"

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
            fields=(Field("attended", "string_list", max_length=200), Field("absent", "string_list", required=False, max_length=200)),
            description="the meeting is held: who attended and who was absent; the minutes' deadline starts",
        ),
        *action_item_actions((Phase.ANALYSE, Phase.REMEDIATE, Phase.FOLLOW_UP)),
        Action(
            "assign_tasks",
            (Phase.ANALYSE,),
            Phase.REMEDIATE,
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
            description="set or change the host, recorder and participants",
        ),
        *SHARED_ACTIONS,
    ),
)
