"""TLS for tests: a throw-away certificate authority (the openssl command), and a TLS terminator in
front of a plain TCP service, verifying client certificates against that authority."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import h2.config
import h2.connection
import h2.events
import h2.exceptions

OPENSSL = shutil.which("openssl")


@dataclass(frozen=True)
class KeyPair:
    cert: Path
    key: Path


class ThrowAwayCA:
    """A CA made for one test; it issues server and client certificates."""

    def __init__(self, folder: Path, name: str = "Casework test CA"):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.cert = folder / "ca.pem"
        self.key = folder / "ca.key"
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", self.key, "-out", self.cert, "-days", "2", "-subj", f"/CN={name}",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip

    def issue(self, name: str, *, server: bool = False) -> KeyPair:
        key, request, cert = (self.folder / f"{name}{suffix}" for suffix in (".key", ".csr", ".pem"))
        extensions = self.folder / f"{name}.ext"
        usage = "serverAuth" if server else "clientAuth"
        lines = [f"extendedKeyUsage={usage}", "basicConstraints=CA:FALSE"]
        if server:
            lines.append(f"subjectAltName=DNS:{name},DNS:localhost,IP:127.0.0.1")
        extensions.write_text("\n".join(lines) + "\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", request, "-subj", f"/CN={name}")  # fmt: skip
        _openssl("x509", "-req", "-in", request, "-CA", self.cert, "-CAkey", self.key, "-CAcreateserial",
                 "-out", cert, "-days", "2", "-extfile", extensions)  # fmt: skip
        return KeyPair(cert, key)


def _openssl(*args: object) -> None:
    subprocess.run([OPENSSL or "openssl", *map(str, args)], check=True, capture_output=True, timeout=60)


class TlsTerminator:
    """TLS on `port`, plain TCP to `target`, in a thread of its own (tests block their event loop on
    subprocesses). With `client_ca`, a client without a certificate that CA signed is refused in the
    handshake. Not stunnel: it cannot offer ALPN `h2`, without which Temporal's client refuses
    the connection (H2NotNegotiated)."""

    def __init__(self, port: int, target: str, server: KeyPair, client_ca: Path | None):
        self.port = port
        self.target_host, target_port = target.rsplit(":", 1)
        self.target_port = int(target_port)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(server.cert, server.key)
        self.context.set_alpn_protocols(["h2"])
        if client_ca is not None:
            self.context.load_verify_locations(client_ca)
            self.context.verify_mode = ssl.CERT_REQUIRED
        self.refused: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> Self:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            relays = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in relays:
                task.cancel()
            await asyncio.gather(*relays, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    async def _listen(self) -> asyncio.Server:
        # The handshake is done by hand, so a refused one is recorded instead of logged by asyncio.
        return await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await writer.start_tls(self.context)
        except (ssl.SSLError, ConnectionError) as error:
            self.refused.append(str(error))
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(self.target_host, self.target_port)
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


def _text(header: str | bytes) -> str:
    """h2 hands over headers as str under header_encoding, though its types say bytes."""
    return header if isinstance(header, str) else header.decode()


class RefusingGrpcServer(TlsTerminator):
    """A gRPC server over TLS that records each request's headers and refuses it with `status`
    (16 UNAUTHENTICATED: as a cluster does with a wrong API key), except the `allowed` methods, which
    get an empty answer: where a test sees what the client sends."""

    def __init__(self, port: int, server: KeyPair, status: int = 16, allowed: tuple[str, ...] = ()):
        super().__init__(port, "127.0.0.1:0", server, client_ca=None)
        self.status = status
        self.allowed = allowed
        self.requests: list[dict[str, str]] = []

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await writer.start_tls(self.context)
        except (ssl.SSLError, ConnectionError) as error:
            self.refused.append(str(error))
            writer.close()
            return
        connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        connection.initiate_connection()
        writer.write(connection.data_to_send())
        try:
            while data := await reader.read(65536):
                for event in connection.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        headers = {_text(name): _text(value) for name, value in event.headers or []}
                        self.requests.append(headers)
                        connection.send_headers(event.stream_id, [(":status", "200"), ("content-type", "application/grpc")])
                        if headers[":path"].rsplit("/", 1)[-1] in self.allowed:
                            connection.send_data(event.stream_id, b"\x00\x00\x00\x00\x00")  # an empty message
                            trailers = [("grpc-status", "0")]
                        else:
                            trailers = [("grpc-status", str(self.status)), ("grpc-message", "the stub refuses this call")]
                        connection.send_headers(event.stream_id, trailers, end_stream=True)
                writer.write(connection.data_to_send())
                await writer.drain()
        except (ConnectionError, ssl.SSLError, h2.exceptions.ProtocolError):
            pass
        finally:
            writer.close()
