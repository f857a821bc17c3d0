"""What one case's action does to other cases: open an incident or a plan, link, notify closing.

Called from the case workflow; every step is a workflow command (child start, external signal), so
it is durable and replays deterministically.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from states.case import Actor, CaseState, Event
    from states.ids import case_id
    from states.opening import Report
    from workflows.inputs import CaseWorkflowInput, LinkInput, NoticeInput, ReportInput
    from workflows.search import CASE_KIND, CASE_PRIORITY, CASE_STATE


def new_case_id() -> str:
    return case_id(int(workflow.now().timestamp() * 1000), workflow.random().getrandbits(80))


def escalation_report(case: CaseState, reason: str) -> Report:
    """An incident's emergency report, taken from the case escalated into it and the reason."""
    return Report(
        kind="incident",
        title=f"Escalated: {case.title}"[:500],
        description=reason,
        priority=case.priority,
        customer=case.customer,
        channel=case.channel,
        data={"occurred_at": case.created_at, "impact": case.description or case.title, "consequences": reason},
    )


def improvement_report(incident: CaseState, data: dict) -> Report:
    return Report(
        kind="improvement_plan",
        title=data.get("title") or f"Improve after: {incident.title}"[:500],
        description=incident.data.get("lessons_learned", ""),
        priority=incident.priority,
        data={key: data[key] for key in ("problem", "metric", "baseline") if key in data},
    )


async def open_linked_case(parent: CaseWorkflowInput, new_id: str, report: Report, actor: Actor, relation: str, request_id: str | None) -> None:
    """Start the new case's workflow; it reports itself, linked to this case as `relation`."""
    opening = ReportInput(report, actor, parent.case_id, request_id, source_relation=relation, link_back=False)
    child = CaseWorkflowInput(
        case_id=new_id,
        kind=report.kind,
        reopen_window_seconds=parent.reopen_window_seconds,
        events_per_run=parent.events_per_run,
        sla_policy=parent.sla_policy,
        opening=opening,
    )
    await workflow.start_child_workflow(
        "Case",
        child,
        id=new_id,
        task_queue=workflow.info().task_queue,
        parent_close_policy=ParentClosePolicy.ABANDON,
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(CASE_KIND, report.kind), SearchAttributePair(CASE_PRIORITY, report.priority), SearchAttributePair(CASE_STATE, "report")]
        ),
    )


async def link(case_id: str, link_input: LinkInput) -> None:
    await _signal(case_id, "link", link_input)


async def notify_incident_closed(incident: CaseState, event: Event) -> None:
    for linked in incident.links:
        if linked["relation"] == "escalated_from":
            notice = NoticeInput("incident_closed", {"incident_id": incident.id, "effect": event.data.get("effect")}, event.actor, event.request_id)
            await _signal(linked["case_id"], "notice", notice)


async def _signal(case_id: str, name: str, payload) -> None:
    try:
        await workflow.get_external_workflow_handle(case_id).signal(name, payload)
    except ApplicationError as error:
        # That case's run has ended (past its reopen window): it keeps its history as it was.
        workflow.logger.warning("could not signal %s to case %s: %s", name, case_id, error)
