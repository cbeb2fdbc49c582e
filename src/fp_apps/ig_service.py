"""``fp-ig serve``: IG as an authenticated HTTP ingress (FastAPI on uvicorn, docs/decisions.md D43).

The same ``IngestionGate`` and laws as the in-process path; this module only parses, authenticates,
limits, and maps outcomes to HTTP. Receipts are answered once they are durable.
"""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any, cast

from fastapi import FastAPI, Header, Path, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from fp_adapters.containers import Platform
from fp_adapters.settings import IngressSettings
from fp_core import topics
from fp_core.canonical import sha256_hex
from fp_core.envelope import EventEnvelope
from fp_core.errors import NotFound, TransientError
from fp_core.identity import derive_id
from fp_core.ingress import JSON, NDJSON, Authenticator, BatchRejected, ProducerGrant, TokenBucket, split_batch
from fp_core.pins import ContextPins
from fp_core.receipts import Receipt
from fp_core.services.ig import IngestionGate

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="the producer's API key")
IDEMPOTENCY = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class ErrorBody(BaseModel):
    error: str
    field: str | None = None


class ReceiptBatch(BaseModel):
    platform_run_id: str
    submission_id: str
    receipts: list[Receipt]


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


def _error(status: int, error: str, field: str | None = None, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(ErrorBody(error=error, field=field).model_dump(), status_code=status, headers=headers)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in {
        401: "no API key, or not a known one", 403: "the producer may not submit to this run",
        404: "no such run served here, or no such receipt", 413: "body or batch over the limit",
        415: "unsupported content-type", 422: "the body is not a batch (the field is named)",
        429: "rate limit: retry after Retry-After seconds",
        503: "substrate unavailable or overloaded: retry after Retry-After seconds (nothing partial is kept "
             "as an answer; re-sending the same Idempotency-Key returns the receipts once durable)"}.items()}

