"""Optional OpenTelemetry tracing through Temporal's interceptor: a span for each client call,
workflow update and activity, linked across processes. On when CASEWORK_OTLP_ENDPOINT is set;
needs the `tracing` extra (`pip install 'casework[tracing]'`)."""

from __future__ import annotations

from typing import Any


class TracingUnavailable(RuntimeError):
    pass


def interceptors(otlp_endpoint: str | None, tracer: Any = None) -> list:
    """The client interceptors that trace, exporting to `otlp_endpoint` (or to a given tracer)."""
    if otlp_endpoint is None and tracer is None:
        return []
    try:
        from temporalio.contrib.opentelemetry import TracingInterceptor
    except ImportError as error:
        raise TracingUnavailable(f"tracing needs the OpenTelemetry packages: pip install 'casework[tracing]' ({error})") from None
    if tracer is None:
        assert otlp_endpoint is not None
        tracer = _otlp_tracer(otlp_endpoint)
    return [TracingInterceptor(tracer)]


def _otlp_tracer(endpoint: str):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "casework"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider.get_tracer("casework")
