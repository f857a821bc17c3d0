"""The Temporal worker that runs case workflows, writes the read model, sends notifications and makes reviews."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.activities import CaseActivities, ProjectionStore, Router
from workflows.assessments import AssessmentActivities, AssessmentMaker, AssessmentWorkflow
from workflows.case_workflow import CaseWorkflow
from workflows.inputs import TASK_QUEUE
from workflows.meetings import MeetingActivities, MeetingMaker, ScheduleMeetingsWorkflow
from workflows.messages import MessageActivities, MessageDelivery, MessageOffice, NoOffice
from workflows.notifications import DeliveryLog, Notifier, Webhook
from workflows.quality_check import CheckStore, QualityActivities, QualityCheckWorkflow
from workflows.quality_sampling import QualitySamplingActivities, QualitySamplingWorkflow, WeeklySampler
from workflows.reviews import ReviewActivities, ReviewMaker, ReviewWorkflow
from workflows.storms import StormActivities, StormWorkflow
from workflows.sweeps import RecentReconciler, ReconcileSweepWorkflow, SweepActivities
from workflows.write_ahead import WriteAhead

WORKFLOW_TASKS_AT_ONCE = 10


def build_worker(
    client: Client,
    store: ProjectionStore,
    deliveries: DeliveryLog,
    webhook: Webhook,
    reviews: ReviewMaker,
    task_queue: str = TASK_QUEUE,
    graceful_shutdown: timedelta = timedelta(seconds=10),
    router: Router | None = None,
    assessments: AssessmentMaker | None = None,
    checks: CheckStore | None = None,
    sampler: WeeklySampler | None = None,
    office: MessageOffice | None = None,
    meetings: MeetingMaker | None = None,
    sandboxed: bool = False,
    reconciler: RecentReconciler | None = None,
) -> Worker:
    """`checks`: where quality checks are projected (their workflows need it); `sampler`: the weekly
    quality sample's; `meetings`: makes the regular meetings ahead (the daily meetings schedule's);
    `reconciler`: the reconciliation sweep's; `sandboxed`: the workflows in the SDK's sandbox, as the
    tests run them (see below)."""
    activities = CaseActivities(store, router)
    notifier = Notifier(webhook, deliveries)
    # `office`: who hears of what (service/notifications.py); without one, messages are only logged.
    messages = MessageActivities(office or NoOffice(), task_queue)
    assessing = [AssessmentActivities(assessments).make_assessments] if assessments is not None else []
    checking: list[Callable] = [QualityActivities(checks).project_check] if checks is not None else []
    checking += [QualitySamplingActivities(sampler).sample_week] if sampler is not None else []
    checking += [MeetingActivities(meetings).make_meetings] if meetings is not None else []
    checking += [SweepActivities(reconciler).reconcile_recent] if reconciler is not None else []
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            CaseWorkflow,
            ReviewWorkflow,
            AssessmentWorkflow,
            QualityCheckWorkflow,
            QualitySamplingWorkflow,
            ScheduleMeetingsWorkflow,
            StormWorkflow,
            MessageDelivery,
            ReconcileSweepWorkflow,
        ],
        activities=[
            activities.project_case,
            activities.project_report,
            activities.dispatch_case,
            notifier.deliver_notification,  # still run by histories from before "announce-messages"
            messages.announce,
            messages.deliver_message,
            StormActivities().join_escalation_storm,
            ReviewActivities(reviews).make_review,
            *assessing,
            *checking,
        ],
        # A case's change written by its update's validator (case workflow v11).
        interceptors=[WriteAhead(store)],
        # No external payload storage here: with the default (3) every activation's payloads are also
        # visited by concurrent tasks that store or fetch nothing, about 0.1 ms of CPU per transition.
        max_workflow_task_external_storage_concurrency=1,
        # Workflow tasks worked on at once (the SDK's default: 100). They share one interpreter: a burst of
        # runs evicted from the cache, each replayed, stretched every task past Temporal's 10 s timeout,
        # and each retry replayed again (915 of 968 transitions refused at concurrency 50 in the bench).
        # The rest wait in Temporal's queue, where no timeout runs.
        max_concurrent_workflow_tasks=WORKFLOW_TASKS_AT_ONCE,
        # On SIGTERM, running activities get this long to finish before they are cancelled (and retried elsewhere).
        graceful_shutdown_timeout=graceful_shutdown,
        # Unsandboxed: the sandbox cost a tenth to a sixth of the worker's CPU and checked none of our code,
        # which it passes through (plain data and pure rules, no mutable module state). What it would
        # refuse is checked in the source instead (tests/workflows/test_determinism.py), and the
        # recorded histories replay both ways (docs/benchmarks.md, "Cheaper activations").
        workflow_runner=SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows", "states"))
        if sandboxed
        else UnsandboxedWorkflowRunner(),
    )
