"""What a case's badges say: its deadlines' states and time left, its priority, a VIP customer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from states.clocks import deadline_state
from states.vocabulary import DeadlineState, Priority

# Priorities that are shown as a coloured badge; the others are plain text.
PRESSING = (Priority.HIGH, Priority.URGENT)


def clock_badges(case: dict[str, Any], now: datetime | None = None) -> list[dict[str, Any]]:
    """Each service-level clock: its target, state, deadline and working seconds left."""
    now = now or datetime.now(UTC)
    badges = []
    for name, clock in case.get("clocks", {}).items():
        view = case.get("sla", {}).get(name, {})
        badges.append(
            {
                "target": name,
                "state": deadline_state(clock, now),
                "deadline": clock.get("deadline"),
                "left": view.get("time_left_seconds"),
            }
        )
    return badges


def case_badges(case: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    clocks = clock_badges(case, now)
    live = [badge for badge in clocks if badge["state"] in (DeadlineState.RUNNING, DeadlineState.WARNING, DeadlineState.BREACHED)]
    # The list shows the most pressing clock: breached first, then the nearest deadline.
    nearest = min(live, key=lambda badge: (badge["state"] != DeadlineState.BREACHED, badge["left"] if badge["left"] is not None else 0), default=None)
    return {
        "clocks": clocks,
        "nearest": nearest,
        "pressing": case.get("priority") in PRESSING,
        "vip": bool((case.get("customer") or {}).get("vip")),
        "overdue_items": sum(1 for item in case.get("action_items", []) if item.get("overdue") and not item.get("done")),
    }
