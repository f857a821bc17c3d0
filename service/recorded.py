"""The events a case's workflow projected, read back from Temporal's history of it.

Before "project-locally" each projection was a regular activity: the history holds its input (the
event and the case). Since, it is a local activity, whose input the history does not hold, only its
marker (and the update's input and result), or (since v11) the write of an update's validator, which
leaves no trace of its own (workflows/write_ahead.py). So the events are recomputed by replaying each
run with the workflow's code, deterministically (the replay test holds the code to every recorded
history), and seeing every projection it makes, regular, local or ahead, and whether the read model
refused it for good.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import asdict, dataclass
from datetime import UTC
from typing import Any

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    Replayer,
    StartActivityInput,
    StartLocalActivityInput,
    UnsandboxedWorkflowRunner,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from temporalio.workflow import ActivityHandle

from states.case import Event
from workflows.activities import LAST_MOMENT, PROJECT_ACTIVITIES, projection_fence, refused_for_good
from workflows.case_workflow import CaseWorkflow
from workflows.inputs import ProjectInput


@dataclass
class Projected:
    # By seq. One whose projection the read model refused for good was taken back by the workflow (its
    # seq is taken again by the next event): it is not recorded.
    events: list[dict[str, Any]]
    # The fence a reconciliation writes with, above every workflow task of the history read (and below
    # any later one); None where the last run projects by regular activities, unfenced.
    fence: str | None


async def projected_events(runs: list[WorkflowHistory], converter: DataConverter) -> Projected:
    """What the workflow projected, from histories whose payloads are decoded."""
    seen = _Projections()
    # Plain payloads: the histories are decoded already (service/payload_codec.py decode_in_place).
    replayer = Replayer(
        workflows=[CaseWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
        interceptors=[seen],
        data_converter=dataclasses.replace(converter, payload_codec=None),
    )
    fence = None
    for history in runs:
        seen.locally = False
        await replayer.replay_workflow(history)
        if seen.locally and history.events:
            started = history.events[0].event_time.ToDatetime(tzinfo=UTC)
            fence = projection_fence(started, len(history.events), LAST_MOMENT)
        else:
            fence = None
    return Projected([seen.events[seq] for seq in sorted(seen.events)], fence)


class _Projections(Interceptor):
    def __init__(self) -> None:
        self.events: dict[int, dict[str, Any]] = {}
        self.locally = False

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        projections = self

        class Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(_Seeing(outbound, projections))

            async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
                instance = workflow.instance()
                if isinstance(instance, CaseWorkflow):
                    instance.on_written_ahead = projections.saw_written_ahead
                return await super().handle_update_handler(input)

        return Inbound

    def saw(self, activity: str, args: Any, handle: asyncio.Task) -> None:
        if activity not in PROJECT_ACTIVITIES:
            return
        projected: ProjectInput = args[0]
        # The event as scheduled: the case may change under later updates, its event does not.
        event = asdict(projected.event)
        self.events[projected.event.seq] = event
        handle.add_done_callback(lambda done: self._taken_back(done, projected.event.seq, event))

    def saw_written_ahead(self, event: Event) -> None:
        """A change its update's validator wrote (since v11): never taken back, a refusal rejected it."""
        self.locally = True
        self.events[event.seq] = asdict(event)

    def _taken_back(self, done: asyncio.Task, seq: int, event: dict[str, Any]) -> None:
        error = None if done.cancelled() else done.exception()
        if error is not None and refused_for_good(error) and self.events.get(seq) is event:
            del self.events[seq]


class _Seeing(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, projections: _Projections) -> None:
        super().__init__(next)
        self._projections = projections

    def start_activity(self, input: StartActivityInput) -> ActivityHandle:
        handle = super().start_activity(input)
        self._projections.saw(input.activity, input.args, handle)
        return handle

    def start_local_activity(self, input: StartLocalActivityInput) -> ActivityHandle:
        handle = super().start_local_activity(input)
        self._projections.locally = True
        self._projections.saw(input.activity, input.args, handle)
        return handle
