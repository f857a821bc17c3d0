"""Service-level clocks on a case: which run, when they warn and breach, what they record.

A clock per target (first_response, resolution, and a phase's own limit) keeps the working time
it has used; its deadline is where the rest of its budget runs out on the policy's calendar.
Timers in the workflow wake at `next_due`; `fire` says which events are due then, once each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from states import service_times
from states.case import CaseState, Event, format_time, parse_time
from states.machine import declared_action, spec_for
from states.sla_policy import MINUTES, VIP, ServiceLevelPolicy
from states.spec import ClockChange
from states.vocabulary import DeadlineState, Kind, MeetingType, Phase, SystemAction


def taken_on_breach(case: CaseState, policy: ServiceLevelPolicy, breached_target: str, vip_by_policy: bool = True) -> str | None:
    """The action the system takes by itself when `breached_target` is missed (a first-response
    breach escalates a complaint into an incident), for the policy's `auto_escalate` priorities, and
    for VIP customers when it lists `vip` (no hidden rule: the policy decides). `vip_by_policy=False`
    is the rule cases recorded before v7 run on: a VIP customer's case escalates whatever the policy."""
    vip = bool((case.customer or {}).get("vip"))
    if not (case.priority in policy.auto_escalate or (vip and (VIP in policy.auto_escalate or not vip_by_policy))):
        return None
    return next((action.name for action in spec_for(case.kind).actions if action.taken_on_breach == breached_target), None)


def vip_rule_matters(case: CaseState, policy: ServiceLevelPolicy) -> bool:
    """Whether the two VIP rules (before v7: VIPs always escalate; since: as the policy says) decide
    differently for this case: a VIP customer's case whose priority the policy does not list, under a
    policy that does not list `vip`."""
    vip = bool((case.customer or {}).get("vip"))
    return vip and case.priority not in policy.auto_escalate and VIP not in policy.auto_escalate


def start_cycle(case: CaseState, policy: ServiceLevelPolicy, now: str) -> None:
    """Start every clock the case's kind and priority have a target for (at report and reopen)."""
    case.sla_cycle += 1
    case.clocks = {}
    targets = _targets(case, policy)
    if "first_response" in targets and case.first_response_at is None:
        _start(case, "first_response", targets, now)
    if "resolution" in targets:
        _start(case, "resolution", targets, now)
        if case.state in policy.pause_in:
            _pause(case.clocks["resolution"], policy, now)
    if case.state in targets:
        _start(case, case.state, targets, now)
    _refresh(case, policy)


def after_event(case: CaseState, event: Event, policy: ServiceLevelPolicy) -> None:
    """Start, stop, pause and resume clocks for what the event changed."""
    service_times.after_phase_change(case, event, policy.pause_in)
    now = event.at
    declared = declared_action(case.kind, event.action)
    change = None if declared is None else declared.clocks
    if change is ClockChange.RESTART:
        start_cycle(case, policy, now)
        return
    if change is ClockChange.RETARGET:
        _retarget(case, policy, now)
    clocks = case.clocks
    if declared is not None and declared.meets_target in clocks:
        _meet(clocks[declared.meets_target], policy, now)
    if case.first_response_at is not None and "first_response" in clocks:
        _meet(clocks["first_response"], policy, now)
    if event.from_state != event.to_state:
        if event.from_state in clocks:
            _meet(clocks[event.from_state], policy, now)
        targets = _targets(case, policy)
        if event.to_state in targets:
            _start(case, event.to_state, targets, now)
        if event.to_state == Phase.ANALYSE and _minutes_pending(case, targets):
            _start(case, MINUTES, targets, now)
        resolution = clocks.get("resolution")
        if resolution:
            if event.to_state == Phase.CLOSED:
                _meet(resolution, policy, now)
            elif event.to_state in policy.pause_in:
                _pause(resolution, policy, now)
            elif resolution["state"] == "paused":
                resolution["state"], resolution["running_since"] = "running", now
    _refresh(case, policy)
    _remember_breaches(case)


def adopt_policy(case: CaseState, policy: ServiceLevelPolicy, now: str) -> None:
    """The case joined a team with its own policy: each live clock keeps the time it used and takes
    the team's budget (as a new priority does)."""
    _retarget(case, policy, now)
    _refresh(case, policy)


