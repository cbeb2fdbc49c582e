"""WSP, the world streamer: on READY, stream ``stream_view`` into IG with deterministic event ids.

Transient failures are retried (bounded) with the same events and event ids; an ambiguous publish is
resolved by re-submitting the same events, which IG turns into an idempotent re-publish.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fp_core import topics
from fp_core.drills import DrillLedger, Emission, drill_spacing, shape
from fp_core.envelope import EVENT_SCHEMA_VERSION, iso_utc
from fp_core.errors import TransientError
from fp_core.event_class import EventClass
from fp_core.identity import derive_event_id, derive_id
from fp_core.pins import ContextPins
from fp_core.ports import Clock, Log, ObjectStore
from fp_core.receipts import UNCLASSIFIED, PublishState, Receipt
from fp_core.retry import RetryPolicy
from fp_core.services.consuming import OffsetProbe
from fp_core.services.control import ReadySignal, StreamComplete, encode_positions
from fp_core.services.facts import FactLog
from fp_core.world import EVENTS_PER_FLOW, StreamRow

PRODUCER = "wsp"


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
    """WSP into IG for one READY run: shape, encode, submit in batches, then publish STREAM_COMPLETE."""

    objects: ObjectStore
    gate: Callable[[ContextPins], Ingress]
    class_map: Mapping[str, EventClass]
    facts: FactLog
    probe: OffsetProbe
    clock: Clock
    log: Log
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def stream(self, ready: ReadySignal, rate: float | None = None, batch: int | None = None) -> StreamComplete:
        """Stream the run's ``stream_view``; ``rate`` (events/s) paces the offer, as a live source would."""
        pins, config = ready.pins, ready.config
        ledger = DrillLedger(drills=config.drills, every=drill_spacing(config.events // EVENTS_PER_FLOW))
        report = self._stream(self.gate(pins), pins, ready.stream_view_keys, ledger, batch or config.ingest_batch,
                              rate)
        end = self.probe.end_offsets(list(topics.RTDL_INPUTS))
        fact = StreamComplete(
            message_id=derive_id("stream", pins.platform_run_id), platform_run_id=pins.platform_run_id,
            start_offsets=ready.input_start, end_offsets=encode_positions(end),
            sent_by_class=dict(sorted(report.sent_by_class.items())), outcomes=dict(sorted(report.outcomes.items())),
            submissions=report.submissions, retries=report.retries, republished=report.republished,
            drills=ledger.drills, drill_every=ledger.every,
            drill_txn_keys=ledger.txn_keys, drill_injected=ledger.injected)
        self.facts.publish(pins.platform_run_id, fact)
        return fact

    def _stream(self, ingress: Ingress, pins: ContextPins, stream_view_keys: Sequence[str], ledger: DrillLedger,
                batch_size: int, rate: float | None) -> StreamReport:
        report = StreamReport()
        pins_json = pins.model_dump(mode="json")
        batch: list[tuple[str, bytes]] = []
        started = self.clock.monotonic()
        offered = 0
        for em in shape(read_stream_view(self.objects, stream_view_keys), ledger):
            event_type, _event_id, raw = encode(em, pins, pins_json)
            cls = UNCLASSIFIED if em.variant == "garbage" else self._class_name(event_type)
            batch.append((cls, raw))
            if len(batch) >= batch_size:
                self._submit(ingress, pins, batch, report)
                offered += len(batch)
                batch = []
                if rate:
                    self.clock.sleep(max(0.0, started + offered / rate - self.clock.monotonic()))
        if batch:
            self._submit(ingress, pins, batch, report)
        self.log.info("wsp.streamed", platform_run_id=pins.platform_run_id,
                      scenario_run_id=pins.scenario_run_id, sent=report.sent, submissions=report.submissions)
        return report

    def _class_name(self, event_type: str) -> str:
        cls = self.class_map.get(event_type)
        return cls.name if cls else UNCLASSIFIED

    def _submit(self, ingress: Ingress, pins: ContextPins, batch: list[tuple[str, bytes]], report: StreamReport
                ) -> None:
        """Submit one chunk; every submission that returns receipts counts as sent (so reconciliation
        sees re-submissions as the extra DUPLICATE receipts they produce)."""
        chunk = report.submissions
        report.submissions += 1
        pending = batch
        for attempt in self.retry.attempts_on(self.clock):
            submission_id = derive_id("submission", pins.platform_run_id, chunk, attempt)
            try:
                receipts = ingress.submit(submission_id, [raw for _cls, raw in pending])
            except TransientError as exc:
                report.retries += 1
                self.log.warning("wsp.retry", platform_run_id=pins.platform_run_id, attempt=attempt,
                                 error=str(exc))
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
        raise TransientError(f"submission {chunk} still unresolved after {self.retry.attempts} attempts")
