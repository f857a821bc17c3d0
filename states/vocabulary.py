"""The words Casework is built from, each spelled once: kinds, phases, roles, priorities, link
relations, teams' assignment methods and the events the case records by itself. Every other module
names them through these enums; their labels in Chinese and English live in the message catalogs
(api/locales/).

The values are wire names (JSON, Temporal payloads, database rows): never change one. A StrEnum
member is a `str` and equals its value, so stored rows and running workflows keep working.

One meaning per word in the code:
- a *phase* is where a case stands (`Phase`; on the wire the field is called `state`); the *case*
  is everything about it (`CaseState`);
- a *notice* is an event one case records because another told it (`SystemAction.INCIDENT_CLOSED`,
  workflows/follow_ons.py); a *message* is what a person is told (`MessageKind`), and a *delivery*
  is one message sent over one channel (`ChannelType`: a group chat robot, email, a webhook, the
  console's inbox);
- the *service-level policy* is the targets and calendar (states/sla_policy.py); the *workflow
  configuration* is how the service starts workflows (service/cases.py `WorkflowConfig`);
- *report* is the first phase and the opening event (`Report` is what the reporter said); a
  periodic KPI report is a *review* (service/reviews.py).
"""

from enum import StrEnum


class Kind(StrEnum):
    COMPLAINT = "complaint"
    FEEDBACK = "feedback"
    INCIDENT = "incident"  # an emergency meeting
    IMPROVEMENT_PLAN = "improvement_plan"
    MEETING = "meeting"  # a weekly or monthly meeting (例会: MeetingType)


class Phase(StrEnum):
    """Where a case stands in its process, in the order a case moves through them."""

    REPORT = "report"
    ANALYSE = "analyse"
    REMEDIATE = "remediate"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"


class Role(StrEnum):
    """The roles a user may hold (the directory, CASEWORK_USERS)."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    MANAGER = "manager"  # everything a supervisor may, across all teams, and the department's set-up
    QUALITY = "quality"  # samples handled cases and scores them on the scorecard; changes no case


# Who may do what supervisors do: supervisors within their teams, managers everywhere.
SUPERVISING_ROLES = (Role.SUPERVISOR, Role.MANAGER)

# The site of a department's head office (总部); other sites (remote, outsourced) are named freely.
HEAD_OFFICE = "head_office"


# Who acts when no person does (timers, automatic escalation): the actor's name, and the role the
# case rules see for it. No token may carry it.
SYSTEM = "system"


class Priority(StrEnum):
    """From least to most pressing: a VIP customer's case counts as the next one up."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Relation(StrEnum):
    """What the linked case is to this one (a case's `links`)."""

    ESCALATED_TO = "escalated_to"  # the incident this case was escalated into
    ESCALATED_FROM = "escalated_from"  # a case escalated into this incident
    DERIVED = "derived"  # a case opened from this one (an improvement plan from an incident)
    SOURCE = "source"  # the case this one was opened from


class AssignmentMethod(StrEnum):
    """How a team hands a newly routed case to one of its agents (states/routing.py)."""

    ROUND_ROBIN = "round_robin"
    LEAST_OPEN_CASES = "least_open_cases"
    NONE = "none"  # no agent: the case stays in the team's queue


class SystemAction(StrEnum):
    """Events a case records that no kind declares as an action."""

    REPORT = "report"  # the opening event: what the reporter said
    LINK = "link"  # another case linked itself to this one
    SLA_WARNING = "sla_warning"  # a service-level target is nearly due
    SLA_BREACHED = "sla_breached"  # a service-level target was missed
    ACTION_ITEM_DUE_SOON = "action_item_due_soon"  # an action item's deadline is near (the policy's warn_at)
    ACTION_ITEM_OVERDUE = "action_item_overdue"
    INCIDENT_CLOSED = "incident_closed"  # notice: the incident this case was escalated into closed
    DISPATCH = "dispatch"  # routing sent the new case to a team, and maybe to one of its agents


class DeadlineState(StrEnum):
    """How a service-level clock stands, as people see it (a running clock past its warning is due soon)."""

    RUNNING = "running"
    WARNING = "warning"
    PAUSED = "paused"
    BREACHED = "breached"
    MET = "met"


# The kinds a customer raises: their `category` is one of the case categories the KPIs group by.
CUSTOMER_KINDS = (Kind.COMPLAINT, Kind.FEEDBACK)
OPEN_PHASES = tuple(phase for phase in Phase if phase is not Phase.CLOSED)
TIMER_ACTIONS = (SystemAction.SLA_WARNING, SystemAction.SLA_BREACHED, SystemAction.ACTION_ITEM_DUE_SOON, SystemAction.ACTION_ITEM_OVERDUE)
# Events that inform rather than act: the phase stays, no person chose them.
NOTICE_ACTIONS = (*TIMER_ACTIONS, SystemAction.INCIDENT_CLOSED)


