"""The Temporal worker that runs case workflows and writes the read model."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from workflows.activities import CaseActivities, ProjectionStore
from workflows.case_workflow import CaseWorkflow
from workflows.inputs import TASK_QUEUE


def build_worker(client: Client, store: ProjectionStore, task_queue: str = TASK_QUEUE) -> Worker:
    activities = CaseActivities(store)
    return Worker(client, task_queue=task_queue, workflows=[CaseWorkflow], activities=[activities.project_case])
