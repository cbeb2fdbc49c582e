"""In-memory port implementations for unit tests of the services' pure logic.

They keep the same contracts the real adapters keep (write-once objects, append-only logs, first
writer wins), so a service test that passes here exercises the logic, not a laxer substrate.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fp_core.admission import Claim
from fp_core.cases import CaseTimelineEvent
from fp_core.context import ContextItem, ContextKind
from fp_core.decisions import ActionIntent, ActionOutcome, AuditRecord, outcome_for
from fp_core.errors import NotFound, ObjectExists
from fp_core.identity import DedupeKey
from fp_core.labels import LabelAssertion
from fp_core.offsets import OffsetRange, OriginOffset
from fp_core.ports import BusRecord, Delivery, OutboundMessage, TopicPartition
from fp_core.receipts import PublishRecord, PublishState, QuarantineRecord, Receipt
from fp_core.services.ports_set import PortSet
from fp_core.topics import TOPIC_MAP


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_800_000_000_000
        self.mono = 0.0

    def now_ms(self) -> int:
        self.t += 1
        return self.t

    def monotonic(self) -> float:
        self.mono += 0.01
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.mono += seconds


class ListLog:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append(("info", event, fields))

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append(("warning", event, fields))


class MemObjectStore:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def put(self, key: str, data: bytes, *, overwrite: bool = False) -> None:
        if key in self.data and not overwrite:
            raise ObjectExists(key)
        self.data[key] = data

    def get(self, key: str) -> bytes:
        try:
            return self.data[key]
        except KeyError:
            raise NotFound(key) from None

    def exists(self, key: str) -> bool:
        return key in self.data

    def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self.data if k.startswith(prefix))


class MemBus:
    """Topics of the topic map with their partitions; keyed records go to crc32(key) % partitions."""

    def __init__(self) -> None:
        self.log: dict[TopicPartition, list[tuple[bytes | None, bytes]]] = {
            (s.name, p): [] for s in TOPIC_MAP for p in range(s.partitions)}
        self.partitions = {s.name: s.partitions for s in TOPIC_MAP}
        self.committed: dict[tuple[str, TopicPartition], int] = {}
        self.fail_next = 0


class MemProducer:
    def __init__(self, bus: MemBus) -> None:
        self.bus = bus

    def publish(self, messages: Sequence[OutboundMessage]) -> list[Delivery]:
        out = []
        for m in messages:
            if self.bus.fail_next > 0:
                self.bus.fail_next -= 1
                out.append(Delivery(None, "_MSG_TIMED_OUT: injected"))
                continue
            p = zlib.crc32(m.key) % self.bus.partitions[m.topic]
            records = self.bus.log[(m.topic, p)]
            records.append((m.key, m.value))
            out.append(Delivery(OriginOffset(topic=m.topic, partition=p, offset=len(records) - 1), None))
        return out

    def close(self) -> None:
        pass


class MemConsumer:
    def __init__(self, bus: MemBus, group: str) -> None:
        self.bus, self.group = bus, group
        self.pos: dict[TopicPartition, int] = {}
        self.paused: set[TopicPartition] = set()

    def assign(self, positions: Mapping[TopicPartition, int]) -> None:
        self.pos = dict(positions)

    def poll_batch(self, max_records: int, timeout_s: float) -> list[BusRecord]:
        out: list[BusRecord] = []
        for tp in sorted(self.pos):
            if tp in self.paused:
                continue
            records = self.bus.log[tp]
            while self.pos[tp] < len(records) and len(out) < max_records:
                key, value = records[self.pos[tp]]
                out.append(BusRecord(OriginOffset(topic=tp[0], partition=tp[1], offset=self.pos[tp]), key, value))
                self.pos[tp] += 1
        return out

    def commit(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        for tp, off in next_offsets.items():
            self.bus.committed[(self.group, tp)] = off

    def committed(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int | None]:
        return {tp: self.bus.committed.get((self.group, tp)) for tp in partitions}

    def end_offsets(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        return {(t, p): len(self.bus.log[(t, p)]) for t in topics for p in range(self.bus.partitions[t])}

    def pause(self, partitions: Sequence[TopicPartition]) -> None:
        self.paused.update(partitions)

    def resume(self, partitions: Sequence[TopicPartition]) -> None:
        self.paused.difference_update(partitions)

    def close(self) -> None:
        pass


class MemAdmissionIndex:
    def __init__(self, receipts: MemReceiptLog) -> None:
        self.hashes: dict[DedupeKey, str] = {}
        self.receipts = receipts

    def claim(self, firsts: Mapping[DedupeKey, str]) -> dict[DedupeKey, Claim]:
        out = {}
        for key, h in firsts.items():
            if key in self.hashes:
                out[key] = Claim(self.hashes[key], False, self.receipts.published(key))
            else:
                self.hashes[key] = h
                out[key] = Claim(h, True, False)
        return out

    def first_hashes(self, keys: Sequence[DedupeKey]) -> dict[DedupeKey, str]:
        return {k: self.hashes[k] for k in keys if k in self.hashes}


class MemReceiptLog:
    def __init__(self) -> None:
        self.rows: list[Receipt] = []
        self.publishes: list[PublishRecord] = []

    def append(self, receipts: Sequence[Receipt], publishes: Sequence[PublishRecord]) -> None:
        self.rows.extend(receipts)
        self.publishes.extend(publishes)

    def published(self, key: DedupeKey) -> bool:
        return any(DedupeKey(p.platform_run_id, p.event_class, p.event_id) == key
                   and p.state is PublishState.PUBLISHED for p in self.publishes)

    def counts(self, platform_run_id: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in self.rows:
            if r.platform_run_id == platform_run_id:
                c = out.setdefault(r.event_class, {})
                c[r.outcome.value] = c.get(r.outcome.value, 0) + 1
        return out

    def reason_counts(self, platform_run_id: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            if r.platform_run_id == platform_run_id and r.reason is not None:
                out[r.reason.value] = out.get(r.reason.value, 0) + 1
        return out

    def for_events(self, platform_run_id: str, event_ids: Sequence[str]) -> list[Receipt]:
        ids = set(event_ids)
        return sorted((r for r in self.rows if r.platform_run_id == platform_run_id and r.event_id in ids),
                      key=lambda r: r.receipt_id)

    def sample(self, platform_run_id: str, limit: int) -> list[Receipt]:
        return sorted((r for r in self.rows if r.platform_run_id == platform_run_id),
                      key=lambda r: r.receipt_id)[:limit]

    def unresolved_publishes(self, platform_run_id: str) -> int:
        keys = {DedupeKey(p.platform_run_id, p.event_class, p.event_id) for p in self.publishes
                if p.platform_run_id == platform_run_id}
        return sum(not self.published(k) for k in keys)


class MemQuarantineIndex:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str, str], QuarantineRecord] = {}

    def record(self, entries: Sequence[QuarantineRecord]) -> None:
        for e in entries:
            self.rows.setdefault((e.platform_run_id, e.event_class, e.event_id, e.reason.value, e.receipt_id), e)

    def for_run(self, platform_run_id: str) -> list[QuarantineRecord]:
        return sorted((e for e in self.rows.values() if e.platform_run_id == platform_run_id),
                      key=lambda e: e.receipt_id)


class MemJoinStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, ContextKind, str], ContextItem] = {}
        self.cards: dict[tuple[str, str], dict[str, int]] = {}

    def put(self, platform_run_id: str, items: Sequence[ContextItem]) -> None:
        for i in items:
            self.items[(platform_run_id, i.kind, i.key)] = i
            if i.kind is ContextKind.ENTITIES:
                self.cards.setdefault((platform_run_id, str(i.payload["card_id"])), {})[i.key] = i.ts_ms

    def get(self, platform_run_id: str, wanted: Sequence[tuple[ContextKind, str]]
            ) -> dict[tuple[ContextKind, str], ContextItem]:
        return {w: self.items[(platform_run_id, *w)] for w in wanted if (platform_run_id, *w) in self.items}

    def card_velocity(self, platform_run_id: str, probes: Sequence[tuple[str, int]], window_ms: int) -> list[int]:
        return [sum(ts - window_ms <= t < ts for t in self.cards.get((platform_run_id, card), {}).values())
                for card, ts in probes]


class MemAuditLog:
    def __init__(self) -> None:
        self.rows: dict[str, AuditRecord] = {}

    def append(self, records: Sequence[AuditRecord]) -> int:
        n = 0
        for r in records:
            if r.audit_id not in self.rows:
                self.rows[r.audit_id] = r
                n += 1
        return n

    def scan(self, platform_run_id: str) -> Iterator[AuditRecord]:
        for k in sorted(self.rows):
            if self.rows[k].platform_run_id == platform_run_id:
                yield self.rows[k]

    def for_events(self, platform_run_id: str, event_ids: Sequence[str]) -> list[AuditRecord]:
        ids = set(event_ids)
        return [r for r in self.scan(platform_run_id) if r.decision.event_id in ids]


class MemActionLog:
    def __init__(self) -> None:
        self.intents: dict[str, ActionIntent] = {}
        self.outcomes: list[ActionOutcome] = []

    def execute(self, intents: Sequence[ActionIntent]) -> list[ActionOutcome]:
        fresh = []
        for i in intents:
            if i.idempotency_key not in self.intents:
                self.intents[i.idempotency_key] = i
                fresh.append(outcome_for(i))
        self.outcomes.extend(fresh)
        return fresh

    def outcome_counts(self, platform_run_id: str) -> dict[str, int]:
        outs = [o for o in self.outcomes if o.platform_run_id == platform_run_id]
        decisions = {self.intents[o.idempotency_key].decision_id for o in outs}
        return {"intents": sum(i.platform_run_id == platform_run_id for i in self.intents.values()),
                "outcomes": len(outs), "duplicate_outcomes": len(outs) - len(decisions)}


class MemCaseStore:
    def __init__(self) -> None:
        self.events: dict[str, CaseTimelineEvent] = {}

    def append(self, events: Sequence[CaseTimelineEvent]) -> int:
        new = [e for e in events if e.event_id not in self.events]
        self.events.update({e.event_id: e for e in new})
        return len(new)

    def timeline(self, case_id: str) -> list[CaseTimelineEvent]:
        return [e for e in self.events.values() if e.case_id == case_id]

    def counts(self, platform_run_id: str) -> tuple[int, int]:
        mine = [e for e in self.events.values() if e.subject.platform_run_id == platform_run_id]
        return len({e.case_id for e in mine}), len(mine)


class MemLabelStore:
    def __init__(self) -> None:
        self.rows: dict[str, LabelAssertion] = {}

    def append(self, assertions: Sequence[LabelAssertion]) -> int:
        new = [a for a in assertions if a.assertion_id not in self.rows]
        self.rows.update({a.assertion_id: a for a in new})
        return len(new)

    def for_run(self, platform_run_id: str) -> list[LabelAssertion]:
        return sorted((a for a in self.rows.values() if a.subject.platform_run_id == platform_run_id),
                      key=lambda a: a.assertion_id)


class MemCheckpointLog:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, OffsetRange]] = []

    def record(self, platform_run_id: str, consumer_group: str, ranges: Sequence[OffsetRange]) -> None:
        self.rows.extend((platform_run_id, consumer_group, r) for r in ranges)

    def ranges(self, platform_run_id: str, consumer_group: str) -> list[OffsetRange]:
        return [r for run, g, r in self.rows if run == platform_run_id and g == consumer_group]


class DeferredRtdl:
    """Runs RTDL in-process when its result is asked for (after the stream): sequential over the fakes."""

    def __init__(self, ports: PortSet, platform_run_id: str, lag_pause_s: float) -> None:
        self.ports, self.run, self.lag = ports, platform_run_id, lag_pause_s
        self.cancelled = False

    def result(self) -> str:
        from fp_core.services.control import read_facts
        from fp_core.services.stages import Stages

        facts = read_facts(self.ports.consumer("fake-facts"), self.run)
        return Stages(self.ports).decide(facts.ready, facts.require_stream(), self.lag).model_dump_json()

    def cancel(self) -> None:
        self.cancelled = True


class DeferredLauncher:
    def __init__(self) -> None:
        self.ports: PortSet | None = None

    def follow_rtdl(self, platform_run_id: str, lag_pause_s: float) -> DeferredRtdl:
        assert self.ports is not None
        return DeferredRtdl(self.ports, platform_run_id, lag_pause_s)


def mem_ports() -> tuple[PortSet, MemBus]:
    bus = MemBus()
    receipts = MemReceiptLog()
    launcher = DeferredLauncher()
    ports = PortSet(
        env="memory", objects=MemObjectStore(), producer=MemProducer(bus),
        consumer=lambda group: MemConsumer(bus, group), admission_index=MemAdmissionIndex(receipts),
        receipts=receipts, quarantine_index=MemQuarantineIndex(), join_store=MemJoinStore(),
        audit_log=MemAuditLog(), action_log=MemActionLog(), cases=MemCaseStore(), labels=MemLabelStore(),
        checkpoints=MemCheckpointLog(), clock=FakeClock(), log=ListLog(), launcher=launcher)
    launcher.ports = ports
    return ports, bus
