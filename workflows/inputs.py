"""What the case workflow, its updates and its activity take: one dataclass each, fields added later."""

# No `from __future__ import annotations` here: Temporal's payload converter evaluates these dataclasses'
# type hints on every decode, and evaluating string hints cost twice the time (docs/benchmarks.md).

from dataclasses import dataclass
from typing import Any

from states.case import Actor, Authority, CaseState, Event, Report
from states.vocabulary import Relation

TASK_QUEUE = "casework"


@dataclass
class Dispatch:
    """Routing's decision for a new case (service/dispatch.py): recorded as its `dispatch` event."""

    team: str | None
    owner: str | None
    rule: int | None
    reason: str
    method: str | None = None
    # The team's own service-level policy (plain data, as CaseWorkflowInput.sla_policy); None: the department's.
    sla_policy: dict[str, Any] | None = None


@dataclass
class ReportInput:
    report: Report
    actor: Actor
    source_case_id: str | None = None
    request_id: str | None = None
    # What the source is to the new case, and whether the new case asks the source to link back
    # (a case opened by another case's action is linked by that action's own event instead).
    source_relation: str = Relation.SOURCE
    link_back: bool = True
    # KPI figures the service measured for the report (an improvement plan's baseline).
    measured: dict[str, Any] | None = None
    # Since v12: the service routed the new case before reporting it (`dispatch`: routing's decision,
    # None if there is nothing to record), so its validator writes the report ahead (workflows/write_ahead.py).
    routed: bool = False
    dispatch: Dispatch | None = None


# The case workflow's code a run begins on (CaseWorkflowInput.code_version; CaseWorkflow._v10): a run
# begun on v10 or later takes every change up to its version without asking for a patch marker.
CASE_CODE_VERSION = 12


@dataclass
class CaseWorkflowInput:
    case_id: str
    kind: str
    reopen_window_seconds: int = 30 * 24 * 3600
    events_per_run: int = 500
    # The service-level policy as plain data (see states/sla_policy.py); None: the built-in default.
    sla_policy: dict[str, Any] | None = None
    # Storm control (CASEWORK_ESCALATION_WINDOW): a breach joins the incident automatic escalation opened
    # for the same cause within this many seconds, instead of opening another (workflows/storms.py).
    escalation_window_seconds: float = 3600.0
    # A case opened by another case's workflow (escalation, improvement plan) reports itself with this.
    opening: ReportInput | None = None
    # Carried across continue-as-new; None on the first run.
    snapshot: CaseState | None = None
    # An incident storm control opened: the cause whose storm workflow it tells when it closes.
    storm_cause: str | None = None
    # CASE_CODE_VERSION when the run was started (or continued as new) by v10 code or later; 0 before.
    code_version: int = 0


@dataclass
class ActInput:
    action: str
    actor: Actor
    note: str | None = None
    data: dict[str, Any] | None = None
    expected_version: int | None = None
    request_id: str | None = None
    # KPI figures the service measured for this action (an improvement plan's after-value).
    measured: dict[str, Any] | None = None
    # Who acts, as the directory knows them: the ownership and team rules check it (states/ownership.py).
    authority: Authority | None = None


@dataclass
class LinkInput:
    case_id: str
    relation: str
    actor: Actor
    request_id: str | None = None


@dataclass
class NoticeInput:
    """Another case tells this one something it records (an incident it was escalated to closed)."""

    action: str
    data: dict[str, Any]
    actor: Actor
    request_id: str | None = None


@dataclass
class DispatchInput:
    case: CaseState


@dataclass
class NotificationInput:
    event: Event
    case_title: str
    case_kind: str
    case_priority: str


@dataclass
class ProjectInput:
    case: CaseState
    event: Event
    # Whether a row the read model refuses for good is tried again (an event the workflow cannot take
    # back: a timer's, a link's, a notice's) rather than failing the update that took it, which is undone.
    # False for inputs recorded before it existed: an update wedged by a refused row is released.
    retry_refused: bool = False
    # The workflow task's fence (workflows/activities.py `projection_fence`); None: written by a regular
    # activity, which only a completed task schedules (histories from before "project-locally").
    fence: str | None = None


@dataclass
class StormInput:
    """One cause's storm-control workflow: the window within which breaches join its incident."""

    cause: str
    window_seconds: float


@dataclass
class JoinStormInput:
    """A case whose breach escalates it by itself, asking the storm-control workflow of its cause which
    incident to join. Carries what opening a new incident takes (the case's own workflow settings)."""

    cause: str
    case_id: str
    report: Report
    window_seconds: float
    reopen_window_seconds: int
    events_per_run: int
    sla_policy: dict[str, Any] | None
    request_id: str


@dataclass
class JoinedStorm:
    incident_id: str
    # True: the incident was opened for this case and is already linked to it; False: join it (link).
    opened: bool
