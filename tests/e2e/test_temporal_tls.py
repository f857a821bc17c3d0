"""Casework on a secured Temporal cluster: mutual TLS for real, through a TLS terminator verifying client
certificates from the test's own throw-away CA in front of the dev server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.testing import WorkflowEnvironment

from service.cli import running_worker
from service.read_model import ReadModel, create_engine
from service.settings import Settings
from service.temporal import connect
from tests.conftest import ISOLATED_NAMESPACE, TEST_USERS, Api, free_port, serving
from tests.e2e.tls import OPENSSL, KeyPair, RefusingGrpcServer, ThrowAwayCA, TlsTerminator

CASEWORK = Path(sys.executable).parent / "casework"
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed (apt-get install -y openssl): the test's CA needs it")


class Cluster:
    """The dev server behind stunnel: the address clients use, and the files they may present."""

    def __init__(self, address: str, ca: ThrowAwayCA, client: KeyPair, folder: Path):
        self.address = address
        self.ca = ca
        self.client = client
        self.folder = folder

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "CASEWORK_TEMPORAL_ADDRESS": self.address,
            "CASEWORK_DATABASE_URL": f"sqlite+aiosqlite:///{self.folder / 'casework.db'}",
            "CASEWORK_USERS": TEST_USERS,
            "CASEWORK_TASK_QUEUE": "casework-mtls",
            "CASEWORK_TEMPORAL_NAMESPACE": ISOLATED_NAMESPACE,
            "CASEWORK_TEMPORAL_TLS_CA": str(self.ca.cert),
            **extra,
        }

    def with_certificate(self, **extra: str) -> dict[str, str]:
        return self.env(CASEWORK_TEMPORAL_TLS_CERT=str(self.client.cert), CASEWORK_TEMPORAL_TLS_KEY=str(self.client.key), **extra)


async def upgrade(settings: Settings) -> None:
    read_model = ReadModel(create_engine(settings.read_model_url))
    await read_model.upgrade()
    await read_model.close()


@pytest.fixture
def cluster(temporal_env: WorkflowEnvironment, tmp_path: Path) -> Iterator[Cluster]:
    ca = ThrowAwayCA(tmp_path / "ca")
    server = ca.issue("temporal.casework.test", server=True)
    client = ca.issue("casework-worker")
    port = free_port()
    with TlsTerminator(port, temporal_env.client.service_client.config.target_host, server, client_ca=ca.cert):
        yield Cluster(f"127.0.0.1:{port}", ca, client, tmp_path)


async def test_worker_and_api_with_the_right_certificate_move_a_case(cluster: Cluster):
    settings = Settings.from_env(cluster.with_certificate())
    assert settings.temporal_connection.tls
    await upgrade(settings)
    async with running_worker(settings), serving(settings) as http:
        api = Api(http)
        case = await api.open("complaint", customer={"id": "c-1", "name": "王芳"})
        moved = await api.act(case["id"], "start_analysis")
        assert (moved["state"], moved["version"]) == ("analyse", 2)
        assert [event["action"] for event in await api.history(case["id"])] == ["report", "start_analysis"]


async def test_the_server_name_is_verified(cluster: Cluster):
    """The server's certificate names temporal.casework.test and localhost, not another host."""
    wrong = Settings.from_env(cluster.with_certificate(CASEWORK_TEMPORAL_TLS_SERVER_NAME="elsewhere.example"))
    with pytest.raises(RuntimeError, match=r"TLS with Temporal at .* failed"):
        await connect(wrong.temporal_connection)
    right = Settings.from_env(cluster.with_certificate(CASEWORK_TEMPORAL_TLS_SERVER_NAME="temporal.casework.test"))
    client = await connect(right.temporal_connection)
    assert (await client.workflow_service.get_system_info(GetSystemInfoRequest())).server_version


async def test_a_worker_without_a_client_certificate_is_refused_at_start(cluster: Cluster):
    settings = Settings.from_env(cluster.env())
    await upgrade(settings)
    with pytest.raises(RuntimeError) as refused:
        async with running_worker(settings):
            pass
    message = str(refused.value)
    assert f"TLS with Temporal at {cluster.address} failed" in message
    assert "no client certificate (CASEWORK_TEMPORAL_TLS_CERT unset)" in message


@pytest.mark.parametrize("command", ["worker", "api"])
def test_casework_without_a_client_certificate_stops_with_a_clear_message(cluster: Cluster, command: str):
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")}
    env.update(cluster.env(CASEWORK_HTTP_PORT=str(free_port())))
    subprocess.run([str(CASEWORK), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    result = subprocess.run([str(CASEWORK), command], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert f"TLS with Temporal at {cluster.address} failed" in result.stderr, result.stderr
    assert "no client certificate" in result.stderr


async def test_the_api_key_is_sent_as_temporal_cloud_expects_and_a_refusal_is_not_waited_out(tmp_path: Path):
    ca = ThrowAwayCA(tmp_path / "ca")
    port = free_port()
    key = "tcld-api-key-0123456789abcdef"
    with RefusingGrpcServer(port, ca.issue("namespace.tmprl.test", server=True)) as cloud:
        settings = Settings.from_env(
            {"CASEWORK_TEMPORAL_ADDRESS": f"127.0.0.1:{port}", "CASEWORK_TEMPORAL_API_KEY": key, "CASEWORK_TEMPORAL_TLS_CA": str(ca.cert)}
        )
        assert settings.temporal_connection.tls, "an API key turns TLS on"
        with pytest.raises(RuntimeError) as refused:
            await connect(settings.temporal_connection)
    assert cloud.requests, "the client sent no request"
    assert all(request["authorization"] == f"Bearer {key}" for request in cloud.requests)
    message = str(refused.value)
    assert "refused this client" in message and "UNAUTHENTICATED" in message, message
    assert key not in message and key not in repr(settings)
