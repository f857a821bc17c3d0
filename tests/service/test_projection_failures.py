"""Which projection failures are for good, on the real stores: a row a store cannot hold is refused
at once with the alarm raised; a lost connection is not, so the activity retries it."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import DataError, OperationalError

from service.projection_failures import ProjectionAlarm, refused_for_good
from service.read_model import ReadModel
from tests.service.test_read_model import make_case, make_event
from workflows.activities import RowRefused


@pytest.mark.postgres
async def test_a_lone_surrogate_is_refused_for_good_by_postgresql(read_model: ReadModel, caplog):
    if read_model.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's driver lets a lone surrogate through; the API refuses it for PostgreSQL's sake")
    case = make_case("c-surrogate", title="\ud800")
    with caplog.at_level(logging.ERROR, logger="casework.projection"), pytest.raises(RowRefused):
        await read_model.project(case, make_event(case))
    assert any(record.levelno == logging.ERROR and "c-surrogate" in record.getMessage() for record in caplog.records)
    status = read_model.alarm.status()
    assert status is not None and "c-surrogate" in status
    assert await read_model.get_case("c-surrogate") is None


@pytest.mark.postgres
async def test_a_nul_is_refused_for_good_by_postgresql_in_text_and_in_jsonb(read_model: ReadModel):
    if read_model.engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores a NUL; the API refuses it for PostgreSQL's sake")
    for number, case in enumerate([make_case("c-nul-text", title="a\x00b"), make_case("c-nul-json", data={"k\x00": 1})]):
        with pytest.raises(RowRefused) as refused:
            await read_model.project(case, make_event(case))
        assert "SQLSTATE 22" in str(refused.value)
        assert "\x00" not in str(refused.value)  # what the database said, never the row
    assert await read_model.history("c-nul-text") == []


def test_a_lost_connection_is_retried_and_a_bad_value_is_not():
    assert not refused_for_good(OperationalError("SELECT 1", {}, ConnectionResetError("reset by peer")))
    assert not refused_for_good(OSError("connection refused"))
    assert not refused_for_good(TimeoutError())
    assert refused_for_good(DataError("INSERT", {}, ValueError("value out of range")))
    assert refused_for_good(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))


def test_the_alarm_reports_recent_refusals_only():
    now = [1000.0]
    alarm = ProjectionAlarm(window_seconds=60, clock=lambda: now[0])
    assert alarm.status() is None
    alarm.record("c-1", 3, "DataError")
    alarm.record("c-1", 3, "DataError")  # the worker and the API report the same refusal
    status = alarm.status()
    assert status is not None and status.startswith("degraded: 1 change(s)") and "c-1" in status
    now[0] += 61
    assert alarm.status() is None


async def test_a_refusal_the_worker_met_is_reported_by_an_api_in_another_process(read_model: ReadModel):
    from tests.api.test_projection_refused import REFUSED, RefusingReadModel

    workers = RefusingReadModel(read_model.engine)
    case = make_case("c-refused-elsewhere", title=REFUSED)
    with pytest.raises(RowRefused):
        await workers.project(case, make_event(case))
    apis = ReadModel(read_model.engine)  # an alarm of its own, as in the API's process under `casework serve`
    assert apis.alarm.status() is None
    status = await apis.refusal_status()
    assert status is not None and status.startswith("degraded: 1 change(s)") and "c-refused-elsewhere" in status
    assert await apis.refusal_status() == status  # read again, counted once
