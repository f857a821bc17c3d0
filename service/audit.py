"""Audit: verify a case's history against Temporal's, show Temporal's raw history, export events."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from typing import Any

from google.protobuf.json_format import MessageToDict
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from service.cases import CaseNotFound
from service.payload_codec import decode_in_place
from service.read_model import ReadModel
from service.recorded import Projected, projected_events
from states.verification import check_chain, compare, first, replay


@dataclass
class Verification:
    case_id: str
    ok: bool
    events: int
    temporal: str  # checked | gone (past Temporal's retention: only the hash chain was checked)
    runs: int
    seq: int | None = None
    problem: str | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Audit:
    def __init__(self, client: Client, read_model: ReadModel):
        self._client = client
        self._read_model = read_model

    async def verify(self, case_id: str) -> Verification:
        stored = await self._read_model.history(case_id)
        runs = await self.runs(case_id)
        if not stored and not runs:
            raise CaseNotFound(case_id)
        if runs:
            recorded = await self.recorded_events(runs)
            # On a tie, Temporal's record says most about what changed.
            finding = first(compare(stored, recorded), replay(case_id, recorded), check_chain(stored))
        else:
            finding = check_chain(stored)
        verification = Verification(case_id, finding is None, len(stored), "checked" if runs else "gone", len(runs))
        if finding:
            verification.seq, verification.problem, verification.detail = finding.seq, finding.problem, finding.detail
        return verification

    async def runs(self, case_id: str) -> list[WorkflowHistory]:
        """Every run of the case's workflow, first to last, following continue-as-new; [] if gone."""
        try:
            description = await self._client.get_workflow_handle(case_id).describe()
            run_id, histories = description.raw_description.workflow_execution_info.first_run_id, []
            while run_id:
                history = await self._client.get_workflow_handle(case_id, run_id=run_id).fetch_history()
                # Encrypted payloads (CASEWORK_PAYLOAD_KEYS) are decrypted here, once, for every reader.
                await decode_in_place(self._client.data_converter.payload_codec, history.events)
                histories.append(history)
                last = history.events[-1] if history.events else None
                if last is not None and last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                    run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                else:
                    run_id = ""
        except RPCError as error:
            # Also while Temporal deletes it (retention): described a moment ago, its history already gone.
            if error.status == RPCStatusCode.NOT_FOUND:
                return []
            raise
        return histories

    async def temporal_history(self, case_id: str) -> dict[str, Any]:
        runs = await self.runs(case_id)
        if not runs:
            raise CaseNotFound(case_id)
        return {
            "case_id": case_id,
            "runs": [{"run_id": history.run_id, "events": [_readable(MessageToDict(event)) for event in history.events]} for history in runs],
        }

    async def recorded_events(self, runs: list[WorkflowHistory]) -> list[dict[str, Any]]:
        """The events the workflow projected, by seq (service/recorded.py)."""
        return (await self.projected(runs)).events

    async def projected(self, runs: list[WorkflowHistory]) -> Projected:
        return await projected_events(runs, self._client.data_converter)


def _readable(value: Any) -> Any:
    """Decode Temporal payloads ({metadata: {encoding}, data} in base64) into the JSON they carry."""
    if isinstance(value, dict):
        metadata = value.get("metadata")
        if isinstance(metadata, dict) and "encoding" in metadata and set(value) <= {"metadata", "data"}:
            encoding = base64.b64decode(metadata["encoding"]).decode()
            raw = base64.b64decode(value.get("data", ""))
            if encoding == "json/plain":
                return {"encoding": encoding, "value": json.loads(raw) if raw else None}
            if encoding == "binary/null":
                return {"encoding": encoding, "value": None}
            return {"encoding": encoding, "data": value.get("data", "")}
        return {key: _readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_readable(item) for item in value]
    return value
