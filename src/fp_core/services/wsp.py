"""WSP, the world streamer: on READY, stream ``stream_view`` into IG with deterministic event ids.

Transient failures are retried (bounded) with the same events and event ids; an ambiguous publish is
resolved by re-submitting the same events, which IG turns into an idempotent re-publish.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from operator import attrgetter
from typing import Any, Protocol

import msgspec
import orjson

from fp_core import topics
from fp_core.envelope import EVENT_SCHEMA_VERSION, iso_utc
from fp_core.errors import InvalidInput, TransientError
from fp_core.event_class import EventClass
from fp_core.identity import derive_id, event_ids
from fp_core.pins import ContextPins
from fp_core.ports import Clock, Log, ObjectStore
from fp_core.receipts import UNCLASSIFIED, AdmissionOutcome, PublishState, Told
from fp_core.retry import RetryPolicy
from fp_core.services.consuming import OffsetProbe
from fp_core.services.control import ReadySignal, StreamComplete, anomaly_fact, encode_positions
from fp_core.services.facts import FactLog
from fp_core.world import SealedPayload, StreamRow

PRODUCER = "wsp"


class Ingress(Protocol):
    """What WSP submits to: IG's gate, IG over lanes, or the HTTP ingress. One answer per event, in order."""

    def submit(self, submission_id: str, raws: Sequence[bytes]) -> Sequence[Told]: ...


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

    def count(self, sent: Sequence[Outgoing], told: Sequence[Told], again: bool) -> None:
        """Add one submission round: ``sent[i]`` was answered ``told[i]``; ``again``: a round re-submitting
        what came back AMBIGUOUS (its PUBLISHED answers are re-publishes). Counted in C (a Counter over the
        classes, ``list.count`` per enum member), not per event in Python."""
        for cls, n in Counter(map(_event_class, sent)).items():
            self.sent_by_class[cls] = self.sent_by_class.get(cls, 0) + n
        outcomes = list(map(_outcome, told))
        for outcome in AdmissionOutcome:
            if n := outcomes.count(outcome):
                self.outcomes[outcome.value] = self.outcomes.get(outcome.value, 0) + n
        if again:
            self.republished += list(map(_publish_state, told)).count(PublishState.PUBLISHED)


_event_class = attrgetter("event_class")
_outcome = attrgetter("outcome")
_publish_state = attrgetter("publish_state")


class _ViewLine(msgspec.Struct, gc=False):
    """A stream_view line as read: its payload left as the bytes it was sealed as (any other field ignored)."""

    event_type: str
    natural_key: str
    ts_ms: int
    payload: msgspec.Raw


_decode_view_line = msgspec.json.Decoder(_ViewLine).decode


def read_stream_view(objects: ObjectStore, keys: Sequence[str]) -> Iterator[StreamRow]:
    """Rows of the sealed stream_view, part by part (one part in memory at a time); a payload stays the bytes
    it was sealed as (``SealedPayload``). A line that is not a row raises InvalidInput naming it."""
    for key in keys:
        for number, line in enumerate(objects.get(key).splitlines(), start=1):
            if line:
                try:
                    v = _decode_view_line(line)
                except msgspec.MsgspecError as exc:
                    raise InvalidInput(f"stream_view {key} line {number}: {exc}") from None
                yield StreamRow(v.event_type, v.natural_key, v.ts_ms, SealedPayload(bytes(v.payload)))


class Outgoing(msgspec.Struct, frozen=True, gc=False):
    """One event as WSP hands it to IG: its class (for reconciliation) and its raw bytes (plain data: one per
    event)."""

    event_class: str
    raw: bytes


_ENVELOPE_TAIL = b"".join((b',"schema_version":', orjson.dumps(EVENT_SCHEMA_VERSION), b',"producer":',
                           orjson.dumps(PRODUCER), b"}"))


class Encoder:
    """Rows of the stream view as the envelopes IG receives, with deterministic event ids."""

    def __init__(self, pins: ContextPins, class_map: Mapping[str, EventClass]) -> None:
        self.pins, self.pins_json, self._class_map = pins, pins.model_dump(mode="json"), class_map
        self._event_id = event_ids(pins.scenario_run_id)
        self._pins_bytes = orjson.dumps(self.pins_json)

    def event_id(self, row: StreamRow) -> str:
        return self._event_id(row.event_type, row.natural_key)

    def class_of(self, event_type: str) -> str:
        cls = self._class_map.get(event_type)
        return cls.name if cls else UNCLASSIFIED

    def envelope(self, event_id: str, event_type: str, ts_ms: int, payload: Mapping[str, Any],
                 pins_json: Mapping[str, Any] | None = None) -> bytes:
        # Compact UTF-8 JSON (orjson), the envelope's fields in a fixed order: the constant parts are encoded
        # once and each event's values spliced between them, the bytes orjson gives for the whole dict at
        # half the cost. A sealed payload is spliced as sealed: for the world's rows, the very bytes orjson
        # gives the decoded payload (a unit test holds every envelope equal); for any payload, the same payload
        # once parsed. IG hashes the parsed payload canonically, so the raw form decides nothing.
        body = payload.json if type(payload) is SealedPayload else orjson.dumps(payload)
        return b"".join((b'{"event_id":', orjson.dumps(event_id), b',"event_type":', orjson.dumps(event_type),
                         b',"ts_utc":"', iso_utc(ts_ms).encode(), b'","pins":',  # digits and ASCII signs
                         self._pins_bytes if pins_json is None else orjson.dumps(pins_json),
                         b',"payload":', body, _ENVELOPE_TAIL))

    def __call__(self, row: StreamRow) -> Outgoing:
        return Outgoing(self.class_of(row.event_type),
                        self.envelope(self.event_id(row), row.event_type, row.ts_ms, row.payload))


