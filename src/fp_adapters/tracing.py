"""Tracer on OpenTelemetry: one TracerProvider per process, spans exported as JSON lines to the run's
log folder (``logs/<platform_run_id>/traces.jsonl``) and to an OTLP/HTTP endpoint when
``FP_OTLP_ENDPOINT`` is set. A child process joins its parent's trace through ``TRACEPARENT``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TextIO

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

OTLP_ENV, TRACE_FILE_ENV, TRACEPARENT_ENV = "FP_OTLP_ENDPOINT", "FP_TRACE_FILE", "TRACEPARENT"
_provider: TracerProvider | None = None
_files: list[TextIO] = []


def _line(span: ReadableSpan) -> str:
    return str(span.to_json(indent=None)) + "\n"


def configure_tracing(component: str, file: Path | None = None) -> None:
    """Install this process's provider (once) exporting to ``file`` (else ``FP_TRACE_FILE``) and OTLP."""
    global _provider
    target = file or (Path(os.environ[TRACE_FILE_ENV]) if os.environ.get(TRACE_FILE_ENV) else None)
    if _provider is None:
        _provider = TracerProvider(resource=Resource.create({"service.name": f"fraud-platform.{component}"}))
        trace.set_tracer_provider(_provider)
        endpoint = os.environ.get(OTLP_ENV)
        if endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if target is not None and not _files:
        target.parent.mkdir(parents=True, exist_ok=True)
        out = target.open("a", buffering=1, encoding="utf-8")
        _files.append(out)
        _provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=out, formatter=_line)))
    carrier = os.environ.get(TRACEPARENT_ENV)
    if carrier:
        context.attach(TraceContextTextMapPropagator().extract({"traceparent": carrier}))


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.force_flush()


def child_environment() -> dict[str, str]:
    """What a child process needs to join the current trace."""
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return {TRACEPARENT_ENV: carrier["traceparent"]} if "traceparent" in carrier else {}


class OtelTracer:
    def __init__(self, name: str = "fraud-platform") -> None:
        self._name = name

    @contextmanager
    def _span(self, name: str, attributes: dict[str, Any]) -> Iterator[None]:
        with trace.get_tracer(self._name).start_as_current_span(name, attributes=attributes):
            yield

    def span(self, name: str, **attributes: str | int | float | bool) -> AbstractContextManager[None]:
        return self._span(name, attributes)

    def trace_id(self) -> str:
        ctx = trace.get_current_span().get_span_context()
        return format(ctx.trace_id, "032x") if ctx.is_valid else ""
