"""One action on several cases, as a supervisor selects them: each case is acted on by itself
(its own rules, history and refusal), and an action that opens a case opens it once — the first
case opens it, the others join it (several complaints escalated into one emergency meeting)."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from service.cases import CaseNotFound, CaseRefused, Cases
from states.case import Actor, CaseState
from states.errors import CaseRuleError
from states.machine import declarations
from states.vocabulary import RefusalCode
from workflows.inputs import ActInput

MAX_CASES = 100
# How long the others wait for the case the first one opened to be readable.
OPENING_SECONDS = 15.0


@dataclass(frozen=True)
class Outcome:
    case_id: str
    done: bool
    code: str | None = None
    detail: str | None = None
    version: int | None = None
    opened: str | None = None  # the case the action opened or joined


async def act_on_each(
    cases: Cases, case_ids: list[str], action: str, actor: Actor, note: str | None, data: dict[str, Any], request_id: str
) -> list[Outcome]:
    """`request_id` names the whole request: each case's update id is derived from it, so sending
    the same bulk request again changes nothing twice."""
    if len(case_ids) > MAX_CASES:
        raise ValueError(f"at most {MAX_CASES} cases at once")
    opens = next((declared.opens for declared in declarations(action) if declared.opens and declared.opens.may_join_open), None)
    data = dict(data)
    outcomes = []
    for case_id in dict.fromkeys(case_ids):
        act = ActInput(action, actor, note, dict(data), None, f"{request_id}-{case_id}")
        try:
            case = await cases.act(case_id, act)
        except (CaseRefused, CaseRuleError, CaseNotFound) as refused:
            outcomes.append(Outcome(case_id, False, _code(refused), str(refused)))
            continue
        opened = _opened(case, opens.relation) if opens else None
        if opens and opened and not data.get(opens.id_field):
            # The workflow starts the opened case just after the action: the others join it once it is there.
            await _readable(cases, opened)
            data[opens.id_field] = opened
        outcomes.append(Outcome(case_id, True, version=case.version, opened=opened))
    return outcomes


async def _readable(cases: Cases, case_id: str) -> None:
    # Past the wait, the next case is refused by itself, and says why.
    with suppress(TimeoutError):
        async with asyncio.timeout(OPENING_SECONDS):
            while True:
                try:
                    await cases.get(case_id)
                    return
                except CaseNotFound:
                    await asyncio.sleep(0.1)


def _opened(case: CaseState, relation: str) -> str | None:
    linked = [link["case_id"] for link in case.links if link.get("relation") == relation]
    return linked[-1] if linked else None


def _code(refused: Exception) -> str:
    if isinstance(refused, CaseNotFound):
        return RefusalCode.UNKNOWN_CASE
    if isinstance(refused, CaseRefused):
        return refused.details.get("code") or RefusalCode.REFUSED
    return getattr(refused, "code", RefusalCode.REFUSED)
