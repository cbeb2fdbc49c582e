"""One class per drill: how it shapes the run's input (stream drills) and how its verdict is read from
the stores and the run's facts. Each drill owns a disjoint slice of flows, chosen by flow index, so
drills never mask each other; shaping keeps the stream time-ordered (a late or repeated event is
emitted at its own time)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from msgspec.structs import replace

from fp_core.context import ContextKind
from fp_core.degrade import DegradeReason
from fp_core.drills.facts import DrillLedger
from fp_core.drills.names import DrillName
from fp_core.drills.record import DrillRecord, verdict
from fp_core.event_class import TRAFFIC_CLASS
from fp_core.identity import DedupeKey, derive_event_id
from fp_core.pins import ContextPins
from fp_core.ports import ActionLog, AdmissionIndex, AuditLog, JoinStore, QuarantineIndex, ReceiptLog
from fp_core.receipts import UNCLASSIFIED, AdmissionOutcome, QuarantineReason
from fp_core.services.wsp import Encoder, Outgoing
from fp_core.world import StreamRow

REPEAT_DELAY_MS = 1_000
LATE_BY_MS = 5_000

Later = Callable[[int, Outgoing], None]
"""Schedule an emission at an event time (ms); it is released once the stream passes that time."""


@dataclass(frozen=True)
class DrillEvidence:
    """What a verdict is read from: the run's pins, the shaping ledger, RTDL's figures, the stores."""

    pins: ContextPins
    ledger: DrillLedger
    lag: Mapping[str, Any]
    admitted_inputs: int
    consumed_inputs: int
    receipts: ReceiptLog
    index: AdmissionIndex
    quarantine_index: QuarantineIndex
    audit_log: AuditLog
    action_log: ActionLog
    join_store: JoinStore

    def txn_ids(self, drill: DrillName) -> list[str]:
        return [derive_event_id(self.pins.scenario_run_id, "transaction", k)
                for k in self.ledger.txn_keys.get(drill, [])]

    def degraded_missing_anchor(self, ids: list[str]) -> tuple[int, list[str]]:
        audits = self.audit_log.for_events(self.pins.platform_run_id, ids)
        missing = [a for a in audits if DegradeReason.FLOW_ANCHOR_MISSING in a.decision.degrade.reasons]
        return len(missing), [a.decision.flow_id for a in missing]


class Drill:
    name: ClassVar[DrillName]
    description: ClassVar[str]

    def judge(self, ev: DrillEvidence) -> DrillRecord:
        raise NotImplementedError

    def record(self, expected: dict[str, Any], observed: dict[str, Any]) -> DrillRecord:
        return verdict(self.name.value, self.description, expected, observed)


class StreamDrill(Drill):
    """A drill that shapes the flows it owns: ``anchor`` may swallow a flow anchor; ``transaction``
    may schedule extra emissions after the transaction itself was emitted."""

    def anchor(self, row: StreamRow, ledger: DrillLedger) -> bool:
        return False

    def transaction(self, row: StreamRow, ledger: DrillLedger, later: Later, encode: Encoder) -> None:
        return None


class Duplicates(StreamDrill):
    name = DrillName.DUPLICATES
    description = "same tuple, same payload -> DUPLICATE receipts, exactly one decision and one action"

    def transaction(self, row: StreamRow, ledger: DrillLedger, later: Later, encode: Encoder) -> None:
        ledger.note(self.name, "duplicates_sent", row.natural_key)
        later(row.ts_ms + REPEAT_DELAY_MS, encode(row))

    def judge(self, ev: DrillEvidence) -> DrillRecord:
        run = ev.pins.platform_run_id
        ids = ev.txn_ids(self.name)
        outcomes = Counter(r.outcome for r in ev.receipts.for_events(run, ids))
        per_event = Counter(a.decision.event_id for a in ev.audit_log.for_events(run, ids))
        return self.record({
            "duplicates_sent": len(ids), "duplicate_receipts": len(ids), "admit_receipts": len(ids),
            "events_with_exactly_one_decision": len(ids), "duplicate_action_outcomes": 0,
        }, {
            "duplicates_sent": ev.ledger.injected.get(self.name, {}).get("duplicates_sent", 0),
            "duplicate_receipts": outcomes[AdmissionOutcome.DUPLICATE],
            "admit_receipts": outcomes[AdmissionOutcome.ADMIT],
            "events_with_exactly_one_decision": sum(1 for n in per_event.values() if n == 1),
            "duplicate_action_outcomes": ev.action_log.outcome_counts(run)["duplicate_outcomes"],
        })


class PayloadMismatch(StreamDrill):
    name = DrillName.PAYLOAD_MISMATCH
    description = "same tuple, different payload -> ANOMALY + quarantine; first admission unchanged"

    def transaction(self, row: StreamRow, ledger: DrillLedger, later: Later, encode: Encoder) -> None:
        ledger.note(self.name, "mismatches_sent", row.natural_key)
        changed = dict(row.payload, amount_minor=int(row.payload["amount_minor"]) + 1)
        later(row.ts_ms + REPEAT_DELAY_MS, encode(replace(row, payload=changed)))

    def judge(self, ev: DrillEvidence) -> DrillRecord:
        run = ev.pins.platform_run_id
        ids = ev.txn_ids(self.name)
        receipts = ev.receipts.for_events(run, ids)
        admitted = {r.event_id: r.payload_hash for r in receipts if r.outcome is AdmissionOutcome.ADMIT}
        firsts = ev.index.first_hashes([DedupeKey(run, TRAFFIC_CLASS, i) for i in ids])
        idset = set(ids)
        return self.record({
            "anomaly_receipts": len(ids), "quarantine_entries": len(ids),
            "first_admission_unchanged": len(ids), "decisions_on_first_admission": len(ids),
        }, {
            "anomaly_receipts": sum(r.outcome is AdmissionOutcome.ANOMALY for r in receipts),
            "quarantine_entries": sum(1 for q in ev.quarantine_index.for_run(run)
                                      if q.event_id in idset and q.reason is QuarantineReason.PAYLOAD_HASH_MISMATCH),
            "first_admission_unchanged": sum(1 for k, h in firsts.items() if admitted.get(k.event_id) == h),
            "decisions_on_first_admission": sum(1 for a in ev.audit_log.for_events(run, ids)
                                                if a.decision.event_id in admitted),
        })


class MissingContext(StreamDrill):
    name = DrillName.MISSING_CONTEXT
    description = "flow anchor never sent -> explicit degrade FLOW_ANCHOR_MISSING recorded in audit"

    def anchor(self, row: StreamRow, ledger: DrillLedger) -> bool:
        ledger.note(self.name, "dropped_flow_anchors")
        return True

    def transaction(self, row: StreamRow, ledger: DrillLedger, later: Later, encode: Encoder) -> None:
        ledger.txn_keys.setdefault(self.name, []).append(row.natural_key)

    def judge(self, ev: DrillEvidence) -> DrillRecord:
        ids = ev.txn_ids(self.name)
        degraded, _ = ev.degraded_missing_anchor(ids)
        return self.record({
            "flow_anchors_dropped": len(ids), "degraded_with_FLOW_ANCHOR_MISSING": len(ids),
        }, {
            "flow_anchors_dropped": ev.ledger.injected.get(self.name, {}).get("dropped_flow_anchors", 0),
            "degraded_with_FLOW_ANCHOR_MISSING": degraded,
        })


class LateContext(StreamDrill):
    name = DrillName.LATE_CONTEXT
    description = "flow anchor sent after the readiness bound -> explicit degrade; late arrival surfaced"

    def __init__(self) -> None:
        self._held: dict[str, StreamRow] = {}

    def anchor(self, row: StreamRow, ledger: DrillLedger) -> bool:
        self._held[row.payload["flow_id"]] = row
        return True

    def transaction(self, row: StreamRow, ledger: DrillLedger, later: Later, encode: Encoder) -> None:
        anchor = self._held.pop(row.payload["flow_id"])
        late_ts = row.ts_ms + LATE_BY_MS
        ledger.note(self.name, "late_flow_anchors", row.natural_key)
        later(late_ts, encode(replace(anchor, ts_ms=late_ts)))

    def judge(self, ev: DrillEvidence) -> DrillRecord:
        ids = ev.txn_ids(self.name)
        degraded, flows = ev.degraded_missing_anchor(ids)
        arrived = ev.join_store.get(ev.pins.platform_run_id, [(ContextKind.FLOW_ANCHOR, f) for f in flows])
        return self.record({
            "late_flow_anchors": len(ids), "degraded_with_FLOW_ANCHOR_MISSING": len(ids),
            "late_arrivals_surfaced": len(ids),
        }, {
            "late_flow_anchors": ev.ledger.injected.get(self.name, {}).get("late_flow_anchors", 0),
            "degraded_with_FLOW_ANCHOR_MISSING": degraded, "late_arrivals_surfaced": len(arrived),
        })


QUARANTINE_VARIANT_REASON: dict[str, QuarantineReason] = {
    "unknown_type": QuarantineReason.UNKNOWN_EVENT_TYPE,
    "invalid_payload": QuarantineReason.INVALID_PAYLOAD,
    "foreign_run": QuarantineReason.FOREIGN_RUN,
    "garbage": QuarantineReason.INVALID_ENVELOPE,
}


class Quarantine(StreamDrill):
    name = DrillName.QUARANTINE
    description = "unknown type, invalid payload, foreign run, garbage -> QUARANTINE with reason"

    def transaction(self, row: StreamRow, ledger: DrillLedger, later: Later, encode: Encoder) -> None:
        variant = tuple(QUARANTINE_VARIANT_REASON)[ledger.injected.get(self.name, {}).get("sent", 0) % 4]
        ledger.note(self.name, "sent")
        ledger.note(self.name, variant)
        txn_id = "q" + row.payload["txn_id"][1:]
        payload = dict(row.payload, txn_id=txn_id, **({"amount_minor": -5} if variant == "invalid_payload" else {}))
        bad = replace(row, natural_key="q" + row.natural_key[1:], payload=payload)
        later(row.ts_ms + 1, self._encode(bad, variant, encode))

    @staticmethod
    def _encode(row: StreamRow, variant: str, encode: Encoder) -> Outgoing:
        event_id = encode.event_id(row)
        if variant == "garbage":
            return Outgoing(UNCLASSIFIED, b'{"event_id": "' + row.natural_key.encode() + b'", not json')
        if variant == "unknown_type":
            return Outgoing(encode.class_of("loyalty_points"),
                            encode.envelope(event_id, "loyalty_points", row.ts_ms, row.payload))
        if variant == "foreign_run":
            pins = dict(encode.pins_json, platform_run_id=encode.pins.platform_run_id + "-foreign")
            return Outgoing(encode.class_of(row.event_type),
                            encode.envelope(event_id, row.event_type, row.ts_ms, row.payload, pins))
        return encode(row)

    def judge(self, ev: DrillEvidence) -> DrillRecord:
        injected = ev.ledger.injected.get(self.name, {})
        reasons = ev.receipts.reason_counts(ev.pins.platform_run_id)
        expected = {reason.value: injected.get(variant, 0) for variant, reason in QUARANTINE_VARIANT_REASON.items()}
        return self.record(expected, {k: reasons.get(k, 0) for k in expected})


class Lag(Drill):
    """Not a stream drill: RTDL's consumer is paused (``hooks.PausingConsumer``) and must catch up."""

    name = DrillName.LAG
    description = "RTDL paused (backpressure) then caught up: lag grew, returned to zero, nothing lost"

    def judge(self, ev: DrillEvidence) -> DrillRecord:
        lag = ev.lag
        observed = {
            "lag_grew": int(lag.get("lag_at_pause", 0)) > 0,
            "records_while_paused": lag.get("records_while_paused"),
            "final_lag": lag.get("final_lag"),
            "consumed_equals_admitted": ev.consumed_inputs == ev.admitted_inputs,
            "wall_clock": {"lag_at_pause": lag.get("lag_at_pause"), "paused_s": lag.get("paused_s")},
        }
        return self.record({"lag_grew": True, "records_while_paused": 0, "final_lag": 0,
                            "consumed_equals_admitted": True}, observed)


def catalog() -> dict[DrillName, Drill]:
    """A fresh instance of every drill (stream drills hold shaping state for one run)."""
    return {d.name: d for d in (Duplicates(), MissingContext(), LateContext(), PayloadMismatch(), Quarantine(),
                                Lag())}


STREAM_SLOTS: tuple[DrillName, ...] = (DrillName.DUPLICATES, DrillName.PAYLOAD_MISMATCH, DrillName.MISSING_CONTEXT,
                                       DrillName.LATE_CONTEXT, DrillName.QUARANTINE)
"""Flow slot order: flow ``i`` belongs to ``STREAM_SLOTS[i % every - 1]`` when that slot exists."""
