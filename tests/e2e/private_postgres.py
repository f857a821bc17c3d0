"""A PostgreSQL server of the test's own, so a fault test can stop and start it without touching
the machine's shared one. Needs the server binaries (Debian's postgresql package) and the postgres
user, as on our machines."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found and shutil.which("runuser") else None


class PrivatePostgres:
    def __init__(self, port: int):
        # Not under pytest's folder: the postgres user may not enter it.
        self.folder = Path(tempfile.mkdtemp(prefix="casework-pg-"))
        self.port = port
        bin = binaries()
        if bin is None:
            raise AssertionError("no PostgreSQL server binaries (pg_ctl) or no runuser here")
        self.bin = bin
        self.data = self.folder / "pgdata"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def own(self, *paths: Path | str) -> None:
        """Hand files to the server's user, readable by it only (PostgreSQL insists for its TLS key)."""
        for path in paths:
            shutil.chown(path, "postgres", "postgres")
            os.chmod(path, 0o600)

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        shutil.chown(self.folder, "postgres", "postgres")
        os.chmod(self.folder, 0o755)
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def start(self, *settings: str) -> None:
        """`settings`: more server settings, `name=value` each."""
        options = " ".join(
            [f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off", *(f"-c {setting}" for setting in settings)]
        )
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "pg.log"), "-w", "start")

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(self.folder, ignore_errors=True)
