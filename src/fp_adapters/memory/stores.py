"""In-memory truth stores and the join plane, keeping the ports' contracts: first writer wins,
append-only (re-appending an id is a no-op), write-once objects."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from typing import TypeVar

from fp_adapters.memory.substrate import MemorySubstrate
from fp_core.admission import Claim, Sighting
from fp_core.cases import CaseTimelineEvent
from fp_core.context import ContextItem, ContextKind
from fp_core.decisions import ActionIntent, ActionOutcome, AuditRecord, outcome_for
from fp_core.errors import NotFound, ObjectExists
from fp_core.identity import DedupeKey
from fp_core.labels import LabelAssertion
from fp_core.learning import RegistryRecord
from fp_core.offsets import OffsetRange
from fp_core.ports import TopicPartition
from fp_core.receipts import (
    AdmissionOutcome,
    PublishRecord,
    PublishState,
    QuarantineRecord,
    Receipt,
    ReceiptRow,
    publish_records,
)

T = TypeVar("T")


def _append_new(table: dict[str, T], records: Sequence[T], key: Callable[[T], str]) -> int:
    """Append-only with idempotent replay: records whose id is already present are ignored."""
    new = {key(r): r for r in records if key(r) not in table}
    table.update(new)
    return len(new)


class MemObjectStore:
    def __init__(self, substrate: MemorySubstrate, namespace: str) -> None:
        self._s, self._namespace = substrate, namespace

    def uri(self, key: str) -> str:
        return f"memory://{self._namespace}/{key}"

    def put(self, key: str, data: bytes, *, overwrite: bool = False) -> None:
        with self._s.lock:
            if key in self._s.objects and not overwrite:
                raise ObjectExists(f"{self.uri(key)} exists and is write-once")
            self._s.objects[key] = bytes(data)

    def get(self, key: str) -> bytes:
        try:
            return self._s.objects[key]
        except KeyError:
            raise NotFound(self.uri(key)) from None

    def exists(self, key: str) -> bool:
        return key in self._s.objects

    def list(self, prefix: str) -> list[str]:
        with self._s.lock:
            return sorted(k for k in self._s.objects if k.startswith(prefix))


def _published(s: MemorySubstrate, key: DedupeKey) -> bool:
    return any(DedupeKey(p.platform_run_id, p.event_class, p.event_id) == key
               and p.state is PublishState.PUBLISHED for p in s.publishes)


class MemAdmissionIndex:
    def __init__(self, substrate: MemorySubstrate) -> None:
        self._s = substrate

    def claim(self, firsts: Mapping[DedupeKey, Sighting]) -> dict[DedupeKey, Claim]:
        out = {}
        with self._s.lock:
            for key, (h, _receipt_id) in firsts.items():
                if key in self._s.hashes:
                    out[key] = Claim(self._s.hashes[key], False, _published(self._s, key), key in self._s.admitted)
                else:
                    self._s.hashes[key] = h
                    out[key] = Claim(h, True, False, False)
        return out

    def first_hashes(self, keys: Sequence[DedupeKey]) -> dict[DedupeKey, str]:
        return {k: self._s.hashes[k] for k in keys if k in self._s.hashes}


class MemReceiptLog:
    def __init__(self, substrate: MemorySubstrate) -> None:
        self._s = substrate

    def append(self, receipts: Sequence[ReceiptRow], publishes: Sequence[PublishRecord],
               claimants: Set[str] = frozenset()) -> None:
        del claimants  # every receipt is found by a pass over the run's: nothing to index
        with self._s.lock:
            for r in receipts:
                if r.receipt_id not in self._s.receipt_ids:
                    self._s.receipt_ids.add(r.receipt_id)
                    self._s.receipts.append(r.receipt())
                    if r.outcome is AdmissionOutcome.ADMIT:
                        self._s.admitted.add(DedupeKey(r.platform_run_id, r.event_class, r.event_id))
            self._s.publishes.extend(publish_records(receipts, publishes))

    def stored(self, platform_run_id: str, receipt_ids: Sequence[str]) -> dict[str, Receipt]:
        with self._s.lock:
            wanted = set(receipt_ids) & self._s.receipt_ids
            return {r.receipt_id: r for r in self._s.receipts
                    if r.receipt_id in wanted and r.platform_run_id == platform_run_id}

    def _mine(self, platform_run_id: str) -> list[Receipt]:
        with self._s.lock:
            return [r for r in self._s.receipts if r.platform_run_id == platform_run_id]

    def counts(self, platform_run_id: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in self._mine(platform_run_id):
            c = out.setdefault(r.event_class, {})
            c[r.outcome.value] = c.get(r.outcome.value, 0) + 1
        return out

    def reason_counts(self, platform_run_id: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self._mine(platform_run_id):
            if r.reason is not None:
                out[r.reason.value] = out.get(r.reason.value, 0) + 1
        return out

    def for_events(self, platform_run_id: str, event_ids: Sequence[str]) -> list[Receipt]:
        ids = set(event_ids)
        return sorted((r for r in self._mine(platform_run_id) if r.event_id in ids), key=lambda r: r.receipt_id)

    def sample(self, platform_run_id: str, limit: int) -> list[Receipt]:
        return sorted(self._mine(platform_run_id), key=lambda r: r.receipt_id)[:limit]

    def unresolved_publishes(self, platform_run_id: str) -> int:
        with self._s.lock:
            keys: dict[DedupeKey, bool] = {}
            for p in self._s.publishes:
                if p.platform_run_id == platform_run_id:
                    key = DedupeKey(p.platform_run_id, p.event_class, p.event_id)
                    keys[key] = keys.get(key, False) or p.state is PublishState.PUBLISHED
            return sum(not published for published in keys.values())


class MemQuarantineIndex:
    def __init__(self, substrate: MemorySubstrate) -> None:
        self._s = substrate

    def record(self, entries: Sequence[QuarantineRecord]) -> None:
        with self._s.lock:
            for e in entries:
                self._s.quarantine.setdefault(
                    (e.platform_run_id, e.event_class, e.event_id, e.reason.value, e.receipt_id), e)

    def for_run(self, platform_run_id: str) -> list[QuarantineRecord]:
        with self._s.lock:
            return sorted((e for e in self._s.quarantine.values() if e.platform_run_id == platform_run_id),
                          key=lambda e: e.receipt_id)


class MemJoinStore:
    def __init__(self, substrate: MemorySubstrate) -> None:
        self._s = substrate

    def put(self, platform_run_id: str, items: Sequence[ContextItem],
            positions: Mapping[TopicPartition, int] | None = None) -> None:
        with self._s.lock:
            self._s.join_positions.setdefault(platform_run_id, {}).update(positions or {})
            for i in items:
                self._s.context[(platform_run_id, i.kind, i.key)] = i
                if i.kind is ContextKind.ENTITIES:
                    self._s.cards.setdefault((platform_run_id, str(i.payload["card_id"])), {})[i.key] = i.ts_ms

    def positions(self, platform_run_id: str) -> dict[TopicPartition, int]:
        with self._s.lock:
            return dict(self._s.join_positions.get(platform_run_id, {}))

    def get(self, platform_run_id: str, wanted: Sequence[tuple[ContextKind, str]]
            ) -> dict[tuple[ContextKind, str], ContextItem]:
        ctx = self._s.context
        return {w: ctx[(platform_run_id, *w)] for w in wanted if (platform_run_id, *w) in ctx}

    def card_velocity(self, platform_run_id: str, probes: Sequence[tuple[str, int]], window_ms: int) -> list[int]:
        cards = self._s.cards
        return [sum(ts - window_ms <= t < ts for t in cards.get((platform_run_id, card), {}).values())
                for card, ts in probes]


class MemAuditLog:
    def __init__(self, substrate: MemorySubstrate) -> None:
        self._s = substrate

    def append(self, records: Sequence[AuditRecord]) -> int:
        with self._s.lock:
            return _append_new(self._s.audit, records, lambda r: r.audit_id)

    def scan(self, platform_run_id: str) -> Iterator[AuditRecord]:
        with self._s.lock:
            mine = sorted((k, r) for k, r in self._s.audit.items() if r.platform_run_id == platform_run_id)
        for _k, r in mine:
            yield r

    def documents(self, platform_run_id: str) -> Iterator[str]:
        return (r.document for r in self.scan(platform_run_id))

    def for_events(self, platform_run_id: str, event_ids: Sequence[str]) -> list[AuditRecord]:
        ids = set(event_ids)
        return [r for r in self.scan(platform_run_id) if r.decision.event_id in ids]


class MemActionLog:
    def __init__(self, substrate: MemorySubstrate) -> None:
        self._s = substrate

    def execute(self, intents: Sequence[ActionIntent]) -> list[ActionOutcome]:
        fresh = []
        with self._s.lock:
            for i in intents:
                if i.idempotency_key not in self._s.intents:
                    self._s.intents[i.idempotency_key] = i
                    fresh.append(outcome_for(i))
            self._s.outcomes.extend(fresh)
        return fresh

    def outcome_counts(self, platform_run_id: str) -> dict[str, int]:
        with self._s.lock:
            outs = [o for o in self._s.outcomes if o.platform_run_id == platform_run_id]
            decisions = {self._s.intents[o.idempotency_key].decision_id for o in outs}
            intents = sum(i.platform_run_id == platform_run_id for i in self._s.intents.values())
        return {"intents": intents, "outcomes": len(outs), "duplicate_outcomes": len(outs) - len(decisions)}


class MemCaseStore:
    def __init__(self, substrate: MemorySubstrate) -> None:
        self._s = substrate

    def append(self, events: Sequence[CaseTimelineEvent]) -> int:
        with self._s.lock:
            return _append_new(self._s.case_events, events, lambda e: e.event_id)

    def timeline(self, case_id: str) -> list[CaseTimelineEvent]:
        with self._s.lock:
            return [e for e in self._s.case_events.values() if e.case_id == case_id]

    def counts(self, platform_run_id: str) -> tuple[int, int]:
        with self._s.lock:
            mine = [e for e in self._s.case_events.values() if e.subject.platform_run_id == platform_run_id]
        return len({e.case_id for e in mine}), len(mine)


class MemLabelStore:
    def __init__(self, substrate: MemorySubstrate) -> None:
        self._s = substrate

    def append(self, assertions: Sequence[LabelAssertion]) -> int:
        with self._s.lock:
            return _append_new(self._s.labels, assertions, lambda a: a.assertion_id)

    def for_run(self, platform_run_id: str) -> list[LabelAssertion]:
        with self._s.lock:
            return sorted((a for a in self._s.labels.values() if a.subject.platform_run_id == platform_run_id),
                          key=lambda a: a.assertion_id)


class MemCheckpointLog:
    def __init__(self, substrate: MemorySubstrate) -> None:
        self._s = substrate

    def record(self, platform_run_id: str, consumer_group: str, ranges: Sequence[OffsetRange]) -> None:
        with self._s.lock:
            self._s.checkpoints.extend((platform_run_id, consumer_group, r) for r in ranges)

    def ranges(self, platform_run_id: str, consumer_group: str) -> list[OffsetRange]:
        with self._s.lock:
            return [r for run, g, r in self._s.checkpoints if run == platform_run_id and g == consumer_group]


class MemRegistryLog:
    def __init__(self, substrate: MemorySubstrate) -> None:
        self._s = substrate

    def append(self, records: Sequence[RegistryRecord]) -> int:
        with self._s.lock:
            return _append_new(self._s.registry, records, lambda r: r.record_id)

    def records(self) -> list[RegistryRecord]:
        with self._s.lock:
            return list(self._s.registry.values())
