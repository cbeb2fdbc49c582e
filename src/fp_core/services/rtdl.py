"""RTDL: context builds the join plane (CSFB) and counters (OFP); traffic triggers DF -> AL -> DLA.

Decisions are gated by event time: a transaction is decided once every input partition still being
read has passed ``txn_ts + readiness_bound``, so which context a decision sees never depends on
read timing. Offsets are reported safe only after the join plane, audit and actions are durable.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson

from fp_core import topics
from fp_core.cases import case_trigger_for
from fp_core.context import ContextItem, ContextKind
from fp_core.decisions import ActionOutcome, AuditRecord, TransactionView, audit_record, decide
from fp_core.degrade import JoinFrame, assess_join_readiness
from fp_core.envelope import ts_ms
from fp_core.errors import PublishAmbiguous
from fp_core.event_class import TRAFFIC_CLASS
from fp_core.offsets import OriginOffset
from fp_core.pins import ContextPins
from fp_core.ports import (
    RARE_EVENT_LINES,
    ActionLog,
    AuditLog,
    BusConsumer,
    BusProducer,
    BusRecord,
    Clock,
    DecisionLedger,
    JoinStore,
    Log,
    OutboundMessage,
    TopicPartition,
)
from fp_core.retry import RetryPolicy
from fp_core.scoring import DecisionPolicy, ScoringBundle
from fp_core.services.consuming import Drainer, Ends, resolve_end
from fp_core.services.control import ReadySignal, StageComplete, StreamComplete, anomaly_fact, decode_positions
from fp_core.services.facts import FactLog

CONTEXT_TOPICS: dict[str, tuple[ContextKind, str]] = {
    topics.CONTEXT_ARRIVAL_EVENTS: (ContextKind.ARRIVAL, "arrival_id"),
    topics.CONTEXT_ARRIVAL_ENTITIES: (ContextKind.ENTITIES, "arrival_id"),
    topics.CONTEXT_FLOW_ANCHOR: (ContextKind.FLOW_ANCHOR, "flow_id"),
}
NEG_INF = -(2**62)
POS_INF = 2**62


@dataclass
class LatencyHistogram:
    """Millisecond buckets (the last one collects everything slower): memory flat in run size."""

    buckets: list[int] = field(default_factory=lambda: [0] * 2_001)

    def add(self, seconds: float, n: int = 1) -> None:
        self.buckets[min(int(seconds * 1000), 2_000)] += n

    def percentiles(self) -> dict[str, int]:
        total = sum(self.buckets)
        out: dict[str, int] = {"count": total}
        for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            seen, rank = 0, q * total
            for ms, n in enumerate(self.buckets):
                seen += n
                if total and seen >= rank:
                    out[name] = ms
                    break
        return out


COARSE_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2000)


def coarse_histogram(h: LatencyHistogram) -> dict[str, int]:
    """The millisecond buckets folded into a few, for a person to read: ``"<=N"`` and ``">2000"``."""
    out: dict[str, int] = {}
    low = 0
    for high in COARSE_MS:
        out[f"<={high}"] = sum(h.buckets[low:high + 1]) if high < 2000 else sum(h.buckets[low:2000])
        low = high + 1
    out[">2000"] = h.buckets[2000]
    return out


@dataclass
class RateSeries:
    """Events per time bucket since the first one; buckets double in width past 240, so memory stays flat."""

    width_s: float = 1.0
    counts: list[int] = field(default_factory=list)
    origin: float | None = None

    def add(self, at: float, n: int) -> None:
        if self.origin is None:
            self.origin = at
        i = int((at - self.origin) / self.width_s)
        while i >= 240:
            self.counts = [sum(self.counts[j:j + 2]) for j in range(0, len(self.counts), 2)]
            self.width_s *= 2
            i = int((at - self.origin) / self.width_s)
        if i >= len(self.counts):
            self.counts.extend([0] * (i + 1 - len(self.counts)))
        self.counts[i] += n

    def doc(self) -> dict[str, Any]:
        return {"bucket_s": self.width_s, "counts": list(self.counts)}


@dataclass
class RtdlStats:
    decisions: int = 0
    degraded: int = 0
    new_outcomes: int = 0
    case_triggers: int = 0
    context_items: int = 0
    foreign_records: int = 0
    max_pending: int = 0
    decision_batches: int = 0
    dead_letters: int = 0
    republished_copies: int = 0
    consumed_by_topic: dict[str, int] = field(default_factory=dict)
    consumed_to_durable: LatencyHistogram = field(default_factory=LatencyHistogram)
    ready_to_durable: LatencyHistogram = field(default_factory=LatencyHistogram)
    decided_over_time: RateSeries = field(default_factory=RateSeries)


@dataclass
class SeparateLedger:
    """A DecisionLedger over an AuditLog and an ActionLog that share no transaction: the audit records are
    appended first, then the intents executed (each step idempotent, so a batch redone after a crash
    between them completes it)."""

    audit_log: AuditLog
    action_log: ActionLog

    def record(self, records: Sequence[AuditRecord]) -> list[ActionOutcome]:
        self.audit_log.append(records)
        return self.action_log.execute([r.intent for r in records])


@dataclass
class DecisionLoop:
    """Handler for the RTDL consumer group; feed it to ``RangeConsumer.drain`` with ``flush``."""

    pins: ContextPins
    bundle: ScoringBundle
    policy: DecisionPolicy
    join_store: JoinStore
    ledger: DecisionLedger
    producer: BusProducer
    log: Log
    start: Mapping[TopicPartition, int]
    end: Ends
    clock: Clock
    batch_size: int = 5_000
    align_ms: int = 30_000
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=3))
    join_namespace: str = ""
    """Where this loop's join plane lives (default: the run id); a replay rebuilds it in its own."""
    stats: RtdlStats = field(default_factory=RtdlStats)

    def __post_init__(self) -> None:
        self._ns = self.join_namespace or self.pins.platform_run_id
        self._watermark: dict[TopicPartition, int] = dict.fromkeys(self.start, NEG_INF)
        self._position: dict[TopicPartition, int] = dict(self.start)
        self._pending: list[tuple[int, str, float, TransactionView]] = []
        self._undecided: dict[TopicPartition, deque[int]] = {}
        self._decided: set[OriginOffset] = set()
        self._seen_traffic: set[str] = set()

    def handle(self, records: Sequence[BusRecord]) -> dict[TopicPartition, int]:
        run = self.pins.platform_run_id
        consumed_at = self.clock.monotonic()
        contexts: list[ContextItem] = []
        for rec in records:
            o = rec.origin
            tp = (o.topic, o.partition)
            self._position[tp] = o.offset + 1
            self.stats.consumed_by_topic[o.topic] = self.stats.consumed_by_topic.get(o.topic, 0) + 1
            try:
                body = orjson.loads(rec.value)
                if body["pins"]["platform_run_id"] != run:
                    self.stats.foreign_records += 1
                    continue
                t = ts_ms(datetime.fromisoformat(body["ts_utc"]))
                payload = body["payload"]
                if o.topic == topics.TRAFFIC_FRAUD:
                    item: TransactionView | ContextItem = TransactionView(
                        event_id=body["event_id"], ts_ms=t, txn_id=payload["txn_id"], flow_id=payload["flow_id"],
                        merchant_id=payload["merchant_id"], amount_minor=int(payload["amount_minor"]),
                        merchant_country=payload["merchant_country"], origin=o)
                else:
                    kind, key_field = CONTEXT_TOPICS[o.topic]
                    if not isinstance(payload, dict):
                        raise TypeError(f"payload is a {type(payload).__name__}, not an object")
                    item = ContextItem(kind=kind, key=str(payload[key_field]), ts_ms=t, payload=payload, origin=o)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                # A record RTDL cannot use never stops the loop: it is dead-lettered, with its reason.
                self.stats.dead_letters += 1
                self.log.warning("rtdl.dead_letter", platform_run_id=run, topic=o.topic, partition=o.partition,
                                 offset=o.offset, reason=f"{type(exc).__name__}: {exc}"[:300])
                continue
            self._watermark[tp] = max(self._watermark.get(tp, NEG_INF), t)
            if isinstance(item, TransactionView):
                if item.event_id in self._seen_traffic:  # a documented re-publish: decided once only
                    self.stats.republished_copies += 1
                    continue
                self._seen_traffic.add(item.event_id)
                heapq.heappush(self._pending, (t, item.event_id, consumed_at, item))
                self._undecided.setdefault(tp, deque()).append(o.offset)
            else:
                contexts.append(item)
        if contexts:
            touched = {(c.origin.topic, c.origin.partition) for c in contexts}
            self.join_store.put(self._ns, contexts, {tp: self._position[tp] for tp in touched})
            self.stats.context_items += len(contexts)
        self.stats.max_pending = max(self.stats.max_pending, len(self._pending))
        self._decide_ready(self._global_watermark())
        return self._safe_offsets()

    def flush(self) -> dict[TopicPartition, int]:
        self._decide_ready(POS_INF)
        return self._safe_offsets()

    def ahead(self) -> set[TopicPartition]:
        """Partitions more than ``align_ms`` of event time ahead of the slowest live one (to be paused),
        so the decisions waiting on the readiness gate stay bounded whatever the fetch order."""
        low = self._global_watermark()
        if low in (NEG_INF, POS_INF):
            return {tp for tp, wm in self._watermark.items() if wm != NEG_INF} if low == NEG_INF else set()
        return {tp for tp, wm in self._watermark.items() if wm > low + self.align_ms}

    def _global_watermark(self) -> int:
        """Min over partitions still being written or read of the latest event time seen there."""
        end = resolve_end(self.end)
        live = [wm for tp, wm in self._watermark.items() if end is None or self._position[tp] < end.get(tp, 0)]
        return min(live) if live else POS_INF

    def _decide_ready(self, watermark: int) -> None:
        bound = self.policy.readiness_bound_ms
        ready: list[TransactionView] = []
        consumed: list[float] = []
        while self._pending and self._pending[0][0] + bound <= watermark:
            _ts, _eid, at, txn = heapq.heappop(self._pending)
            ready.append(txn)
            consumed.append(at)
        ready_at = self.clock.monotonic()
        for i in range(0, len(ready), self.batch_size):
            self._decide(ready[i:i + self.batch_size])
            durable_at = self.clock.monotonic()
            self.stats.ready_to_durable.add(durable_at - ready_at, len(ready[i:i + self.batch_size]))
            self.stats.decided_over_time.add(durable_at, len(ready[i:i + self.batch_size]))
            for at in consumed[i:i + self.batch_size]:
                self.stats.consumed_to_durable.add(durable_at - at)

    def _safe_offsets(self) -> dict[TopicPartition, int]:
        safe: dict[TopicPartition, int] = {}
        for tp, pos in self._position.items():
            queue = self._undecided.get(tp)
            while queue and OriginOffset(topic=tp[0], partition=tp[1], offset=queue[0]) in self._decided:
                self._decided.discard(OriginOffset(topic=tp[0], partition=tp[1], offset=queue.popleft()))
            safe[tp] = queue[0] if queue else pos
        return safe

    def _frames(self, batch: list[TransactionView]) -> list[JoinFrame]:
        anchors = self.join_store.get(self._ns, [(ContextKind.FLOW_ANCHOR, t.flow_id) for t in batch])
        arrival_ids = sorted({str(a.payload["arrival_id"]) for a in anchors.values()})
        ctx = self.join_store.get(self._ns, [(k, a) for a in arrival_ids
                                        for k in (ContextKind.ARRIVAL, ContextKind.ENTITIES)])
        frames = []
        for t in batch:
            fa = anchors.get((ContextKind.FLOW_ANCHOR, t.flow_id))
            aid = str(fa.payload["arrival_id"]) if fa else ""
            frames.append(assess_join_readiness(
                t.ts_ms, fa, ctx.get((ContextKind.ARRIVAL, aid)), ctx.get((ContextKind.ENTITIES, aid)),
                self.policy.max_context_age_ms, self.policy.readiness_bound_ms))
        return frames

    def _decide(self, batch: list[TransactionView]) -> None:
        frames = self._frames(batch)
        probes = [(str(f.entities.payload["card_id"]), t.ts_ms) for t, f in zip(batch, frames, strict=True)
                  if f.entities is not None]
        counts = iter(self.join_store.card_velocity(self._ns, probes, self.bundle.velocity_window_ms))
        records: list[AuditRecord] = []
        for t, f in zip(batch, frames, strict=True):
            velocity = next(counts) if f.entities is not None else None
            records.append(audit_record(decide(t, f, velocity, self.pins, self.bundle, self.policy)))
        outcomes = self.ledger.record(records)
        messages = [OutboundMessage(topics.AUDIT, r.audit_id.encode(), r.document.encode()) for r in records]
        for r in records:
            trigger = case_trigger_for(r.decision, self.policy.case_trigger_actions)
            if trigger is not None:
                messages.append(OutboundMessage(topics.CASE_TRIGGERS, trigger.case_id.encode(),
                                                trigger.model_dump_json().encode()))
                self.stats.case_triggers += 1
        self._publish(messages)
        for t in batch:
            self._decided.add(t.origin)
        self.stats.decisions += len(records)
        degraded = [r.decision for r, f in zip(records, frames, strict=True) if not f.ready]
        self.stats.degraded += len(degraded)
        for d in degraded[:RARE_EVENT_LINES]:  # rare events get a line each (bounded per batch)
            self.log.info("rtdl.degraded", platform_run_id=d.pins.platform_run_id,
                          scenario_run_id=d.pins.scenario_run_id, event_class=TRAFFIC_CLASS, event_id=d.event_id,
                          reasons=[r.value for r in d.degrade.reasons], action=d.action.value)
        self.stats.new_outcomes += len(outcomes)
        self.stats.decision_batches += 1

    def _publish(self, messages: list[OutboundMessage]) -> None:
        for _attempt in self.retry.attempts_on(self.clock):
            deliveries = self.producer.publish(messages)
            messages = [m for m, d in zip(messages, deliveries, strict=True) if d.origin is None]
            if not messages:
                return
        raise PublishAmbiguous(f"{len(messages)} audit/case messages unacknowledged; offsets not committed")


