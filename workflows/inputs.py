"""What the case workflow, its updates and its activity take: one dataclass each, fields added later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from states.case import Actor, CaseState, Event
from states.opening import Report

TASK_QUEUE = "casework"


@dataclass
class CaseWorkflowInput:
    case_id: str
    kind: str
    reopen_window_seconds: int = 30 * 24 * 3600
    events_per_run: int = 500
    # The service-level policy as plain data (see states/sla_policy.py); None: the built-in default.
    sla_policy: dict[str, Any] | None = None
    # Carried across continue-as-new; None on the first run.
    snapshot: CaseState | None = None


@dataclass
class ReportInput:
    report: Report
    actor: Actor
    source_case_id: str | None = None
    request_id: str | None = None


@dataclass
class ActInput:
    action: str
    actor: Actor
    note: str | None = None
    data: dict[str, Any] | None = None
    expected_version: int | None = None
    request_id: str | None = None


@dataclass
class LinkInput:
    case_id: str
    relation: str
    actor: Actor
    request_id: str | None = None


@dataclass
class ProjectInput:
    case: CaseState
    event: Event
