"""TLS to PostgreSQL from the API, the workers and the command line: the URL's ssl mode and the CA
file reach asyncpg, and a throw-away PostgreSQL with ssl on is reached over verified TLS."""

from __future__ import annotations

import os
import shutil
import ssl

import pytest
from sqlalchemy import text

from service.read_model import ReadModel, engine_for, postgres_tls
from service.settings import Settings, SettingsError
from tests.conftest import free_port
from tests.e2e.private_postgres import PrivatePostgres, binaries
from tests.e2e.tls import ThrowAwayCA

URL = "postgresql+asyncpg://casework:secret@db.internal:5432/casework"


@pytest.fixture
def ca_file(tmp_path):
    path = tmp_path / "ca.pem"
    path.write_text("not read until a connection is made\n")
    return path


@pytest.mark.parametrize(
    ("query", "passed"),
    [("", ""), ("?sslmode=require", "?ssl=require"), ("?ssl=verify-full", "?ssl=verify-full"), ("?sslmode=disable", "?ssl=disable")],
)
def test_the_urls_ssl_mode_reaches_asyncpg_as_ssl(query, passed):
    url, connect_args = postgres_tls(URL + query)
    assert (url, connect_args) == (URL + passed, {})


def test_a_ca_file_becomes_a_context_that_verifies_the_server_and_its_name(tmp_path):
    ca = ThrowAwayCA(tmp_path / "ca")
    url, connect_args = postgres_tls(URL + "?sslmode=verify-full", ca.cert)
    assert url == URL
    context = connect_args["ssl"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    _, verify_ca = postgres_tls(URL + "?ssl=verify-ca", ca.cert)
    assert verify_ca["ssl"].verify_mode == ssl.CERT_REQUIRED and not verify_ca["ssl"].check_hostname


def test_the_ca_setting_is_read_and_checked(ca_file):
    settings = Settings.from_env({"CASEWORK_DATABASE_URL": URL + "?ssl=verify-full", "CASEWORK_DATABASE_TLS_CA": str(ca_file)})
    assert settings.database_tls_ca == ca_file


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CASEWORK_DATABASE_TLS_CA": "{ca}"}, "CASEWORK_DATABASE_TLS_CA is for PostgreSQL"),
        (
            {"CASEWORK_DATABASE_URL": URL, "CASEWORK_DATABASE_TLS_CA": "/nowhere/ca.pem"},
            "CASEWORK_DATABASE_TLS_CA: /nowhere/ca.pem is not a readable file",
        ),
        ({"CASEWORK_DATABASE_URL": URL + "?sslmode=on"}, "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full"),
        ({"CASEWORK_DATABASE_URL": URL + "?ssl=prefer", "CASEWORK_DATABASE_TLS_CA": "{ca}"}, "use verify-full"),
    ],
)
def test_bad_database_tls_settings_are_refused_naming_what_is_wrong(ca_file, env, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env({name: value.format(ca=ca_file) for name, value in env.items()})


@pytest.mark.skipif(binaries() is None and not os.environ.get("CI"), reason="no PostgreSQL server binaries here")
async def test_the_read_model_works_over_verified_tls_and_refuses_a_server_its_ca_did_not_sign(tmp_path):
    ca = ThrowAwayCA(tmp_path / "ca")
    postgres = PrivatePostgres(free_port())
    postgres.init()
    server = ca.issue("localhost", server=True)
    cert, key = (shutil.copy(path, postgres.folder / path.name) for path in (server.cert, server.key))
    postgres.own(cert, key)
    postgres.start("ssl=on", f"ssl_cert_file={cert}", f"ssl_key_file={key}")
    url = postgres.url.replace("127.0.0.1", "localhost") + "?sslmode=verify-full"
    try:
        read_model = ReadModel(engine_for(Settings.from_env({"CASEWORK_DATABASE_URL": url, "CASEWORK_DATABASE_TLS_CA": str(ca.cert)})))
        try:
            await read_model.upgrade()
            await read_model.require_current_schema()
            async with read_model.engine.connect() as connection:
                encrypted = await connection.scalar(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
            assert encrypted is True
        finally:
            await read_model.close()

        stranger = ThrowAwayCA(tmp_path / "stranger", name="Someone else's CA")
        refused = ReadModel(engine_for(Settings.from_env({"CASEWORK_DATABASE_URL": url, "CASEWORK_DATABASE_TLS_CA": str(stranger.cert)})))
        try:
            with pytest.raises(ssl.SSLCertVerificationError):
                await refused.require_current_schema()
        finally:
            await refused.close()
    finally:
        postgres.remove()