class RefusalCode(StrEnum):
    """Why a request was refused, machine-readable: every problem+json answer carries one as `code`
    next to its English `title`, so a client can show its own localised message."""

    MALFORMED_REQUEST = "malformed_request"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN_ROLE = "forbidden_role"
    UNKNOWN_CASE = "unknown_case"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNKNOWN_ACTION = "unknown_action"
    NOT_ALLOWED_IN_PHASE = "not_allowed_in_phase"
    GUARD_FAILED = "guard_failed"
    CLOSED_FOR_GOOD = "closed_for_good"
    STALE_VERSION = "stale_version"
    ALREADY_REPORTED = "already_reported"
    REFUSED = "refused"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    INVALID_TEXT = "invalid_text"  # a NUL or a lone surrogate: text the stores cannot hold (states/text.py)
    NOT_YOUR_CASE = "not_your_case"  # ownership: only the owner, the team's supervisors and managers move a case
    NOT_IN_TEAM = "not_in_team"  # claiming a case of a team one is not a member of
    NOT_STORABLE = "not_storable"  # the read model refused the change for good; nothing was changed
    BAD_CURSOR = "bad_cursor"
    PRECONDITION_FAILED = "precondition_failed"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    DEPENDENCY_DOWN = "dependency_down"
    INTERNAL_ERROR = "internal_error"


class AssessmentPart(StrEnum):
    """The parts an assessment (考核) combines by the policy's weights (states/assessment.py)."""

    KPI = "kpi"  # share of the KPI targets met
    QUALITY = "quality"  # mean quality-check score
    SATISFACTION = "satisfaction"  # customers' satisfied share
    SUPERVISOR = "supervisor"  # the supervisor's score (主管评分)
    SELF = "self"  # the agent's own (自评)
    PEERS = "peers"  # the mean of team-mates' scores (互评)


class AssessmentStatus(StrEnum):
    DRAFT = "draft"
    FINALISED = "finalised"  # final: nothing about it changes again


class Grade(StrEnum):
    EXCELLENT = "excellent"  # 优秀
    GOOD = "good"  # 良好
    PASS = "pass"  # 合格
    FAIL = "fail"  # 不合格


class AssessmentChange(StrEnum):
    """What its log records of an assessment: who did which, when."""

    MADE = "made"
    REFRESHED = "refreshed"
    SCORED = "scored"
    SELF_ASSESSED = "self_assessed"
    PEER_SCORED = "peer_scored"
    FINALISED = "finalised"
    COACHING_OPENED = "coaching_opened"


class MessageKind(StrEnum):
    """What a person may be told (消息): the rules of CASEWORK_NOTIFICATIONS name these, and each
    user turns each on or off for themselves."""

    ASSIGNED = "assigned"  # a case was given to me
    DUE_SOON = "due_soon"  # a service-level target is nearly due
    BREACHED = "breached"  # a service-level target was missed
    EMERGENCY_RAISED = "emergency_raised"  # an agent raised an emergency: supervisors take it
    ESCALATED = "escalated"  # a case was escalated into an emergency meeting
    ACTION_ITEM_DUE = "action_item_due"  # my action item (待办) is nearly due
    ACTION_ITEM_OVERDUE = "action_item_overdue"
    MEETING_SCHEDULED = "meeting_scheduled"  # a meeting I take part in was scheduled
    MINUTES_PUBLISHED = "minutes_published"  # a meeting's minutes (会议纪要) were published
    QUALITY_SCORED = "quality_scored"  # a quality check of my case was scored
    ASSESSMENT_READY = "assessment_ready"  # my assessment (考核) is ready
    ATTENDEE_NAMED = "attendee_named"  # I was named a meeting's host, recorder or participant
    ACTION_ITEM_ASSIGNED = "action_item_assigned"  # an action item (待办) was given to me


class ChannelType(StrEnum):
    """Where a message goes: CASEWORK_NOTIFICATIONS `[[channels]] type`, and the console's inbox."""

    WECOM = "wecom"  # 企业微信 group robot
    DINGTALK = "dingtalk"  # 钉钉 robot, signed
    FEISHU = "feishu"  # 飞书 robot, signed
    EMAIL = "email"  # SMTP with STARTTLS
    WEBHOOK = "webhook"  # a generic JSON POST, Standard Webhooks signed
    INBOX = "inbox"  # the console's inbox (站内信): always there


class DeliveryStatus(StrEnum):
    """How one attempt to deliver a message over one channel ended (the delivery log)."""

    DELIVERED = "delivered"
    FAILED = "failed"  # tried again later: a channel that is down delays, never loses, a message
    LOGGED = "logged"  # no channel configured: written to the log only
    SKIPPED = "skipped"  # the recipient turned this kind of message off, or has no address there


class MeetingType(StrEnum):
    """The regular meetings (例会) of seed 000; the ad-hoc emergency meeting is its own kind."""

    WEEKLY = "weekly"  # 周例会: a fixed weekday, hosted in rotation by the supervisors
    MONTHLY = "monthly"  # 月例会: the month's last week, hosted by the manager
