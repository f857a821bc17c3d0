"""Optional tracing: with the interceptor on, a change leaves spans from the client to the activity."""

import uuid

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client

from service import tracing
from service.cases import Cases, WorkflowConfig
from states.opening import Report
from tests.conftest import worker_on
from tests.support import AGENT


async def test_a_reported_case_is_traced_through_update_and_activity(temporal_env, read_model):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    config = temporal_env.client.config()
    config["interceptors"] = tracing.interceptors(None, tracer=provider.get_tracer("test"))
    client = Client(**config)
    queue = f"tracing-{uuid.uuid4().hex}"
    async with worker_on(client, read_model, queue):
        cases = Cases(client, read_model, WorkflowConfig(queue, 3600, 500))
        await cases.open(Report("complaint", "traced"), AGENT, None, uuid.uuid4().hex)
    names = {span.name for span in exporter.get_finished_spans()}
    assert any(name.startswith("StartUpdateWithStartWorkflow") or name.startswith("UpdateWithStart") for name in names), names
    assert "RunActivity:project_report" in names, names  # the report written and the case routed, in one go
    assert len({span.context.trace_id for span in exporter.get_finished_spans() if span.name == "RunActivity:project_report"}) == 1


def test_tracing_is_off_without_an_endpoint_and_exports_over_otlp_with_one():
    assert tracing.interceptors(None) == []
    (interceptor,) = tracing.interceptors("http://127.0.0.1:4318/v1/traces")
    assert type(interceptor).__name__ == "TracingInterceptor"