class SourceShaper(Protocol):
    """What stands between the stream view and IG: the identity, or a decorator that reshapes the run's
    input (the incident drills, ``fp_core.drills.hooks``)."""

    def shape(self, ready: ReadySignal, rows: Iterator[StreamRow], encode: Encoder) -> Iterator[Outgoing]: ...


class PlainSource:
    """Every row, encoded, in order."""

    def shape(self, ready: ReadySignal, rows: Iterator[StreamRow], encode: Encoder) -> Iterator[Outgoing]:
        return map(encode, rows)


@dataclass
class WorldStreamer:
    """WSP into IG for one READY run: shape, encode, submit in batches, then publish STREAM_COMPLETE."""

    objects: ObjectStore
    gate: Callable[[ContextPins], Ingress]
    class_map: Mapping[str, EventClass]
    source: SourceShaper
    facts: FactLog
    probe: OffsetProbe
    clock: Clock
    log: Log
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def stream(self, ready: ReadySignal, rate: float | None = None, batch: int | None = None) -> StreamComplete:
        """Stream the run's ``stream_view``; ``rate`` (events/s) paces the offer, as a live source would."""
        pins = ready.pins
        items = self.source.shape(ready, read_stream_view(self.objects, ready.stream_view_keys),
                                  Encoder(pins, self.class_map))
        report = self._stream(self.gate(pins), pins, items, batch or ready.config.ingest_batch, rate)
        end = self.probe.end_offsets(list(topics.RTDL_INPUTS))
        fact = StreamComplete(
            message_id=derive_id("stream", pins.platform_run_id), platform_run_id=pins.platform_run_id,
            scenario_run_id=pins.scenario_run_id,
            start_offsets=ready.input_start, end_offsets=encode_positions(end),
            sent_by_class=dict(sorted(report.sent_by_class.items())), outcomes=dict(sorted(report.outcomes.items())),
            submissions=report.submissions, retries=report.retries, republished=report.republished)
        self.facts.publish(pins.platform_run_id, fact)
        self.facts.publish(pins.platform_run_id, anomaly_fact(pins.platform_run_id, pins.scenario_run_id, "wsp_ig", {
            "payload_hash_anomalies": report.outcomes.get("ANOMALY", 0),
            "quarantined": report.outcomes.get("QUARANTINE", 0), "duplicates": report.outcomes.get("DUPLICATE", 0),
            "republished": report.republished, "retries": report.retries}))
        return fact

    def _stream(self, ingress: Ingress, pins: ContextPins, items: Iterator[Outgoing], batch_size: int,
                rate: float | None) -> StreamReport:
        report = StreamReport()
        started = self.clock.monotonic()
        offered = 0
        while batch := list(islice(items, batch_size)):
            self._submit(ingress, pins, batch, report)
            offered += len(batch)
            if rate and len(batch) == batch_size:
                self.clock.sleep(max(0.0, started + offered / rate - self.clock.monotonic()))
        self.log.info("wsp.streamed", platform_run_id=pins.platform_run_id,
                      scenario_run_id=pins.scenario_run_id, sent=report.sent, submissions=report.submissions)
        return report

    def _submit(self, ingress: Ingress, pins: ContextPins, batch: list[Outgoing], report: StreamReport) -> None:
        """Submit one chunk; every submission that returns receipts counts as sent (so reconciliation
        sees re-submissions as the extra DUPLICATE receipts they produce).

        The submission id names the chunk and the round (a round re-submits what came back AMBIGUOUS), not
        the attempt: a transient failure, or a WSP restarted from the start of the stream, re-submits the
        same id, and IG answers an id whose receipts are durable with those receipts."""
        chunk = report.submissions
        report.submissions += 1
        pending = batch
        rounds = 0
        for attempt in self.retry.attempts_on(self.clock):
            submission_id = derive_id("submission", pins.platform_run_id, chunk, rounds)
            try:
                receipts = ingress.submit(submission_id, [item.raw for item in pending])
            except TransientError as exc:
                report.retries += 1
                self.log.warning("wsp.retry", platform_run_id=pins.platform_run_id,
                                 scenario_run_id=pins.scenario_run_id, submission=chunk, attempt=attempt,
                                 error=str(exc)[:300])
                continue
            if len(receipts) != len(pending):
                raise RuntimeError(f"submission {submission_id}: {len(receipts)} answers for {len(pending)} events")
            report.count(pending, receipts, rounds > 0)
            states = list(map(_publish_state, receipts))
            if PublishState.AMBIGUOUS not in states:
                return
            pending = [item for item, state in zip(pending, states, strict=True) if state is PublishState.AMBIGUOUS]
            rounds += 1
            report.retries += 1
        raise TransientError(f"wsp submission {chunk} still unresolved after {self.retry.attempts} attempts")