RTDL_GROUP = "fp-rtdl"


class ConsumerDecorator(Protocol):
    """What may wrap RTDL's bus consumer for a run: the identity, or a decorator (the lag drill's pausing
    consumer, ``fp_core.drills.hooks``)."""

    def decorate(self, ready: ReadySignal, consumer: BusConsumer) -> BusConsumer: ...


@dataclass
class RtdlStage:
    """RTDL for one run: the decision loop over the run's admitted offset range, on group ``fp-rtdl``.
    ``loop`` builds the run's DecisionLoop from ``pins, bundle, policy, start, end, batch_size``."""

    loop: Callable[..., DecisionLoop]
    drainer: Drainer
    facts: FactLog
    consumers: ConsumerDecorator
    join_store: JoinStore
    current: RtdlStats | None = field(default=None, init=False)
    """The running decision loop's figures (read by a metrics endpoint while the stage runs)."""

    def decide(self, ready: ReadySignal, stream: StreamComplete) -> StageComplete:
        """RTDL over a finished stream (the standalone component)."""
        return self.decide_until(ready, decode_positions(stream.end_offsets))

    def follow(self, ready: ReadySignal) -> StageComplete:
        """RTDL while WSP/IG may still be streaming: the end is learnt from STREAM_COMPLETE."""
        watcher = self.facts.stream_end(ready.pins.platform_run_id)
        try:
            return self.decide_until(ready, watcher)
        finally:
            watcher.close()

    def for_run(self, platform_run_id: str) -> StageComplete:
        facts = self.facts.read(platform_run_id)
        return self.decide(facts.ready, facts.require_stream())

    def decide_until(self, ready: ReadySignal, end: Ends) -> StageComplete:
        """RTDL from the run's pinned start offsets up to ``end`` (known, or followed until known)."""
        config, run = ready.config, ready.pins.platform_run_id
        start = {tp: o for tp, o in decode_positions(ready.input_start).items() if tp[0] in topics.RTDL_INPUTS}
        # Resume after what this run's checkpoints say is durable, but re-read any context the join plane
        # lost (its positions are written atomically with its state).
        joined = self.join_store.positions(run)
        rewind = {tp: joined.get(tp, start[tp]) for tp in start if tp[0] in CONTEXT_TOPICS}
        resume = self.drainer.resume_positions(RTDL_GROUP, run, start, rewind)
        loop = self.loop(pins=ready.pins, bundle=config.bundle, policy=config.policy, start=resume, end=end,
                         batch_size=config.decision_batch)
        self.current = loop.stats
        drained = self.drainer.drain(RTDL_GROUP, run, config.decision_batch, resume, end, loop.handle, loop.flush,
                                     loop.ahead, lambda consumer: self.consumers.decorate(ready, consumer))
        earlier = sum(resume[tp] - start[tp] for tp in start)
        final = resolve_end(end) or {}
        s = loop.stats
        self.facts.publish(run, anomaly_fact(run, ready.pins.scenario_run_id, "rtdl", {
            "degraded": s.degraded, "dead_letters": s.dead_letters, "republished_copies": s.republished_copies,
            "foreign_records": s.foreign_records}))
        return self.facts.complete(run, "rtdl", {
            "consumed": earlier + drained.consumed, "resumed_after": earlier,
            "admitted_inputs": sum(final[tp] - start[tp] for tp in start),
            "decisions": s.decisions, "degraded": s.degraded, "new_action_outcomes": s.new_outcomes,
            "case_triggers": s.case_triggers, "context_items": s.context_items,
            "foreign_records": s.foreign_records, "max_pending": s.max_pending,
            "consumed_by_topic": dict(sorted(s.consumed_by_topic.items())), "dead_letters": s.dead_letters,
            "republished_copies": s.republished_copies,
            "commits": drained.commits, "decision_batches": s.decision_batches, "final_lag": drained.final_lag,
            "latency_ms": {"consumed_to_durable": s.consumed_to_durable.percentiles(),
                           "ready_to_durable": s.ready_to_durable.percentiles()},
            "latency_histogram_ms": {"consumed_to_durable": coarse_histogram(s.consumed_to_durable),
                                     "ready_to_durable": coarse_histogram(s.ready_to_durable)},
            "decided_over_time": s.decided_over_time.doc(),
            "max_lag_by_topic": dict(sorted(drained.max_lag_by_topic.items()))}, ready.pins.scenario_run_id)
