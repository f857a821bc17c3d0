"""The Temporal worker that runs case workflows, writes the read model and sends notifications."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from workflows.activities import CaseActivities, ProjectionStore
from workflows.case_workflow import CaseWorkflow
from workflows.inputs import TASK_QUEUE
from workflows.notifications import DeliveryLog, Notifier, Webhook


def build_worker(client: Client, store: ProjectionStore, deliveries: DeliveryLog, webhook: Webhook, task_queue: str = TASK_QUEUE) -> Worker:
    activities = CaseActivities(store)
    notifier = Notifier(webhook, deliveries)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CaseWorkflow],
        activities=[activities.project_case, notifier.deliver_notification],
        # On SIGTERM, running activities get this long to finish before they are cancelled (and retried elsewhere).
        graceful_shutdown_timeout=timedelta(seconds=10),
    )
