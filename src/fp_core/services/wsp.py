"""WSP, the world streamer: on READY, stream ``stream_view`` into IG with deterministic event ids.

Transient failures are retried (bounded) with the same events and event ids; an ambiguous publish is
resolved by re-submitting the same events, which IG turns into an idempotent re-publish.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from fp_core.drills import DrillLedger, Emission, shape
from fp_core.envelope import EVENT_SCHEMA_VERSION
from fp_core.errors import TransientError
from fp_core.event_class import EventClass
from fp_core.identity import derive_event_id, derive_id
from fp_core.pins import ContextPins
from fp_core.ports import Clock, Log, ObjectStore
from fp_core.receipts import UNCLASSIFIED, PublishState, Receipt
from fp_core.world import StreamRow

PRODUCER = "wsp"
MAX_ATTEMPTS = 5


class Ingress(Protocol):
    def submit(self, submission_id: str, raws: Sequence[bytes]) -> list[Receipt]: ...


@dataclass
class StreamReport:
    sent_by_class: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    submissions: int = 0
    retries: int = 0
    republished: int = 0

    @property
    def sent(self) -> int:
        return sum(self.sent_by_class.values())


def iso_utc(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def read_stream_view(objects: ObjectStore, keys: Sequence[str]) -> Iterator[StreamRow]:
    """Rows of the sealed stream_view, part by part (one part in memory at a time)."""
    for key in keys:
        for line in objects.get(key).splitlines():
            if line:
                d = json.loads(line)
                yield StreamRow(d["event_type"], d["natural_key"], d["ts_ms"], d["payload"])


def encode(em: Emission, pins: ContextPins, pins_json: dict[str, Any]) -> tuple[str, str, bytes]:
    """The event as IG receives it: ``(event_type, event_id, raw bytes)``, shaped by its drill variant."""
    row = em.row
    event_type = "loyalty_points" if em.variant == "unknown_type" else row.event_type
    event_id = derive_event_id(pins.scenario_run_id, row.event_type, row.natural_key)
    if em.variant == "garbage":
        return event_type, event_id, b'{"event_id": "' + row.natural_key.encode() + b'", not json'
    env_pins = pins_json
    if em.variant == "foreign_run":
        env_pins = dict(pins_json, platform_run_id=pins.platform_run_id + "-foreign")
    body = {"event_id": event_id, "event_type": event_type, "ts_utc": iso_utc(row.ts_ms), "pins": env_pins,
            "payload": row.payload, "schema_version": EVENT_SCHEMA_VERSION, "producer": PRODUCER}
    return event_type, event_id, json.dumps(body, separators=(",", ":")).encode()


@dataclass
class WorldStreamer:
    objects: ObjectStore
    ingress: Ingress
    class_map: Mapping[str, EventClass]
    clock: Clock
    log: Log
    batch_size: int = 5_000
    rate: float | None = None

    def stream(self, pins: ContextPins, stream_view_keys: Sequence[str], ledger: DrillLedger) -> StreamReport:
        report = StreamReport()
        pins_json = pins.model_dump(mode="json")
        batch: list[tuple[str, bytes]] = []
        started = self.clock.monotonic()
        offered = 0
        for em in shape(read_stream_view(self.objects, stream_view_keys), ledger):
            event_type, _event_id, raw = encode(em, pins, pins_json)
            cls = UNCLASSIFIED if em.variant == "garbage" else self._class_name(event_type)
            batch.append((cls, raw))
            if len(batch) >= self.batch_size:
                self._submit(pins, batch, report)
                offered += len(batch)
                batch = []
                if self.rate:
                    self.clock.sleep(max(0.0, started + offered / self.rate - self.clock.monotonic()))
        if batch:
            self._submit(pins, batch, report)
        self.log.info("wsp.streamed", platform_run_id=pins.platform_run_id,
                      scenario_run_id=pins.scenario_run_id, sent=report.sent, submissions=report.submissions)
        return report

    def _class_name(self, event_type: str) -> str:
        cls = self.class_map.get(event_type)
        return cls.name if cls else UNCLASSIFIED

    def _submit(self, pins: ContextPins, batch: list[tuple[str, bytes]], report: StreamReport) -> None:
        """Submit one chunk; every submission that returns receipts counts as sent (so reconciliation
        sees re-submissions as the extra DUPLICATE receipts they produce)."""
        chunk = report.submissions
        report.submissions += 1
        pending = batch
        for attempt in range(MAX_ATTEMPTS):
            submission_id = derive_id("submission", pins.platform_run_id, chunk, attempt)
            try:
                receipts = self.ingress.submit(submission_id, [raw for _cls, raw in pending])
            except TransientError as exc:
                report.retries += 1
                self.log.warning("wsp.retry", platform_run_id=pins.platform_run_id, attempt=attempt,
                                 error=str(exc))
                self.clock.sleep(min(2.0, 0.1 * 2**attempt))
                continue
            for (cls, _raw), r in zip(pending, receipts, strict=True):
                report.sent_by_class[cls] = report.sent_by_class.get(cls, 0) + 1
                report.outcomes[r.outcome.value] = report.outcomes.get(r.outcome.value, 0) + 1
                if attempt and r.publish_state is PublishState.PUBLISHED:
                    report.republished += 1
            ambiguous = [item for item, r in zip(pending, receipts, strict=True)
                         if r.publish_state is PublishState.AMBIGUOUS]
            if not ambiguous:
                return
            pending = ambiguous
            report.retries += 1
            self.clock.sleep(min(2.0, 0.1 * 2**attempt))
        raise TransientError(f"submission {chunk} still unresolved after {MAX_ATTEMPTS} attempts")
