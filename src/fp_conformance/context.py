"""What a check gets: the environment's container (built by ``build_container(env)``, the same
composition root the apps use), the ports of its adapter set, and one small shared platform run with
every drill. Checks reach the substrate only through these ports and the container's services."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog

from fp_adapters.containers import Platform, build_container
from fp_adapters.logging import configure
from fp_adapters.settings import Settings, load_settings
from fp_core.pins import ContextPins
from fp_core.ports import (
    ActionLog,
    AdmissionIndex,
    AuditLog,
    BusConsumer,
    BusProducer,
    CaseStore,
    CheckpointLog,
    Clock,
    DecisionLedger,
    JoinStore,
    LabelStore,
    Log,
    ObjectStore,
    QuarantineIndex,
    ReceiptLog,
    RegistryLog,
)
from fp_core.run_config import DRILLS, RunConfig
from fp_core.services.run import RunResult


@dataclass(frozen=True)
class Ports:
    """The ports of one adapter set, as the checks see them (instances, resolved once)."""

    objects: ObjectStore
    producer: BusProducer
    consumer: Callable[[str], BusConsumer]
    admission_index: AdmissionIndex
    receipts: ReceiptLog
    quarantine_index: QuarantineIndex
    join_store: JoinStore
    audit_log: AuditLog
    action_log: ActionLog
    decision_ledger: DecisionLedger
    cases: CaseStore
    labels: LabelStore
    checkpoints: CheckpointLog
    registry_log: RegistryLog
    clock: Clock
    log: Log
    secrets_in_use: list[str]
    conformance_skips: dict[str, str]

    @classmethod
    def of(cls, container: Platform) -> Ports:
        a: Any = container.adapters
        return cls(**{name: getattr(a, name)() for name in cls.__dataclass_fields__})


@dataclass
class SmallRun:
    result: RunResult
    config: RunConfig
    logs: str


@dataclass
class ConformanceContext:
    env: str
    settings: Settings
    container: Platform
    ports: Ports
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _small: SmallRun | None = None

    @classmethod
    @contextmanager
    def open(cls, env: str) -> Iterator[ConformanceContext]:
        configure("WARNING")
        settings = load_settings(env)
        settings = settings.model_copy(update={"drills": settings.drills.model_copy(update={"lag_pause_s": 0.3})})
        container = build_container(env, settings)
        container.init_resources()
        try:
            yield cls(env, settings, container, Ports.of(container))
        finally:
            container.shutdown_resources()

    @contextmanager
    def other_container(self, **bus_overrides: Any) -> Iterator[Platform]:
        """A second container for the same env (own connections), optionally with bus overrides."""
        settings = self.settings.model_copy(update={"bus": self.settings.bus.model_copy(update=bus_overrides)})
        container = build_container(self.env, settings)
        container.init_resources()
        try:
            yield container
        finally:
            container.shutdown_resources()

    def run_id(self, name: str) -> str:
        return f"conf-{self.env}-{self.session}-{name}".replace("_", "-")

    def pins(self, run_id: str) -> ContextPins:
        return ContextPins(platform_run_id=run_id, scenario_run_id="sr-conformance", manifest_fingerprint="c" * 64,
                           seed=1, schema_version="fp.event.v1", policy_id="fraud-policy-v1",
                           bundle_id="fraud-logit:1.0.0")

    def small_run(self) -> SmallRun:
        """One platform run with every drill, its logs captured; shared by the checks that read it."""
        if self._small is None:
            config = RunConfig(env=self.env, seed=23, events=1200, drills=DRILLS)
            with captured_logs() as buffer:
                result = self.container.workflow().run(config, self.run_id("run"))
            self._small = SmallRun(result, config, buffer.getvalue())
        return self._small


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """The production log pipeline (JSON, redaction) at INFO, writing into a buffer while open."""
    buffer = io.StringIO()
    configure("INFO")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    try:
        yield buffer
    finally:
        configure("WARNING")


def envelope(pins: ContextPins, event_id: str, event_type: str = "transaction", amount: int = 500,
             **payload_over: Any) -> bytes:
    payloads: dict[str, dict[str, Any]] = {
        "transaction": {"txn_id": "t1", "flow_id": "f1", "merchant_id": "m1", "amount_minor": amount,
                        "currency": "GBP", "merchant_country": "GB"},
        "arrival_event": {"arrival_id": "a1", "merchant_id": "m1", "customer_id": "c1", "channel": "web",
                          "country": "GB"},
    }
    payload = dict(payloads.get(event_type, payloads["transaction"]), **payload_over)
    return json.dumps({"event_id": event_id, "event_type": event_type, "ts_utc": "2026-01-01T00:00:00.000+00:00",
                       "pins": pins.model_dump(mode="json"), "payload": payload, "producer": "conformance",
                       "schema_version": "fp.event.v1"}).encode()
