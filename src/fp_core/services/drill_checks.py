"""Observe each drill's outcome in the stores and judge it against what the shaping injected."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fp_core.context import ContextKind
from fp_core.degrade import DegradeReason
from fp_core.drills import DrillLedger, DrillRecord, verdict
from fp_core.event_class import TRAFFIC_CLASS
from fp_core.identity import DedupeKey, derive_event_id
from fp_core.pins import ContextPins
from fp_core.ports import ActionLog, AdmissionIndex, AuditLog, JoinStore, QuarantineIndex, ReceiptLog
from fp_core.receipts import AdmissionOutcome, QuarantineReason

QUARANTINE_VARIANT_REASON: dict[str, QuarantineReason] = {
    "unknown_type": QuarantineReason.UNKNOWN_EVENT_TYPE,
    "invalid_payload": QuarantineReason.INVALID_PAYLOAD,
    "foreign_run": QuarantineReason.FOREIGN_RUN,
    "garbage": QuarantineReason.INVALID_ENVELOPE,
}


@dataclass
class DrillObserver:
    pins: ContextPins
    receipts: ReceiptLog
    index: AdmissionIndex
    quarantine_index: QuarantineIndex
    audit_log: AuditLog
    action_log: ActionLog
    join_store: JoinStore

    def judge_all(self, ledger: DrillLedger, lag: Mapping[str, Any] | None, admitted_inputs: int,
                  consumed_inputs: int) -> list[DrillRecord]:
        records = []
        for drill in ledger.drills:
            if drill == "lag":
                records.append(self._lag(lag or {}, admitted_inputs, consumed_inputs))
            else:
                records.append(getattr(self, "_" + drill)(ledger))
        return records

    def _ids(self, ledger: DrillLedger, drill: str) -> list[str]:
        return [derive_event_id(self.pins.scenario_run_id, "transaction", k)
                for k in ledger.txn_keys.get(drill, [])]

    def _duplicates(self, ledger: DrillLedger) -> DrillRecord:
        ids = self._ids(ledger, "duplicates")
        outcomes = Counter(r.outcome for r in self.receipts.for_events(self.pins.platform_run_id, ids))
        decisions = self.audit_log.for_events(self.pins.platform_run_id, ids)
        per_event = Counter(a.decision.event_id for a in decisions)
        return verdict("duplicates", {
            "duplicates_sent": len(ids), "duplicate_receipts": len(ids), "admit_receipts": len(ids),
            "events_with_exactly_one_decision": len(ids), "duplicate_action_outcomes": 0,
        }, {
            "duplicates_sent": ledger.injected.get("duplicates", {}).get("duplicates_sent", 0),
            "duplicate_receipts": outcomes[AdmissionOutcome.DUPLICATE],
            "admit_receipts": outcomes[AdmissionOutcome.ADMIT],
            "events_with_exactly_one_decision": sum(1 for n in per_event.values() if n == 1),
            "duplicate_action_outcomes": self.action_log.outcome_counts(self.pins.platform_run_id)[
                "duplicate_outcomes"],
        })

    def _payload_mismatch(self, ledger: DrillLedger) -> DrillRecord:
        run = self.pins.platform_run_id
        ids = self._ids(ledger, "payload_mismatch")
        receipts = self.receipts.for_events(run, ids)
        admitted = {r.event_id: r.payload_hash for r in receipts if r.outcome is AdmissionOutcome.ADMIT}
        firsts = self.index.first_hashes([DedupeKey(run, TRAFFIC_CLASS, i) for i in ids])
        unchanged = sum(1 for k, h in firsts.items() if admitted.get(k.event_id) == h)
        idset = set(ids)
        quarantined = sum(1 for q in self.quarantine_index.for_run(run)
                          if q.event_id in idset and q.reason is QuarantineReason.PAYLOAD_HASH_MISMATCH)
        decided_original = sum(1 for a in self.audit_log.for_events(run, ids)
                               if a.decision.event_id in admitted)
        return verdict("payload_mismatch", {
            "anomaly_receipts": len(ids), "quarantine_entries": len(ids),
            "first_admission_unchanged": len(ids), "decisions_on_first_admission": len(ids),
        }, {
            "anomaly_receipts": sum(r.outcome is AdmissionOutcome.ANOMALY for r in receipts),
            "quarantine_entries": quarantined, "first_admission_unchanged": unchanged,
            "decisions_on_first_admission": decided_original,
        })

    def _degraded(self, ids: list[str]) -> tuple[int, list[str]]:
        audits = self.audit_log.for_events(self.pins.platform_run_id, ids)
        missing = [a for a in audits if DegradeReason.FLOW_ANCHOR_MISSING in a.decision.degrade.reasons]
        return len(missing), [a.decision.flow_id for a in missing]

    def _missing_context(self, ledger: DrillLedger) -> DrillRecord:
        ids = self._ids(ledger, "missing_context")
        degraded, _ = self._degraded(ids)
        return verdict("missing_context", {
            "flow_anchors_dropped": len(ids), "degraded_with_FLOW_ANCHOR_MISSING": len(ids),
        }, {
            "flow_anchors_dropped": ledger.injected.get("missing_context", {}).get("dropped_flow_anchors", 0),
            "degraded_with_FLOW_ANCHOR_MISSING": degraded,
        })

    def _late_context(self, ledger: DrillLedger) -> DrillRecord:
        ids = self._ids(ledger, "late_context")
        degraded, flows = self._degraded(ids)
        arrived = self.join_store.get(self.pins.platform_run_id,
                                      [(ContextKind.FLOW_ANCHOR, f) for f in flows])
        return verdict("late_context", {
            "late_flow_anchors": len(ids), "degraded_with_FLOW_ANCHOR_MISSING": len(ids),
            "late_arrivals_surfaced": len(ids),
        }, {
            "late_flow_anchors": ledger.injected.get("late_context", {}).get("late_flow_anchors", 0),
            "degraded_with_FLOW_ANCHOR_MISSING": degraded, "late_arrivals_surfaced": len(arrived),
        })

    def _quarantine(self, ledger: DrillLedger) -> DrillRecord:
        injected = ledger.injected.get("quarantine", {})
        reasons = self.receipts.reason_counts(self.pins.platform_run_id)
        expected = {reason.value: injected.get(variant, 0) for variant, reason in QUARANTINE_VARIANT_REASON.items()}
        return verdict("quarantine", expected, {k: reasons.get(k, 0) for k in expected})

    def _lag(self, lag: Mapping[str, Any], admitted_inputs: int, consumed_inputs: int) -> DrillRecord:
        observed = {
            "lag_grew": int(lag.get("lag_at_pause", 0)) > 0,
            "records_while_paused": lag.get("records_while_paused"),
            "final_lag": lag.get("final_lag"),
            "consumed_equals_admitted": consumed_inputs == admitted_inputs,
            "wall_clock": {"lag_at_pause": lag.get("lag_at_pause"), "paused_s": lag.get("paused_s")},
        }
        return verdict("lag", {"lag_grew": True, "records_while_paused": 0, "final_lag": 0,
                               "consumed_equals_admitted": True}, observed)
