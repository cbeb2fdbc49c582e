"""Replay (seed 11.6, 15.4): re-derive a run's decisions from its recorded replay anchors and prove
they match what DLA audited.

The replay reads the bundle's anchors (``replay/offset_ranges.json``) and the run's pinned config and
pins (``run.json``), re-consumes exactly those offset ranges — from the bus, or from the archive when
retention has passed — rebuilds the join plane in a namespace of its own, and re-runs DF with the
pinned bundle and policy. It touches none of the run's truth stores: its audit, action and bus sinks
only compare and discard. Each re-derived decision's canonical digest is compared with the audited
record of the same decision id; the result is a write-once proof under
``evidence/runs/<id>/replay/proofs/<replay_id>.json``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import orjson

from fp_core.canonical import digest
from fp_core.decisions import ActionIntent, ActionOutcome, AuditRecord, DecisionRecord
from fp_core.envelope import iso_utc
from fp_core.errors import NotFound
from fp_core.evidence import OffsetRangesDoc, ReplayProof, RunHeader, bundle_prefix, render
from fp_core.identity import derive_id
from fp_core.offsets import OriginOffset
from fp_core.pins import ContextPins
from fp_core.ports import (
    AuditLog,
    BusConsumer,
    BusRecord,
    Clock,
    Delivery,
    Log,
    ObjectStore,
    OutboundMessage,
    TableCodec,
    TopicPartition,
)
from fp_core.run_config import RunConfig
from fp_core.scoring import ScoringBundle
from fp_core.services.archive import parse_archive_key
from fp_core.services.consuming import Drainer
from fp_core.services.rtdl import DecisionLoop, SeparateLedger

Source = Literal["kafka", "archive"]
MAX_DIFFERENCES = 20


def decision_digest(decision: DecisionRecord) -> str:
    return digest(decision.model_dump(mode="json"))


def audited_digest(document: str) -> tuple[str, str]:
    """``(decision_id, decision_digest)`` of a stored audit record's JSON: the same digest as
    ``decision_digest`` of the validated record (its JSON form is what ``model_dump(mode="json")`` gives)."""
    decision = orjson.loads(document)["decision"]
    return decision["decision_id"], digest(decision)


def field_differences(audited: Mapping[str, Any], replayed: Mapping[str, Any], path: str = "") -> list[dict[str, Any]]:
    """Field-by-field differences between two decision documents (nested fields as dotted paths)."""
    out: list[dict[str, Any]] = []
    for key in sorted(set(audited) | set(replayed)):
        a, r = audited.get(key), replayed.get(key)
        if a == r:
            continue
        where = f"{path}.{key}" if path else key
        if isinstance(a, dict) and isinstance(r, dict):
            out += field_differences(a, r, where)
        else:
            out.append({"field": where, "audited": a, "replayed": r})
    return out


class ComparingAudit:
    """The replay's audit sink: compares each re-derived decision with the audited one, keeps digests."""

    def __init__(self, audited: Mapping[str, str], audit_log: AuditLog, platform_run_id: str) -> None:
        self._audited, self._audit_log, self._run = audited, audit_log, platform_run_id
        self.replayed: dict[str, str] = {}
        self.matched = 0
        self.mismatched = 0
        self.differences: list[dict[str, Any]] = []

    def append(self, records: Sequence[AuditRecord]) -> int:
        for r in records:
            d = r.decision
            replayed = decision_digest(d)
            self.replayed[d.decision_id] = replayed
            audited = self._audited.get(d.decision_id)
            if audited == replayed:
                self.matched += 1
                continue
            self.mismatched += 1
            if len(self.differences) < MAX_DIFFERENCES:
                self.differences.append(self._difference(d, audited))
        return len(records)

    def _difference(self, replayed: DecisionRecord, audited_digest: str | None) -> dict[str, Any]:
        if audited_digest is None:
            return {"decision_id": replayed.decision_id, "event_id": replayed.event_id, "fields": [],
                    "detail": "no audited decision with this id"}
        [audited] = [a.decision for a in self._audit_log.for_events(self._run, [replayed.event_id])
                     if a.decision.decision_id == replayed.decision_id]
        return {"decision_id": replayed.decision_id, "event_id": replayed.event_id,
                "fields": field_differences(audited.model_dump(mode="json"), replayed.model_dump(mode="json"))}

    def scan(self, platform_run_id: str) -> Iterator[AuditRecord]:
        return iter(())

    def documents(self, platform_run_id: str) -> Iterator[str]:
        return iter(())

    def for_events(self, platform_run_id: str, event_ids: Sequence[str]) -> list[AuditRecord]:
        return []


