"""Customer data encrypted in Temporal's history (CASEWORK_PAYLOAD_KEYS): Temporal stores no customer
text, yet the case reads, moves, verifies and replays as before; the codec endpoint decodes for
auditors, supervisors and managers only; keys rotate; histories written before stay readable."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import subprocess
import sys
import time
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from api.codec import ALLOWED_HEADERS
from service.audit import Audit
from service.last_projection import written_by_last_projection
from service.payload_codec import EncryptionCodec, PayloadKey, UnknownPayloadKey, data_converter, payloads_in
from service.read_model import ReadModel, create_engine
from service.settings import Settings, parse_users
from service.temporal import connect
from states.vocabulary import RefusalCode, Role
from tests.api.console_client import Browser, ensure_people
from tests.conftest import TOKENS, Api, auth, serving, worker_on
from tests.support import stored_fence
from workflows.case_workflow import CaseWorkflow

UI = "http://temporal-ui.example:8233"
NAME = "欧阳娜娜-Zq7"
GRIEVANCE = "冰箱漏水泡坏了地板-Xk9"
CASEWORK = str(Path(sys.executable).parent / "casework")
QUALITY_TOKEN = "quality-reviewer-token-0123456789"
KEY_A = PayloadKey("2026-a", os.urandom(32))
KEY_B = PayloadKey("2026-b", os.urandom(32))


@dataclass
class EncryptedStack:
    api: Api
    settings: Settings
    client: Client  # with the codec, as every Casework process has it
    read_model: ReadModel


@asynccontextmanager
async def encrypted_stack(stack_settings: Settings, tmp_path: Path, keys: tuple[PayloadKey, ...]) -> AsyncIterator[EncryptedStack]:
    """A worker and the API on their own task queue and read model, both with the payload keys."""
    queue = f"encrypted-{time.monotonic_ns()}"
    settings = dataclasses.replace(
        stack_settings,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/{queue}.db",
        task_queue=queue,
        payload_keys=keys,
        codec_cors_origins=(UI,),
        users=stack_settings.users + parse_users(f"qi:{Role.QUALITY}:{QUALITY_TOKEN}"),
        cors_origins=("https://desk.example",),  # the API's own CORS leaves /codec/ to the codec's
    )
    read_model = ReadModel(create_engine(settings.read_model_url))
    await read_model.upgrade()
    try:
        client = await connect(settings.temporal_connection)
        async with worker_on(client, read_model, queue), serving(settings) as http:
            yield EncryptedStack(Api(http), settings, client, read_model)
    finally:
        await read_model.close()


async def open_complaint(api: Api) -> str:
    case = await api.open(
        "complaint", title=f"{NAME}投诉", description=GRIEVANCE, customer={"name": NAME, "phone": "13800001234"}, data={"demand": GRIEVANCE}
    )
    await api.act(case["id"], "start_analysis", note=f"已联系{NAME}")
    return case["id"]


def b64(key: PayloadKey) -> str:
    return base64.b64encode(key.secret).decode()


def environment(settings: Settings, payload_keys: str) -> dict[str, str]:
    return {
        **os.environ,
        "CASEWORK_TEMPORAL_ADDRESS": settings.temporal_target,
        "CASEWORK_DATABASE_URL": settings.read_model_url,
        "CASEWORK_TASK_QUEUE": settings.task_queue,
        "CASEWORK_PAYLOAD_KEYS": payload_keys,
    }


async def casework(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return await run(CASEWORK, *arguments, env=env)


async def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    process = await asyncio.create_subprocess_exec(*command, env=env, stdout=PIPE, stderr=PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return subprocess.CompletedProcess(command, process.returncode or 0, out.decode(), err.decode())


def raw_payloads(history: WorkflowHistory) -> list[Payload]:
    return payloads_in(history.events)


def payload_data(value: object) -> list[bytes]:
    """The data of every payload in a history as protobuf JSON (`temporal workflow show -o json`)."""
    if isinstance(value, dict):
        found = [base64.b64decode(value["data"])] if isinstance(value.get("metadata"), dict) and "data" in value else []
        return found + [data for child in value.values() for data in payload_data(child)]
    if isinstance(value, list):
        return [data for child in value for data in payload_data(child)]
    return []


def shows_customer(blob: bytes) -> bool:
    texts = [NAME, GRIEVANCE, "13800001234"]
    forms = [text.encode() for text in texts] + [json.dumps(text).strip('"').encode() for text in texts]
    return any(form in blob for form in forms)


def _local_activity_marker(payload) -> bool:
    try:
        details = json.loads(payload.data)
    except ValueError:
        return False
    return isinstance(details, dict) and set(details) <= LOCAL_ACTIVITY_MARKER and details.get("activity_type") in LOCAL_ACTIVITIES


LOCAL_ACTIVITIES = ("project_case", "project_report", "dispatch_case")
LOCAL_ACTIVITY_MARKER = {"seq", "attempt", "activity_id", "activity_type", "complete_time", "backoff", "original_schedule_time", "activation_index"}


async def test_temporal_stores_no_customer_text_yet_the_case_reads_moves_verifies_and_replays(temporal_env, stack_settings, tmp_path):
    async with encrypted_stack(stack_settings, tmp_path, (KEY_A,)) as stack:
        case_id = await open_complaint(stack.api)
        # Read raw, as Temporal holds it: through a client without the codec.
        raw = await temporal_env.client.get_workflow_handle(case_id).fetch_history()
        payloads = raw_payloads(raw)
        plaintext = [payload for payload in payloads if payload.metadata["encoding"] != b"binary/encrypted"]
        assert len(plaintext) < len(payloads)
        # Only search attributes (Temporal indexes them) and the SDK's markers stay plaintext: patches, and
        # local activities (the projection's and the routing's: ids, attempt and times; inputs are not in the history).
        assert all("type" in payload.metadata or b'"deprecated"' in payload.data or _local_activity_marker(payload) for payload in plaintext), (
            plaintext
        )
        assert not any(shows_customer(event.SerializeToString()) for event in raw.events)
        # So the sweep reads a projection's task from the history's end, without the keys (service/last_projection.py).
        assert await written_by_last_projection(temporal_env.client, case_id, await stored_fence(stack.read_model, case_id))

        # Through Casework, everything as before.
        assert (await stack.api.get(case_id))["customer"]["name"] == NAME
        await stack.api.act(case_id, "record_findings", data={"findings": f"{GRIEVANCE}属实"})
        # Refusals cross the codec too (failures' messages are encrypted): the same problem as ever.
        refused = await stack.api.client.post(f"/cases/{case_id}/transitions", json={"action": "start_analysis"}, headers=auth("agent"))
        assert refused.status_code == 409 and refused.json()["code"] == RefusalCode.NOT_ALLOWED_IN_PHASE, refused.text
        verified = await stack.api.client.get(f"/cases/{case_id}/history/verify", headers=auth("auditor"))
        assert verified.status_code == 200 and verified.json()["ok"], verified.text
        temporal = await stack.api.client.get(f"/cases/{case_id}/history/temporal", headers=auth("auditor"))
        assert temporal.status_code == 200 and NAME in temporal.text and GRIEVANCE in temporal.text

        # `casework audit verify`, a process of its own, given the keys in its environment.
        verified_by_cli = await casework("audit", "verify", "--case", case_id, env=environment(stack.settings, f"{KEY_A.key_id}:{b64(KEY_A)}"))
        assert verified_by_cli.returncode == 0 and "1 ok, 0 failed" in verified_by_cli.stdout, verified_by_cli.stderr

        history = await temporal_env.client.get_workflow_handle(case_id).fetch_history()
        replayed = await Replayer(workflows=[CaseWorkflow], data_converter=data_converter((KEY_A,))).replay_workflow(
            history, raise_on_replay_failure=False
        )
        assert replayed.replay_failure is None, replayed.replay_failure

        # The codec endpoint: auditors, supervisors and managers; nobody else.
        body = {"payloads": [MessageToDict(payload) for payload in raw_payloads(history)]}
        decoded = await stack.api.client.post("/codec/decode", json=body, headers={**auth("supervisor"), "X-Namespace": "default"})
        assert decoded.status_code == 200, decoded.text
        datas = [base64.b64decode(payload.get("data", "")) for payload in decoded.json()["payloads"]]
        assert any(NAME.encode() in data or json.dumps(NAME).strip('"').encode() in data for data in datas)
        assert all(base64.b64decode(payload["metadata"]["encoding"]) != b"binary/encrypted" for payload in decoded.json()["payloads"])
        assert (await stack.api.client.post("/codec/decode", json=body, headers=auth("auditor"))).status_code == 200
        assert (await stack.api.client.post("/codec/decode", json=body, headers=auth("manager"))).status_code == 200
        assert (await stack.api.client.post("/codec/decode", json=body, headers=auth("agent"))).status_code == 403
        quality = {"Authorization": f"Bearer {QUALITY_TOKEN}"}
        assert (await stack.api.client.post("/codec/decode", json=body, headers=quality)).status_code == 403
        assert (await stack.api.client.post("/codec/decode", json=body)).status_code == 401
        history_as_agent = await stack.api.client.get(f"/cases/{case_id}/history/temporal", headers=auth("agent"))
        assert history_as_agent.status_code == 403

        # Temporal's own CLI, a client of the codec server protocol, shows the decrypted history.
        show = [
            str(Path(sys.executable).parent / "temporal"),
            "workflow",
            "show",
            "-w",
            case_id,
            "--address",
            stack.settings.temporal_target,
            "-o",
            "json",
        ]
        shown = await run(*show, "--codec-endpoint", f"{stack.api.client.base_url}/codec", "--codec-auth", f"Bearer {TOKENS['auditor']}")
        assert shown.returncode == 0, shown.stderr
        assert any(shows_customer(data) for data in payload_data(json.loads(shown.stdout)))
        assert not any(shows_customer(data) for data in payload_data(json.loads((await run(*show)).stdout)))

        # Encode then decode gives back what the UI sent (the UI encodes what one types to signal a workflow).
        plain = {"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/plain").decode()}, "data": base64.b64encode(b'"hello"').decode()}]}
        encoded = (await stack.api.client.post("/codec/encode", json=plain, headers=auth("supervisor"))).json()
        assert base64.b64decode(encoded["payloads"][0]["metadata"]["encoding"]) == b"binary/encrypted"
        assert (await stack.api.client.post("/codec/decode", json=encoded, headers=auth("supervisor"))).json() == plain
        # Encoding makes ciphertext under the production key: supervisors and managers, not auditors.
        assert (await stack.api.client.post("/codec/encode", json=plain, headers=auth("auditor"))).status_code == 403
        assert (await stack.api.client.post("/codec/encode", json=plain, headers=auth("agent"))).status_code == 403
        assert (await stack.api.client.post("/codec/encode", json=plain, headers=auth("manager"))).status_code == 200


async def test_the_codec_endpoint_answers_the_temporal_ui_origin_and_a_console_session(temporal_env, stack_settings, tmp_path):
    async with encrypted_stack(stack_settings, tmp_path, (KEY_A,)) as stack:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace"}
        allowed = await stack.api.client.options("/codec/decode", headers={"Origin": UI, **preflight})
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == UI
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert allowed.headers["access-control-allow-headers"] == ALLOWED_HEADERS
        refused = await stack.api.client.options("/codec/decode", headers={"Origin": "https://evil.example", **preflight})
        assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
        empty: dict[str, list] = {"payloads": []}
        answered = await stack.api.client.post("/codec/decode", json=empty, headers={**auth("auditor"), "Origin": UI})
        assert answered.headers["access-control-allow-origin"] == UI and answered.json() == empty
        other = await stack.api.client.post("/codec/decode", json=empty, headers={**auth("auditor"), "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        anonymous = await stack.api.client.post("/codec/decode", json=empty, headers={"Origin": UI})
        assert anonymous.status_code == 401 and anonymous.headers["access-control-allow-origin"] == UI  # the UI can say why

        # The console's session cookie, as the UI sends it from the same site.
        await ensure_people(stack.read_model)
        supervisor, agent = Browser(str(stack.api.client.base_url)), Browser(str(stack.api.client.base_url))
        try:
            await supervisor.sign_in("sam")
            await agent.sign_in("ann")
            assert (await supervisor.client.post("/codec/decode", json=empty)).status_code == 200
            assert (await agent.client.post("/codec/decode", json=empty)).status_code == 403
        finally:
            await supervisor.client.aclose()
            await agent.client.aclose()


async def test_a_bad_payload_key_stops_casework_at_start_naming_the_setting(stack_settings):
    refused = await casework("audit", "verify", "--case", "x", env=environment(stack_settings, "k1:c2hvcnQ="))
    assert refused.returncode == 2 and "CASEWORK_PAYLOAD_KEYS: key k1 is 5 bytes" in refused.stderr
    assert "c2hvcnQ=" not in refused.stderr


async def test_histories_written_with_an_old_key_decode_after_rotation(temporal_env, stack_settings, tmp_path):
    async with encrypted_stack(stack_settings, tmp_path, (KEY_A,)) as stack:
        case_id = await open_complaint(stack.api)
        read_model = stack.read_model
        rotated = await connect(dataclasses.replace(stack.settings, payload_keys=(KEY_B, KEY_A)).temporal_connection)
        assert NAME in json.dumps(await Audit(rotated, read_model).temporal_history(case_id), ensure_ascii=False)
        assert (await Audit(rotated, read_model).verify(case_id)).ok
        # A key still needed was removed: the failure says which key is missing, never what a key is.
        only_b = await connect(dataclasses.replace(stack.settings, payload_keys=(KEY_B,)).temporal_connection)
        with pytest.raises(UnknownPayloadKey, match="2026-a"):
            await Audit(only_b, read_model).temporal_history(case_id)
        async with serving(dataclasses.replace(stack.settings, payload_keys=(KEY_B,))) as http:
            missing = await http.get(f"/cases/{case_id}/history/temporal", headers=auth("auditor"))
            assert missing.status_code == 500 and "key '2026-a'" in missing.json()["detail"], missing.text
    # What B encrypts, B decodes; A alone cannot.
    sealed = EncryptionCodec((KEY_B, KEY_A)).encrypt(Payload(metadata={"encoding": b"json/plain"}, data=b'"x"'))
    assert sealed.metadata["encryption-key-id"] == b"2026-b"
    with pytest.raises(UnknownPayloadKey):
        EncryptionCodec((KEY_A,)).decrypt(sealed)


async def test_a_history_written_before_encryption_stays_readable(http, stack_settings, read_model, temporal_env):
    # The session's stack writes plaintext (no keys); a client with keys reads it as before.
    case_id = await open_complaint(Api(http))
    encrypted = await connect(dataclasses.replace(stack_settings, payload_keys=(KEY_A,)).temporal_connection)
    assert NAME in json.dumps(await Audit(encrypted, read_model).temporal_history(case_id), ensure_ascii=False)
    assert (await Audit(encrypted, read_model).verify(case_id)).ok
    history = await temporal_env.client.get_workflow_handle(case_id).fetch_history()
    replayed = await Replayer(workflows=[CaseWorkflow], data_converter=data_converter((KEY_A,))).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert replayed.replay_failure is None, replayed.replay_failure
