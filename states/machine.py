"""Runs a kind's declared actions on one case with the `transitions` library.

The kinds are data (states/complaint.py and its siblings); this module turns each kind's data into
one `transitions.Machine`, built once and shared by every case of the kind, asks it which actions
are possible, fires them, and applies what each action records on the case. Nothing here does I/O or
reads a clock: the caller passes the time in `Context`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from transitions import EventData, Machine

from states import ownership, service_times
from states.case import Actor, CaseState, Event
from states.chain import GENESIS, seal
from states.complaint import COMPLAINT
from states.errors import ActionForbidden, ActionNotAllowed, InvalidData, StaleVersion, UnknownAction
from states.feedback import FEEDBACK
from states.improvement_plan import IMPROVEMENT_PLAN
from states.incident import INCIDENT
from states.meeting import MEETING
from states.spec import PHASES, ROLES, Action, Context, KindSpec, clean_data
from states.vocabulary import SYSTEM, TIMER_ACTIONS, Phase, RefusalCode, SystemAction

# transitions logs every transition at INFO, which Temporal replays would repeat.
logging.getLogger("transitions").setLevel(logging.WARNING)

SPECS: dict[str, KindSpec] = {spec.kind: spec for spec in (COMPLAINT, FEEDBACK, INCIDENT, IMPROVEMENT_PLAN, MEETING)}
KINDS = list(SPECS)
# The actions whose closing counts as dismissed, not resolved, in the KPIs.
DISMISSING_ACTIONS = tuple(sorted({action.name for spec in SPECS.values() for action in spec.actions if action.dismisses}))


def spec_for(kind: str) -> KindSpec:
    try:
        return SPECS[kind]
    except KeyError:
        raise InvalidData("kind", f"must be one of: {', '.join(KINDS)}") from None


def declared_action(kind: str, action: str) -> Action | None:
    return SPECS[kind].by_name.get(action) if kind in SPECS else None


def declarations(action: str) -> list[Action]:
    """Every kind's declaration of the action named: for callers that do not know the case's kind."""
    return [spec.by_name[action] for spec in SPECS.values() if action in spec.by_name]


def notifies(kind: str, action: str) -> bool:
    """Whether an event goes to the webhook: timers always, actions as declared."""
    declared = declared_action(kind, action)
    return action in TIMER_ACTIONS or (declared is not None and declared.notifies)


def _guard_condition(guard) -> Callable:
    return lambda event: guard.check(event.model, event.kwargs["ctx"])


def _branch_condition(field: str, value: bool) -> Callable:
    # Without data (asking which actions are possible) every branch is open.
    def condition(event) -> bool:
        data = event.kwargs.get("data")
        return data is None or data.get(field) is value

    return condition


def _machine_transitions(spec: KindSpec) -> list[dict[str, Any]]:
    declared = []
    for action in spec.actions:
        guards = [_guard_condition(guard) for guard in action.guards]
        # Plain strings: `transitions` would name an Enum phase by its member name.
        source = [str(phase) for phase in action.source]
        if action.branch is None:
            dest = None if action.dest is None else str(action.dest)
            declared.append({"trigger": action.name, "source": source, "dest": dest, "conditions": guards})
            continue
        for dest, value in ((action.branch.when_true, True), (action.branch.when_false, False)):
            conditions = [*guards, _branch_condition(action.branch.field, value)]
            declared.append({"trigger": action.name, "source": source, "dest": str(dest), "conditions": conditions})
    return declared


class KindMachine:
    """A kind's machine, built once: the case it runs on is passed in, and is the model `transitions`
    drives (its `state` field is the phase). Building a `Machine` per case cost more than the action
    itself, and `Machine`'s own `may_<trigger>` scans every trigger of the kind on each question."""

    def __init__(self, spec: KindSpec):
        self._machine = Machine(
            model=None,
            states=[str(phase) for phase in PHASES],
            transitions=_machine_transitions(spec),
            initial=str(Phase.REPORT),
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )

    def may(self, case: CaseState, action: str, ctx: Context) -> bool:
        """Whether the case may take the action now, whatever its data (every branch is open)."""
        event = self._machine.events.get(action)
        candidates = event.transitions.get(case.state) if event is not None else None
        if not candidates:
            return False
        asked = EventData(self._machine.get_state(case.state), event, self._machine, case, args=(), kwargs={"ctx": ctx})
        return any(all(condition.check(asked) for condition in transition.conditions) for transition in candidates)

    def fire(self, case: CaseState, action: str, ctx: Context, data: dict[str, Any]) -> None:
        """Move the case's phase as the action's transition (or branch) says."""
        self._machine.events[action].trigger(case, ctx=ctx, data=data)


