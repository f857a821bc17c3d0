"""What the KPIs measure of a case as it moves (docs/kpis.md): the time it spent waiting for the
customer, and every response to the customer with the time it took.

Kept on the case as it goes, so the read model needs nothing but the case; a workflow replaying its
history computes them again, which is how `casework reconcile` fills them in for older cases.

- **Waiting for the customer**: the wall-clock time spent in the service-level policy's pause phases
  (`pause_in`, by default follow_up), where the resolution clock stops too.
- **Customer contacts**: the report, a reopen, an unsatisfied verdict (the actions' `customer_contact`).
- **Responses**: the first response (an action declared `first_response`, when none came before) and
  every `comment` flagged `reply` by a person. A response answers the contacts waiting for one and is
  measured from the earliest of them; a reply when no contact is waiting answers nothing and is not
  counted.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from states.case import CaseState, Event, parse_time
from states.spec import Action

REPLY = "reply"


def contact_opened(case: CaseState, now: str) -> None:
    """The customer reached us (the report): a response is owed from now."""
    if case.awaiting_response_since is None:
        case.awaiting_response_since = now


def after_action(case: CaseState, declared: Action, data: dict[str, Any], first_response: bool, now: str) -> None:
    """Count a response the action gives, or open the contact it records."""
    responds = first_response or (declared.replies and data.get(REPLY) is True)
    if responds and case.awaiting_response_since is not None:
        case.responses += 1
        case.response_seconds += _seconds(case.awaiting_response_since, now)
        case.awaiting_response_since = None
    if declared.customer_contact is not None and declared.customer_contact(data):
        contact_opened(case, now)


def after_phase_change(case: CaseState, event: Event, pause_in: Collection[str]) -> None:
    """Start or stop the time waiting for the customer as the case enters or leaves a pause phase."""
    if event.from_state == event.to_state:
        return
    if event.to_state in pause_in and case.paused_since is None:
        case.paused_since = event.at
    elif event.to_state not in pause_in and case.paused_since is not None:
        case.paused_seconds += _seconds(case.paused_since, event.at)
        case.paused_since = None


def handling_seconds(case: CaseState) -> float | None:
    """Report to (last) close, less the time spent waiting for the customer; None while open."""
    if case.closed_at is None:
        return None
    return _seconds(case.created_at, case.closed_at) - case.paused_seconds


def _seconds(start: str, end: str) -> float:
    return (parse_time(end) - parse_time(start)).total_seconds()