def action_item_due_soon_at(item: dict[str, Any], warn_at: float) -> str | None:
    """When an open action item is due soon: `warn_at` (the policy's share) of the way from its creation
    to its deadline; None for an item recorded before items kept their creation time, or one already warned."""
    if item.get("due_soon_warned") or item.get("overdue") or not item.get("created_at"):
        return None
    created, due = parse_time(item["created_at"]), parse_time(item["due"])
    if due <= created:
        return None
    return format_time(created + (due - created) * warn_at)


def next_due(case: CaseState, due_soon_share: float | None = None) -> datetime | None:
    """When the next warning, breach or action-item deadline falls due; None if none can.
    `due_soon_share`: the policy's warn_at, when action items warn before their deadline (None: before v5)."""
    moments = []
    for clock in case.clocks.values():
        if clock["state"] == "running":
            moments.append(clock["deadline"])
            if clock["warn_at"] and not clock["warned"]:
                moments.append(clock["warn_at"])
    moments += [item["due"] for item in case.open_action_items() if not item.get("overdue")]
    if due_soon_share is not None:
        moments += [moment for item in case.open_action_items() if (moment := action_item_due_soon_at(item, due_soon_share))]
    return parse_time(min(moments)) if moments else None


def fire(case: CaseState, now: str, due_soon_share: float | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The system events due by `now`, marking each so it never fires twice in this cycle.
    `due_soon_share`: as for next_due."""
    due: list[tuple[str, dict[str, Any]]] = []
    for name, clock in case.clocks.items():
        if clock["state"] != "running":
            continue
        cause = {"timer": f"sla.{name}", "policy": clock["rule"], "cycle": case.sla_cycle}
        if clock["deadline"] <= now:
            # A warning that comes due with its breach (a worker was down) would say nothing new.
            clock["warned"] = True
            clock["state"] = "breached"
            due.append((SystemAction.SLA_BREACHED, {"target": name, "deadline": clock["deadline"], "cause": cause}))
        elif clock["warn_at"] and not clock["warned"] and clock["warn_at"] <= now:
            clock["warned"] = True
            due.append((SystemAction.SLA_WARNING, {"target": name, "deadline": clock["deadline"], "cause": cause}))
    for item in case.open_action_items():
        soon = None if due_soon_share is None else action_item_due_soon_at(item, due_soon_share)
        if soon is not None and soon <= now < item["due"]:
            item["due_soon_warned"] = True
            cause = {"timer": f"action_item.{item['id']}.due_soon", "policy": "action item due soon (warn_at)"}
            due.append(
                (
                    SystemAction.ACTION_ITEM_DUE_SOON,
                    {"item_id": item["id"], "title": item["title"], "owner": item["owner"], "due": item["due"], "cause": cause},
                )
            )
        if not item.get("overdue") and item["due"] <= now:
            item["overdue"] = True
            cause = {"timer": f"action_item.{item['id']}", "policy": "action item due"}
            due.append(
                (
                    SystemAction.ACTION_ITEM_OVERDUE,
                    {"item_id": item["id"], "title": item["title"], "owner": item["owner"], "due": item["due"], "cause": cause},
                )
            )
    _remember_breaches(case)
    return due


def _remember_breaches(case: CaseState) -> None:
    """Keep every missed target on the case: clocks restart on reopen, the KPIs must not forget."""
    missed = [name for name, clock in case.clocks.items() if clock["state"] == "breached" or clock.get("late")]
    if any(item.get("overdue") for item in case.action_items):
        missed.append("action_item")
    case.breached_targets += [name for name in missed if name not in case.breached_targets]


def is_breached(case: CaseState) -> bool:
    return any(clock["state"] == "breached" for clock in case.clocks.values()) or any(item.get("overdue") for item in case.action_items)


def earliest_deadline(case: CaseState) -> str | None:
    running = [clock["deadline"] for clock in case.clocks.values() if clock["state"] == "running"]
    return min(running) if running else None


def deadline_state(clock: dict[str, Any], now: datetime) -> DeadlineState:
    """A clock's state for a badge: due soon once its warning time has come."""
    if clock["state"] == DeadlineState.RUNNING and (clock.get("warned") or (clock.get("warn_at") and parse_time(clock["warn_at"]) <= now)):
        return DeadlineState.WARNING
    return DeadlineState(clock["state"])


def sla_view(case: dict[str, Any], policy: ServiceLevelPolicy, now: datetime) -> dict[str, dict[str, Any]]:
    """Per target: deadline, state and working seconds left, as of `now`."""
    view = {}
    for name, clock in case.get("clocks", {}).items():
        if clock["state"] == "running":
            deadline = parse_time(clock["deadline"])
            left = policy.working_seconds(now, deadline) if deadline > now else -policy.working_seconds(deadline, now)
        elif clock["state"] == "paused":
            left = clock["budget"] - clock["used"]
        else:
            left = None
        view[name] = {"deadline": clock["deadline"], "state": clock["state"], "time_left_seconds": None if left is None else round(left)}
    return view


def _minutes_pending(case: CaseState, targets: dict[str, float]) -> bool:
    """The minutes' clock starts when a meeting is held (the case enters analyse), once: its kind
    declares an action that meets it, the policy has a target for it, and no clock has run yet."""
    declares = any(action.meets_target == MINUTES for action in spec_for(case.kind).actions)
    return declares and MINUTES in targets and MINUTES not in case.clocks


def _tier(case: CaseState) -> str:
    """What the policy keys a case's targets by: its priority, or a regular meeting's type (an
    ad-hoc one without a type is timed as a weekly one)."""
    return str(case.data.get("meeting_type", MeetingType.WEEKLY)) if case.kind == Kind.MEETING else case.priority


def _targets(case: CaseState, policy: ServiceLevelPolicy) -> dict[str, float]:
    return policy.targets_for(case.kind, _tier(case), bool((case.customer or {}).get("vip")))


def _rule(case: CaseState, name: str) -> str:
    return f"targets.{case.kind}.{_tier(case)}.{name}" + (" (VIP: next priority up)" if (case.customer or {}).get("vip") else "")


def _start(case: CaseState, name: str, targets: dict[str, float], now: str) -> None:
    case.clocks[name] = {
        "budget": targets[name], "used": 0.0, "running_since": now, "state": "running",
        "warned": False, "warn_at": None, "deadline": None, "rule": _rule(case, name),
    }  # fmt: skip


def _used(clock: dict[str, Any], policy: ServiceLevelPolicy, now: str) -> float:
    if clock["state"] != "running":
        return clock["used"]
    return clock["used"] + policy.working_seconds(parse_time(clock["running_since"]), parse_time(now))


def _pause(clock: dict[str, Any], policy: ServiceLevelPolicy, now: str) -> None:
    if clock["state"] == "running":
        clock["used"], clock["state"], clock["running_since"] = _used(clock, policy, now), "paused", None


def _meet(clock: dict[str, Any], policy: ServiceLevelPolicy, now: str) -> None:
    if clock["state"] in ("running", "paused"):
        # Met after its deadline but before the breach timer fired: as late as a breach.
        clock["late"] = clock["state"] == "running" and now > clock["deadline"]
        clock["used"], clock["state"], clock["running_since"] = _used(clock, policy, now), "met", None
        clock["met_at"] = now


def _retarget(case: CaseState, policy: ServiceLevelPolicy, now: str) -> None:
    """A new priority: each live clock keeps the time it used and gets the new budget."""
    targets = _targets(case, policy)
    for name in list(case.clocks):
        clock = case.clocks[name]
        if clock["state"] not in ("running", "paused"):
            continue
        if name not in targets:
            del case.clocks[name]
            continue
        if clock["state"] == "running":
            clock["used"], clock["running_since"] = _used(clock, policy, now), now
        clock["budget"], clock["rule"] = targets[name], _rule(case, name)
    wanted = {"resolution", case.state} | ({"first_response"} if case.first_response_at is None else set())
    for name in wanted & set(targets) - set(case.clocks):
        _start(case, name, targets, now)


def _refresh(case: CaseState, policy: ServiceLevelPolicy) -> None:
    """Recompute each running clock's deadline and warning time from its budget and time used."""
    for clock in case.clocks.values():
        if clock["state"] != "running":
            continue
        since = parse_time(clock["running_since"])
        clock["deadline"] = format_time(policy.add_working_time(since, max(clock["budget"] - clock["used"], 0)))
        warn_after = policy.warn_at * clock["budget"] - clock["used"]
        clock["warn_at"] = format_time(policy.add_working_time(since, warn_after)) if warn_after > 0 and not clock["warned"] else None