MACHINES = {kind: KindMachine(spec) for kind, spec in SPECS.items()}


class CaseMachine:
    """One case bound to its kind's machine: which actions are possible, and what taking one does."""

    def __init__(self, case: CaseState):
        self.case = case
        self.spec = spec_for(case.kind)
        self._machine = MACHINES[case.kind]

    def allowed_actions(self, role: str, ctx: Context) -> list[str]:
        return [action.name for action in self.spec.actions if role in action.roles and self._machine.may(self.case, action.name, ctx)]

    def check(self, action: str, role: str, data: dict[str, Any] | None, ctx: Context, expected_version: int | None = None) -> dict[str, Any]:
        """Refuse an action the rules forbid; return its data cleaned. Changes nothing."""
        declared = self.spec.by_name.get(action)
        if declared is None:
            raise UnknownAction(self.case.kind, action, list(self.spec.by_name))
        if role not in declared.roles:
            raise ActionForbidden(action, role, list(declared.roles))
        if expected_version is not None and expected_version != self.case.version:
            raise StaleVersion(expected_version, self.case.version)
        if not self._machine.may(self.case, action, ctx):
            raise ActionNotAllowed(action, self.case.state, self.allowed_actions(role, ctx), *self._refusal(declared, ctx))
        forbidden = ownership.refusal(self.case, declared, role, ctx.authority)
        if forbidden is not None:
            raise forbidden
        cleaned = clean_data(declared.fields, data, reserved=self.spec.reserved_keys)
        if declared.prepare is None:
            return cleaned
        try:
            return declared.prepare(self.case, cleaned)
        except ActionNotAllowed as refused:
            raise ActionNotAllowed(action, self.case.state, self.allowed_actions(role, ctx), str(refused), refused.code) from None

    def take(
        self,
        action: str,
        actor: Actor,
        data: dict[str, Any] | None,
        note: str | None,
        ctx: Context,
        expected_version: int | None = None,
    ) -> Event:
        """Check and take an action: move the phase, record its data, return the event."""
        cleaned = self.check(action, actor.role or actor.name, data, ctx, expected_version)
        from_state = self.case.state
        self._machine.fire(self.case, action, ctx, cleaned)
        declared = self.spec.by_name[action]
        if declared.opens:
            opens = declared.opens
            _add_link(self.case, cleaned.get(opens.id_field), opens.relation, f"data.{opens.id_field}")
        first_response = declared.first_response and self.case.first_response_at is None
        if first_response:
            self.case.first_response_at = ctx.now
        recorded = declared.effect(self.case, cleaned, ctx)
        service_times.after_action(self.case, declared, cleaned, first_response, ctx.now)
        if ctx.measured:
            self.case.data.update(ctx.measured)
            recorded = {**recorded, **ctx.measured}
        return self._record(action, from_state, actor, note, recorded, ctx)

    def restore(self, before: CaseState) -> None:
        """Take back what was taken since `before` (a copy of this case then), in place: whoever holds
        the case sees it as it was."""
        for item in fields(CaseState):
            setattr(self.case, item.name, getattr(before, item.name))

    def link(self, other_case_id: str, relation: str, actor: Actor, ctx: Context) -> Event:
        link = {"case_id": other_case_id, "relation": relation}
        if link not in self.case.links:
            self.case.links.append(link)
        return self._record(SystemAction.LINK, self.case.state, actor, None, dict(link), ctx)

    def record_notice(self, action: str, data: dict[str, Any], ctx: Context, actor: Actor | None = None) -> Event:
        """An event that informs rather than acts (a timer firing, a linked meeting closing); the phase stays."""
        return self._record(action, self.case.state, actor or Actor(SYSTEM), None, data, ctx)

    def dispatch(self, team: str | None, owner: str | None, decision: dict[str, Any], ctx: Context) -> Event:
        """Routing's decision for the new case: its team and owner (None: it waits in the team's queue)."""
        self.case.team, self.case.owner = team, owner
        return self._record(SystemAction.DISPATCH, self.case.state, Actor(SYSTEM), None, {**decision, "team": team, "owner": owner}, ctx)

    def record_opening(self, actor: Actor, data: dict[str, Any], ctx: Context) -> Event:
        self.refresh_allowed_actions(ctx)
        return self._seal(Event(1, self.case.id, SystemAction.REPORT, None, self.case.state, actor, ctx.now, None, data, ctx.request_id))

    def refresh_allowed_actions(self, ctx: Context) -> None:
        # Each action asked once, not once per role that may take it.
        possible = {action.name for action in self.spec.actions if self._machine.may(self.case, action.name, ctx)}
        self.case.allowed_actions = {
            role: [action.name for action in self.spec.actions if role in action.roles and action.name in possible] for role in ROLES
        }

    def _record(self, action: str, from_state: str, actor: Actor, note: str | None, data: dict[str, Any], ctx: Context) -> Event:
        case = self.case
        if case.state == Phase.CLOSED and from_state != Phase.CLOSED:
            case.closed_at, case.closed_by = ctx.now, action
        elif from_state == Phase.CLOSED and case.state != Phase.CLOSED:
            case.closed_at, case.closed_by = None, None
        case.version += 1
        case.updated_at = ctx.now
        self.refresh_allowed_actions(ctx)
        return self._seal(Event(case.version, case.id, action, from_state, case.state, actor, ctx.now, note, data, ctx.request_id))

    def _seal(self, event: Event) -> Event:
        seal(event, self.case.last_hash or GENESIS)
        self.case.last_hash = event.hash
        return event

    def _refusal(self, action: Action, ctx: Context) -> tuple[str, str]:
        """Why the action is refused, and the refusal's code."""
        if self.case.state not in action.source:
            return f"{action.name!r} is not possible in state {str(self.case.state)!r}", RefusalCode.NOT_ALLOWED_IN_PHASE
        failing = [guard for guard in action.guards if not guard.check(self.case, ctx)]
        reason = "; ".join(f"needs: {guard.description}" for guard in failing) or f"{action.name!r} is not possible now"
        return reason, RefusalCode.GUARD_FAILED