BATCH_BODY = {"requestBody": {"required": True, "content": {
    NDJSON: {"schema": {"type": "string", "description": "one event envelope per line (split on \\n only)"}},
    JSON: {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/EventEnvelope"}}}}}}


class RunGate:
    """The gate of the served run, built once READY is known; submissions are serialised (one writer
    per run: the dedupe tuple's kill-window recovery assumes it, D39)."""

    def __init__(self, container: Platform, platform_run_id: str) -> None:
        self.container, self.run = container, platform_run_id
        self._gate: IngestionGate | None = None
        self._lock = threading.Lock()

    def pins(self) -> ContextPins:
        return self.gate().pins

    def gate(self) -> IngestionGate:
        if self._gate is None:
            ready = self.container.facts().read(self.run).ready
            self._gate = self.container.gate(ready.pins)
        return self._gate

    def submit(self, submission_id: str, raws: list[bytes]) -> list[Receipt]:
        with self._lock:
            return self.gate().submit(submission_id, raws)


ID_PATTERN = r"^[A-Za-z0-9_.:\-]+$"
"""Run, receipt and event ids: what the platform issues (a NUL or a space can name nothing)."""
RunIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=128)]


def create_app(container: Platform, platform_run_id: str, auth: Authenticator, limits: IngressSettings,
               now: Callable[[], float] = time.monotonic) -> FastAPI:
    app = FastAPI(title="fraud-platform IG ingress", version="1",
                  description="Submit event envelopes to a READY run; one durable receipt per event, in order.")
    served = RunGate(container, platform_run_id)
    bucket = TokenBucket(limits.rate_events_per_s, limits.burst_events)
    in_flight = asyncio.Semaphore(limits.max_in_flight)
    app.state.served = served

    def producer_of(key: str | None) -> ProducerGrant | JSONResponse:
        grant = auth.authenticate(key)
        if grant is None:
            return _error(401, "missing or unknown API key", "X-API-Key")
        return grant

    def for_run(key: str | None, run: str) -> ProducerGrant | JSONResponse:
        """The caller's grant for ``run``, or the answer refusing it (401, 404, 403)."""
        grant = producer_of(key)
        if isinstance(grant, JSONResponse):
            return grant
        if run != platform_run_id:
            return _error(404, f"run {run!r} is not served here", "platform_run_id")
        if not grant.may_submit_to(run):
            return _error(403, f"producer {grant.producer_id!r} may not submit to run {run!r}", "platform_run_id")
        return grant

    @app.post("/v1/runs/{platform_run_id}/events", response_model=ReceiptBatch, responses=ERRORS,
              openapi_extra=BATCH_BODY, summary="Submit a batch; receipts once durable")
    async def submit(platform_run_id: RunIdPath, request: Request, key: Annotated[str | None, Security(API_KEY)] = None,
                     idempotency_key: Annotated[str | None, Header(
                         alias="Idempotency-Key", description="names the submission in the run; the same key "
                         "and body again returns the same receipts")] = None) -> Any:
        grant = for_run(key, platform_run_id)
        if isinstance(grant, JSONResponse):
            return grant
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
            return _error(413, f"body is {declared} bytes; the limit is {limits.max_body_bytes}", "body")
        if idempotency_key is not None and not IDEMPOTENCY.match(idempotency_key):
            return _error(422, "Idempotency-Key must match [A-Za-z0-9._:-]{1,128}", "Idempotency-Key")
        try:  # a slow-loris body holds no worker for longer than body_timeout_s
            body = await asyncio.wait_for(request.body(), timeout=limits.body_timeout_s)
        except TimeoutError:
            return _error(408, f"body not received within {limits.body_timeout_s:g} s", "body")
        try:
            raws = split_batch(body, request.headers.get("content-type", ""), limits.max_batch_events,
                               limits.max_body_bytes)
        except BatchRejected as exc:
            return _error(exc.status, exc.message, exc.field)
        wait = bucket.take(grant.producer_id, len(raws), now())
        if wait:
            return _error(429, f"rate limit of {limits.rate_events_per_s:g} events/s", None, math.ceil(wait))
        if in_flight.locked():
            return _error(503, "overloaded: too many batches in flight", None, limits.retry_after_s)
        submission = idempotency_key or derive_id("http", grant.producer_id, platform_run_id, sha256_hex(body))
        async with in_flight:
            try:
                receipts = await run_in_threadpool(served.submit, submission, raws)
            except NotFound:
                return _error(404, f"run {platform_run_id!r} is not READY", "platform_run_id")
            except TransientError as exc:
                return _error(503, f"substrate unavailable: {str(exc).splitlines()[0][:200]}", None,
                              limits.retry_after_s)
        return ReceiptBatch(platform_run_id=platform_run_id, submission_id=submission, receipts=receipts)

    @app.get("/v1/receipts/{receipt_id}", response_model=Receipt, responses=ERRORS, summary="One receipt")
    async def receipt(receipt_id: Annotated[str, Path(pattern=ID_PATTERN, max_length=128)],
                      key: Annotated[str | None, Security(API_KEY)] = None) -> Any:
        grant = producer_of(key)
        if isinstance(grant, JSONResponse):
            return grant
        try:
            found = await run_in_threadpool(container.adapters.receipts().stored, platform_run_id, [receipt_id])
        except TransientError as exc:
            return _error(503, f"substrate unavailable: {str(exc)[:200]}", None, limits.retry_after_s)
        r = found.get(receipt_id)
        if r is None or not grant.may_submit_to(r.platform_run_id):  # another run's receipt is "not found"
            return _error(404, f"no receipt {receipt_id!r}", "receipt_id")
        return r

    @app.get("/v1/runs/{platform_run_id}/receipts", response_model=list[Receipt], responses=ERRORS,
             summary="The receipts of an event in a run")
    async def receipts_of(platform_run_id: RunIdPath,
                          event_id: Annotated[str, Query(min_length=1, max_length=128, pattern=ID_PATTERN)],
                          key: Annotated[str | None, Security(API_KEY)] = None) -> Any:
        grant = for_run(key, platform_run_id)
        if isinstance(grant, JSONResponse):
            return grant
        try:
            return await run_in_threadpool(container.adapters.receipts().for_events, platform_run_id, [event_id])
        except TransientError as exc:
            return _error(503, f"substrate unavailable: {str(exc)[:200]}", None, limits.retry_after_s)

    @app.get("/healthz", response_model=Health, summary="The process is up")
    async def healthz() -> Health:
        return Health(status="up")

    @app.get("/readyz", response_model=Health, responses={503: {"model": Health}},
             summary="The substrate is reachable and the run is READY")
    async def readyz() -> Any:
        def check() -> dict[str, str]:
            out: dict[str, str] = {}
            for name, probe in (("run_ready", lambda: served.pins().platform_run_id),
                                ("receipt_store",
                                 lambda: container.adapters.receipts().stored(served.pins().platform_run_id, ["-"])),
                                ("bus", lambda: container.probe().end_offsets([topics.CONTROL]))):
                try:
                    probe()
                    out[name] = "ok"
                except Exception as exc:  # a readiness probe reports any failure as not ready
                    out[name] = f"{type(exc).__name__}: {str(exc)[:120]}"
            return out
        checks = await run_in_threadpool(check)
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(Health(status="ready" if ok else "not ready", checks=checks).model_dump(),
                            status_code=200 if ok else 503, headers=None if ok else {"Retry-After": "1"})

    # the envelope's schema, so the spec (and the fuzzer) know what an event looks like
    app.openapi_schema = None
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = base_openapi()
            envelope = EventEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(envelope.pop("$defs", {}))
            components["EventEnvelope"] = envelope
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def spec() -> dict[str, Any]:
    """The OpenAPI document (committed as ``docs/ig_openapi.json``; a test holds the two equal)."""
    app = create_app(cast(Platform, None), "-", Authenticator(()), IngressSettings())
    return app.openapi()


if __name__ == "__main__":
    import json

    print(json.dumps(spec(), indent=2, sort_keys=True))
