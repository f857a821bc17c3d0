"""Who may take an action on this case, beyond their role: the department's teams and its
first-contact ownership rule (seed 003: the agent who first takes a case owns it to the end).

- A claim takes an unowned case of one's own team (a supervisor may claim in the teams they lead).
- With the ownership rule on, only a customer case's owner, the supervisors of its team and managers
  take an action declared `owners_only`; anyone may comment. Emergency meetings and improvement
  plans are the team's work, run by supervisors with every participant recording causes and
  action items: the rule is about the customer's case, not them. A case in no team is any supervisor's, and
  while it has no owner either, anyone's (a department without teams works as before).
- Managers may do everything everywhere; timers and other system actions are not people and pass.
"""

from __future__ import annotations

from typing import Any

from states.case import Authority, CaseState
from states.errors import ActionForbidden
from states.spec import Action
from states.vocabulary import CUSTOMER_KINDS, RefusalCode, Role


def refusal(case: CaseState, action: Action, role: str, authority: Authority | None) -> ActionForbidden | None:
    """Why this person may not take `action` on `case` now, or None when they may."""
    if action.claims and authority is None:
        return _refused(action, role, "only a person can claim a case", RefusalCode.NOT_IN_TEAM)
    if action.by_person and authority is None:
        return _refused(action, role, "only a person the directory knows can take this", RefusalCode.NOT_IN_TEAM)
    if authority is None or role == Role.MANAGER:
        return None
    if not named_for(action, case.data, role, authority.name):
        named = " or ".join(action.attendees_only)
        return _refused(action, role, f"only the meeting's {named} or a supervisor may take this", RefusalCode.NOT_YOUR_CASE)
    if action.claims:
        if case.team is not None and case.team in authority.teams:
            return None
        where = f"team {case.team!r}" if case.team else "no team"
        return _refused(action, role, f"this case is in {where}: only members of its team may claim it", RefusalCode.NOT_IN_TEAM)
    if not authority.ownership or case.kind not in CUSTOMER_KINDS or not action.owners_only or case.owner == authority.name:
        return None
    if role == Role.SUPERVISOR and (case.team is None or case.team in authority.leads):
        return None
    if case.owner is None and case.team is None:
        return None
    if case.owner is None:
        reason = f"this case waits in team {case.team!r}'s queue: claim it first"
    else:
        reason = f"this case is {case.owner}'s: only its owner, the supervisors of its team and managers may move it; others may comment"
    return _refused(action, role, reason, RefusalCode.NOT_YOUR_CASE)


def named_for(action: Action, data: dict[str, Any], role: str, name: str) -> bool:
    """Whether the case's data names this agent as one who may take the action (a meeting's host or
    recorder); true for everyone else, and for actions open to all the role's members."""
    return not action.attendees_only or role != Role.AGENT or name in {data.get(key) for key in action.attendees_only}


def _refused(action: Action, role: str, reason: str, code: str) -> ActionForbidden:
    return ActionForbidden(action.name, role, [], reason, code)