def _add_link(case: CaseState, other_case_id: str | None, relation: str, field: str) -> None:
    if not other_case_id:
        # The workflow names the case it opens before taking the action; only a direct caller lacks it.
        raise InvalidData(field, "must name the case this action links to")
    link = {"case_id": other_case_id, "relation": relation}
    if link not in case.links:
        case.links.append(link)


def describe(kind: str) -> dict[str, Any]:
    """The machine as data, with a Mermaid diagram drawn from the same declaration."""
    spec = spec_for(kind)
    return {
        "kind": kind,
        "description": spec.description,
        "states": list(PHASES),
        "initial": Phase.REPORT,
        "create_roles": list(spec.create_roles),
        "report_fields": [field.describe() for field in spec.report_fields],
        "actions": [_describe_action(action) for action in spec.actions],
        "mermaid": _mermaid(spec),
    }


def _describe_action(action: Action) -> dict[str, Any]:
    described: dict[str, Any] = {
        "name": action.name,
        "from": list(action.source),
        "to": action.dest,
        "roles": list(action.roles),
        "fields": [field.describe() for field in action.fields],
        "guards": [{"name": guard.name, "description": guard.description} for guard in action.guards],
        "description": action.description,
    }
    if action.branch:
        branch = action.branch
        described["to"] = None
        described["branch"] = {"field": branch.field, "true": branch.when_true, "false": branch.when_false}
    return described


def _mermaid(spec: KindSpec) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {Phase.REPORT}"]
    for action in spec.actions:
        for source in action.source:
            if action.branch:
                branch = action.branch
                lines.append(f"    {source} --> {branch.when_true}: {action.name} [{branch.field}]")
                lines.append(f"    {source} --> {branch.when_false}: {action.name} [not {branch.field}]")
            else:
                guards = f" [{', '.join(guard.name for guard in action.guards)}]" if action.guards else ""
                lines.append(f"    {source} --> {action.dest or source}: {action.name}{guards}")
    lines.append(f"    {Phase.CLOSED} --> [*]")
    return "\n".join(lines)