class NoActions:
    """The replay's action sink: a replay never acts."""

    def execute(self, intents: Sequence[ActionIntent]) -> list[ActionOutcome]:
        return []

    def outcome_counts(self, platform_run_id: str) -> dict[str, int]:
        return {"intents": 0, "outcomes": 0, "duplicate_outcomes": 0}


class DiscardingBus:
    """The replay's bus sink: what a live run would publish (audit, case triggers) is dropped, by design."""

    def publish(self, messages: Sequence[OutboundMessage]) -> list[Delivery]:
        return [Delivery(OriginOffset(topic=m.topic, partition=0, offset=0), None) for m in messages]

    def close(self) -> None:
        pass


class ArchiveConsumer:
    """A bus consumer over the run's archive objects (``archive/<run>/<topic>/p<n>/<first>-<last>.<fmt>``):
    the same records at the same origin offsets, for when the bus's retention has passed."""

    def __init__(self, objects: ObjectStore, codec: TableCodec, keys: Sequence[str]) -> None:
        self._objects, self._codec = objects, codec
        self._keys: dict[TopicPartition, list[tuple[int, int, str]]] = {}
        for key in keys:
            obj = parse_archive_key(key)
            self._keys.setdefault((obj.topic, obj.partition), []).append((obj.first_offset, obj.last_offset, key))
        for v in self._keys.values():
            v.sort()
        self._position: dict[TopicPartition, int] = {}
        self._buffer: dict[TopicPartition, list[BusRecord]] = {}
        self._paused: set[TopicPartition] = set()

    def assign(self, positions: Mapping[TopicPartition, int]) -> None:
        self._position = dict(positions)
        self._buffer = {tp: [] for tp in positions}

    def _fill(self, tp: TopicPartition) -> None:
        want = self._position[tp]
        for _first, last, key in self._keys.get(tp, []):
            if last < want:
                continue
            table = self._codec.decode(self._objects.get(key))
            for offset, k, value in zip(table["offset"], table["key"], table["value"], strict=True):
                if offset >= want:
                    self._buffer[tp].append(BusRecord(OriginOffset(topic=tp[0], partition=tp[1], offset=offset),
                                                      k or None, value))
            return

    def poll_batch(self, max_records: int, timeout_s: float) -> list[BusRecord]:
        out: list[BusRecord] = []
        for tp in sorted(self._position):
            if tp in self._paused:
                continue
            if not self._buffer[tp]:
                self._fill(tp)
            take = self._buffer[tp][: max_records - len(out)]
            del self._buffer[tp][: len(take)]
            if take:
                self._position[tp] = take[-1].origin.offset + 1
            out += take
            if len(out) >= max_records:
                break
        return out

    def commit(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        pass

    def committed(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int | None]:
        return dict.fromkeys(partitions)

    def end_offsets(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        out: dict[TopicPartition, int] = {}
        for (topic, part), spans in self._keys.items():
            if topic in topics:
                out[(topic, part)] = max(last for _first, last, _k in spans) + 1
        return out

    def pause(self, partitions: Sequence[TopicPartition]) -> None:
        self._paused.update(partitions)

    def resume(self, partitions: Sequence[TopicPartition]) -> None:
        self._paused.difference_update(partitions)

    def close(self) -> None:
        pass


class Replayer:
    """``fp replay``: the run's decisions re-derived from its anchors and compared with DLA's."""

    def __init__(self, objects: ObjectStore, audit_log: AuditLog, consumer: Callable[[str], BusConsumer],
                 loop: Callable[..., DecisionLoop], drainer: Drainer, clock: Clock, log: Log,
                 codec: TableCodec) -> None:
        self._objects, self._audit_log, self._consumer, self._loop = objects, audit_log, consumer, loop
        self._codec = codec
        self._drainer, self._clock, self._log = drainer, clock, log

    def _doc(self, run: str, name: str) -> bytes:
        try:
            return self._objects.get(f"{bundle_prefix(run)}/{name}")
        except NotFound:
            raise NotFound(f"run {run}: its evidence bundle has no {name} (was the run closed?)") from None

    def replay(self, platform_run_id: str, source: Source = "kafka", bundle: ScoringBundle | None = None,
               batch_size: int = 5_000) -> tuple[str, ReplayProof]:
        """Replay the run; returns the proof's key and the proof (also written, write-once)."""
        run = platform_run_id
        header = RunHeader.model_validate_json(self._doc(run, "run.json"))
        anchors_doc = OffsetRangesDoc.model_validate_json(self._doc(run, "replay/offset_ranges.json"))
        config = RunConfig.model_validate(header.config, strict=False)
        pins = ContextPins.model_validate(header.pins, strict=False)
        started_ms, t0 = self._clock.now_ms(), self._clock.monotonic()
        replay_id = "rp-" + derive_id("replay", run, source, started_ms)[:12]
        audited = dict(map(audited_digest, self._audit_log.documents(run)))
        sink = ComparingAudit(audited, self._audit_log, run)
        start: dict[TopicPartition, int] = {}
        end: dict[TopicPartition, int] = {}
        for r in anchors_doc.ranges:
            tp = (r.topic, r.partition)
            start[tp] = min(start.get(tp, r.start_offset), r.start_offset)
            end[tp] = max(end.get(tp, r.end_offset + 1), r.end_offset + 1)
        used = bundle or config.bundle
        loop = self._loop(pins=pins, bundle=used, policy=config.policy, start=start, end=end, batch_size=batch_size,
                          ledger=SeparateLedger(sink, NoActions()), producer=DiscardingBus(),
                          join_namespace=f"{run}~{replay_id}")
        consumer = (self._consumer(f"fp-replay-{replay_id}") if source == "kafka"
                    else ArchiveConsumer(self._objects, self._codec, anchors_doc.archive_objects))
        try:
            drained = self._drainer.drain_on(consumer, f"fp-replay-{replay_id}", run, batch_size, start, end,
                                             loop.handle, loop.flush, loop.ahead, record=False)
        finally:
            consumer.close()
        missing = sorted(set(audited) - set(sink.replayed))
        overall = hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(sink.replayed.items())).encode())
        duration = round(self._clock.monotonic() - t0, 3)
        proof = ReplayProof(
            platform_run_id=run, replay_id=replay_id, source=source, consumer_group=anchors_doc.consumer_group,
            anchors=anchors_doc.ranges, records_replayed=drained.consumed, bundle_id=f"{used.bundle_id}:{used.version}",
            bundle_pinned=bundle is None, compared=sink.matched + sink.mismatched, matched=sink.matched,
            mismatched=sink.mismatched, audited=len(audited), missing_in_replay=len(missing),
            differences=sink.differences, decisions_digest=overall.hexdigest(), started_at=iso_utc(started_ms),
            duration_s=duration,
            rates_per_s={"records": round(drained.consumed / duration, 1) if duration else 0.0})
        key = f"{bundle_prefix(run)}/replay/proofs/{replay_id}.json"
        self._objects.put(key, render(proof))
        self._log.info("replay.proved", platform_run_id=run, replay_id=replay_id, source=source,
                       compared=proof.compared, mismatched=proof.mismatched)
        return key, proof
