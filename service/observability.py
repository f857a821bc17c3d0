"""Metrics and structured logs: what an operator needs to see the service working."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram

# The request and case a log line belongs to, set by the API for the duration of a request.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
case_id_var: ContextVar[str | None] = ContextVar("case_id", default=None)

TRANSITIONS = Counter("casework_transitions", "Actions taken on cases, by kind and action", ["kind", "action"])
REJECTED = Counter("casework_transitions_rejected", "Actions refused, by the rule that refused them", ["reason"])
SLA_BREACHES = Counter("casework_sla_breaches", "Service-level breaches and overdue action items recorded", ["kind", "target"])
PROJECTIONS_REFUSED = Counter(
    "casework_projections_refused", "Changes the read model refused for good (not applied; the case is left as it was), by kind", ["kind"]
)
READ_MODEL_WRITE = Histogram(
    "casework_read_model_write_seconds",
    "Time to write one event and its case to the read model",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, var in (("request_id", request_id_var), ("case_id", case_id_var)):
            if (value := var.get()) is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(form: str) -> None:
    handler = logging.StreamHandler()
    if form == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs each request's full URL at INFO: a WeCom robot's key and a DingTalk access_token are in it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
