"""How Casework reaches a secured Temporal cluster or Temporal Cloud: the settings, checked at start,
and the arguments every client and worker connects with."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from service.settings import Settings, SettingsError
from service.temporal import connect, connect_options, dev_server_args
from tests.conftest import free_port
from tests.e2e.tls import RefusingGrpcServer, ThrowAwayCA

REMOTE = {"CASEWORK_TEMPORAL_ADDRESS": "casework.a1b2c.tmprl.cloud:7233", "CASEWORK_TEMPORAL_NAMESPACE": "casework.a1b2c"}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    for name, path in paths.items():
        path.write_bytes(f"-----{name}-----\n".encode())
    return {name: str(path) for name, path in paths.items()}


def test_without_tls_settings_clients_connect_in_plain_text():
    options = connect_options(Settings.from_env(REMOTE).temporal_connection)
    assert {name: options[name] for name in ("namespace", "tls", "api_key")} == {"namespace": "casework.a1b2c", "tls": False, "api_key": None}


def test_mutual_tls_reads_the_three_files_and_the_server_name(files):
    settings = Settings.from_env(
        {
            **REMOTE,
            "CASEWORK_TEMPORAL_TLS_CA": files["ca"],
            "CASEWORK_TEMPORAL_TLS_CERT": files["cert"],
            "CASEWORK_TEMPORAL_TLS_KEY": files["key"],
            "CASEWORK_TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
        }
    )
    tls = connect_options(settings.temporal_connection)["tls"]
    assert (tls.server_root_ca_cert, tls.client_cert, tls.client_private_key) == (b"-----ca-----\n", b"-----cert-----\n", b"-----key-----\n")
    assert tls.domain == "temporal.internal"


def test_an_api_key_turns_tls_on_with_the_systems_cas_and_stays_out_of_reprs():
    settings = Settings.from_env({**REMOTE, "CASEWORK_TEMPORAL_API_KEY": "secret-api-key-value"})
    options = connect_options(settings.temporal_connection)
    assert options["api_key"] == "secret-api-key-value"
    assert options["tls"].server_root_ca_cert is None and options["tls"].client_cert is None
    assert "secret-api-key-value" not in repr(settings) + repr(settings.temporal_connection)


def test_tls_on_alone_verifies_the_server_against_the_systems_cas():
    tls = connect_options(Settings.from_env({**REMOTE, "CASEWORK_TEMPORAL_TLS": "on"}).temporal_connection)["tls"]
    assert tls.server_root_ca_cert is None and tls.client_cert is None


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CASEWORK_TEMPORAL_TLS_CERT": "{cert}"}, "CASEWORK_TEMPORAL_TLS_CERT and CASEWORK_TEMPORAL_TLS_KEY go together"),
        ({"CASEWORK_TEMPORAL_TLS_KEY": "{key}"}, "CASEWORK_TEMPORAL_TLS_CERT and CASEWORK_TEMPORAL_TLS_KEY go together"),
        ({"CASEWORK_TEMPORAL_TLS_CA": "/nowhere/ca.pem"}, "CASEWORK_TEMPORAL_TLS_CA: /nowhere/ca.pem is not a readable file"),
        ({"CASEWORK_TEMPORAL_TLS_CERT": "{cert}", "CASEWORK_TEMPORAL_TLS_KEY": "/nowhere/key.pem"}, "CASEWORK_TEMPORAL_TLS_KEY: /nowhere"),
        ({"CASEWORK_TEMPORAL_TLS": "yes"}, "CASEWORK_TEMPORAL_TLS must be one of auto, on, off"),
        ({"CASEWORK_TEMPORAL_TLS": "off", "CASEWORK_TEMPORAL_API_KEY": "k"}, "CASEWORK_TEMPORAL_TLS is off"),
    ],
)
def test_bad_temporal_security_settings_are_refused_naming_what_is_wrong(files, env, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env({**REMOTE, **{name: value.format(**files) for name, value in env.items()}})


def test_tls_needs_a_cluster_address_not_the_embedded_server(files):
    with pytest.raises(SettingsError, match="set CASEWORK_TEMPORAL_ADDRESS"):
        Settings.from_env({"CASEWORK_TEMPORAL_TLS_CA": files["ca"]})


def test_a_certificate_without_its_key_stops_the_worker_with_status_2(files):
    env = {**REMOTE, "CASEWORK_TEMPORAL_TLS_CERT": files["cert"], "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "service.cli", "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "CASEWORK_TEMPORAL_TLS_CERT and CASEWORK_TEMPORAL_TLS_KEY go together" in result.stderr


async def test_a_cluster_that_refuses_namespace_changes_gets_a_warning_saying_what_to_do(tmp_path, caplog):
    """As on Temporal Cloud: the operator API is not the client's (PERMISSION_DENIED); clients start anyway."""
    ca = ThrowAwayCA(tmp_path / "ca")
    port = free_port()
    env = {
        "CASEWORK_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "CASEWORK_TEMPORAL_TLS_CA": str(ca.cert),
        "CASEWORK_TEMPORAL_NAMESPACE": "casework.a1b2c",
    }
    with RefusingGrpcServer(port, ca.issue("cloud", server=True), status=7, allowed=("GetSystemInfo",)) as cloud:
        with caplog.at_level(logging.WARNING, logger="service.temporal"):
            await connect(Settings.from_env(env).temporal_connection)
    assert {request[":path"].rsplit("/", 1)[-1] for request in cloud.requests} >= {"ListSearchAttributes", "UpdateNamespace"}
    warnings = [record.getMessage() for record in caplog.records]
    assert any(
        "search attributes" in text and "CaseKind (Keyword)" in text and "tcld namespace search-attributes add" in text for text in warnings
    ), warnings
    assert any("retention" in text and "tcld namespace retention set" in text for text in warnings), warnings


def test_the_embedded_server_keeps_one_partition_per_task_queue(tmp_path):
    """One machine's workers poll the embedded server: with four partitions (Temporal's default) a fifth of
    new cases' first tasks waited seconds at concurrency 50 in a partition no poller was on."""
    args = dev_server_args(tmp_path, 7233, 8233, "default")
    values = [args[index + 1] for index, arg in enumerate(args) if arg == "--dynamic-config-value"]
    assert {"matching.numTaskqueueReadPartitions=1", "matching.numTaskqueueWritePartitions=1"} <= set(values)
