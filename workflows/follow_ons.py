"""What one case's action does to other cases: open an incident or a plan, link, send a notice.

Called from the case workflow; every step is a workflow command (child start, external signal), so
it is durable and replays deterministically.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from states.case import Actor, CaseState, Event, Report
    from states.ids import case_id
    from states.spec import Tells
    from states.vocabulary import Phase
    from workflows.inputs import CASE_CODE_VERSION, CaseWorkflowInput, LinkInput, NoticeInput, ReportInput
    from workflows.search import CASE_KIND, CASE_PRIORITY, CASE_STATE

# The case workflow's names on the wire, spelled here because that module imports this one;
# CaseWorkflow declares itself and its signals with them.
CASE_WORKFLOW = "Case"
LINK_SIGNAL = "link"
NOTICE_SIGNAL = "notice"


def new_case_id() -> str:
    return case_id(int(workflow.now().timestamp() * 1000), workflow.random().getrandbits(80))


async def open_linked_case(
    parent: CaseWorkflowInput, new_id: str, report: Report, actor: Actor, relation: str, request_id: str | None, storm_cause: str | None = None
) -> None:
    """Start the new case's workflow; it reports itself, linked to this case as `relation`.
    `storm_cause`: the new case is the incident storm control opened for that cause (workflows/storms.py)."""
    opening = ReportInput(report, actor, parent.case_id, request_id, source_relation=relation, link_back=False)
    child = CaseWorkflowInput(
        case_id=new_id,
        kind=report.kind,
        reopen_window_seconds=parent.reopen_window_seconds,
        events_per_run=parent.events_per_run,
        sla_policy=parent.sla_policy,
        escalation_window_seconds=parent.escalation_window_seconds,
        opening=opening,
        storm_cause=storm_cause,
        code_version=CASE_CODE_VERSION,
    )
    await workflow.start_child_workflow(
        CASE_WORKFLOW,
        child,
        id=new_id,
        task_queue=workflow.info().task_queue,
        parent_close_policy=ParentClosePolicy.ABANDON,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CASE_KIND, report.kind),
                SearchAttributePair(CASE_PRIORITY, report.priority),
                SearchAttributePair(CASE_STATE, Phase.REPORT),
            ]
        ),
    )


async def link(case_id: str, link_input: LinkInput) -> None:
    await signal(case_id, LINK_SIGNAL, link_input)


async def tell_linked_cases(case: CaseState, event: Event, tells: Tells) -> None:
    """Send the action's notice to every case linked to this one as `tells.relation`."""
    for linked in case.links:
        if linked["relation"] == tells.relation:
            notice = NoticeInput(tells.notice, tells.data(case, event.data), event.actor, event.request_id)
            await signal(linked["case_id"], NOTICE_SIGNAL, notice)


async def signal(workflow_id: str, name: str, payload) -> None:
    """Signal another workflow; one whose run has ended (a case past its reopen window, a storm past its
    window) keeps its history as it was."""
    try:
        await workflow.get_external_workflow_handle(workflow_id).signal(name, payload)
    except ApplicationError as error:
        workflow.logger.warning("could not signal %s to %s: %s", name, workflow_id, error)
