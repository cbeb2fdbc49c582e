"""Drills as decorators around the real ports: WSP's source of encoded events is wrapped by the
shaping stream, and RTDL's bus consumer by the pausing consumer, when the run's config asks for them.
The services only see a ``SourceShaper`` and a ``ConsumerDecorator``."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fp_core.drills.catalog import STREAM_SLOTS, DrillEvidence, StreamDrill, catalog
from fp_core.drills.facts import DrillLedger, DrillLedgerFact, LagObserved
from fp_core.drills.names import DrillName
from fp_core.drills.record import DrillRecord
from fp_core.identity import derive_id
from fp_core.ports import (
    ActionLog,
    AdmissionIndex,
    AuditLog,
    BusConsumer,
    BusRecord,
    Clock,
    JoinStore,
    Log,
    QuarantineIndex,
    ReceiptLog,
    TopicPartition,
)
from fp_core.services.control import ReadySignal
from fp_core.services.facts import FactLog
from fp_core.services.wsp import Encoder, Outgoing, PlainSource
from fp_core.world import EVENTS_PER_FLOW, StreamRow


def drill_spacing(n_flows: int) -> int:
    """One flow in ``every`` per drill: ~100 per drill at scale, a handful in small runs."""
    return max(len(STREAM_SLOTS) + 2, min(250, n_flows // 8))


def _flow_index(row: StreamRow) -> int:
    return int(row.natural_key[1:])


def shape(rows: Iterator[StreamRow], ledger: DrillLedger, encode: Encoder) -> Iterator[Outgoing]:
    """The world's rows with the ledger's stream drills applied, encoded, in event-time order."""
    drills = catalog()
    owners: dict[int, StreamDrill] = {}
    for slot, name in enumerate(STREAM_SLOTS, start=1):
        drill = drills[name]
        if name in ledger.drills and isinstance(drill, StreamDrill):
            owners[slot] = drill
    delayed: list[tuple[int, int, Outgoing]] = []
    seq = 0

    def later(at_ms: int, item: Outgoing) -> None:
        nonlocal seq
        heapq.heappush(delayed, (at_ms, seq, item))
        seq += 1

    for row in rows:
        while delayed and delayed[0][0] <= row.ts_ms:
            yield heapq.heappop(delayed)[2]
        owner = owners.get(_flow_index(row) % ledger.every)
        if owner is None:
            yield encode(row)
            continue
        if row.event_type == "flow_anchor" and owner.anchor(row, ledger):
            continue
        yield encode(row)
        if row.event_type == "transaction":
            owner.transaction(row, ledger, later, encode)
    while delayed:
        yield heapq.heappop(delayed)[2]


class PausingConsumer:
    """The lag drill's bus consumer: after ``after_records`` records it pauses every assigned partition
    for ``pause_s`` (polling, to prove nothing arrives), resumes, and records what it saw."""

    def __init__(self, inner: BusConsumer, after_records: int, pause_s: float, clock: Clock, log: Log,
                 observed: Any) -> None:
        self._inner, self._after, self._pause_s, self._clock, self._log = inner, after_records, pause_s, clock, log
        self._observed = observed
        self._consumed = 0
        self._position: dict[TopicPartition, int] = {}
        self._done = False

    def assign(self, positions: Mapping[TopicPartition, int]) -> None:
        self._position = dict(positions)
        self._inner.assign(positions)

    def poll_batch(self, max_records: int, timeout_s: float) -> list[BusRecord]:
        if not self._done:
            if self._consumed >= self._after:
                self._pause()
                return []
            max_records = max(1, min(max_records, self._after - self._consumed))
        records = self._inner.poll_batch(max_records, timeout_s)
        for r in records:
            self._position[(r.origin.topic, r.origin.partition)] = r.origin.offset + 1
        self._consumed += len(records)
        return records

    def _pause(self) -> None:
        tps = sorted(self._position)
        high = self._inner.end_offsets(sorted({t for t, _p in tps}))
        lag_at_pause = sum(high[tp] - self._position[tp] for tp in tps)
        self._inner.pause(tps)
        started = self._clock.monotonic()
        returned = 0
        while self._clock.monotonic() - started < self._pause_s:
            returned += len(self._inner.poll_batch(1_000, 0.2))
        self._inner.resume(tps)
        self._done = True
        paused_s = round(self._clock.monotonic() - started, 3)
        self._log.info("drill.lag.paused", lag_at_pause=lag_at_pause, records_while_paused=returned)
        self._observed(lag_at_pause, returned, paused_s)

    def commit(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        self._inner.commit(next_offsets)

    def committed(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int | None]:
        return self._inner.committed(partitions)

    def end_offsets(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        return self._inner.end_offsets(topics)

    def pause(self, partitions: Sequence[TopicPartition]) -> None:
        self._inner.pause(partitions)

    def resume(self, partitions: Sequence[TopicPartition]) -> None:
        self._inner.resume(partitions)

    def close(self) -> None:
        self._inner.close()


class DrillHooks:
    """Applies the drills a run's config names: implements WSP's ``SourceShaper`` and RTDL's
    ``ConsumerDecorator``, and publishes what the drills did on the run's fact log."""

    def __init__(self, facts: FactLog, clock: Clock, log: Log, lag_pause_s: float = 1.5) -> None:
        self._facts, self._clock, self._log, self._lag_pause_s = facts, clock, log, lag_pause_s

    def shape(self, ready: ReadySignal, rows: Iterator[StreamRow], encode: Encoder) -> Iterator[Outgoing]:
        config = ready.config
        ledger = DrillLedger(drills=config.drills, every=drill_spacing(config.events // EVENTS_PER_FLOW))
        if not set(config.drills) & set(STREAM_SLOTS):
            yield from PlainSource().shape(ready, rows, encode)
            return
        yield from shape(rows, ledger, encode)
        self._facts.publish(ready.pins.platform_run_id, ledger.fact(ready.pins.platform_run_id))

    def decorate(self, ready: ReadySignal, consumer: BusConsumer) -> BusConsumer:
        if DrillName.LAG not in ready.config.drills:
            return consumer
        run = ready.pins.platform_run_id

        def observed(lag_at_pause: int, returned: int, paused_s: float) -> None:
            self._facts.publish(run, LagObserved(message_id=derive_id("drill-lag", run), platform_run_id=run,
                                                 lag_at_pause=lag_at_pause, records_while_paused=returned,
                                                 paused_s=paused_s))

        return PausingConsumer(consumer, max(1, ready.config.events // 3), self._lag_pause_s, self._clock,
                               self._log, observed)


def judge(ready: ReadySignal, extra_facts: Mapping[str, bytes], rtdl_stats: Mapping[str, Any],
          receipts: ReceiptLog, index: AdmissionIndex, quarantine_index: QuarantineIndex, audit_log: AuditLog,
          action_log: ActionLog, join_store: JoinStore) -> list[DrillRecord]:
    """Every requested drill's verdict, in the config's order, from the drills' facts and the stores."""
    config = ready.config
    ledger = (DrillLedgerFact.model_validate_json(extra_facts["DRILL_LEDGER"]).ledger()
              if "DRILL_LEDGER" in extra_facts else DrillLedger(drills=config.drills, every=0))
    ev = DrillEvidence(pins=ready.pins, ledger=ledger, lag=lag_observation(extra_facts, rtdl_stats),
                       admitted_inputs=int(rtdl_stats.get("admitted_inputs", -1)),
                       consumed_inputs=int(rtdl_stats.get("consumed", -2)), receipts=receipts, index=index,
                       quarantine_index=quarantine_index, audit_log=audit_log, action_log=action_log,
                       join_store=join_store)
    drills = catalog()
    return [drills[DrillName(name)].judge(ev) for name in config.drills]


def lag_observation(extra_facts: Mapping[str, bytes], rtdl_stats: Mapping[str, Any]) -> dict[str, Any]:
    """The lag drill's wall-clock figures for ``obs/metrics.json`` (empty when it did not run)."""
    if "DRILL_LAG" not in extra_facts:
        return {}
    return {**LagObserved.model_validate_json(extra_facts["DRILL_LAG"]).observation(),
            "final_lag": rtdl_stats.get("final_lag")}
