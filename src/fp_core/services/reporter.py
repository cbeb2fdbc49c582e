"""Reporter: run closure writes the evidence bundle from the stores (summaries and small slices)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from fp_core.canonical import canonical_json
from fp_core.context import ContextKind
from fp_core.degrade import DegradeReason
from fp_core.drills import DrillRecord
from fp_core.event_class import TRAFFIC_CLASS
from fp_core.evidence import (
    COMPLETION_FILE,
    CONFORMANCE_FILE,
    FAILURE_FILE,
    AnomalySummary,
    DlaSummary,
    OffsetRangesDoc,
    ReceiptSummary,
    ReconciliationDoc,
    RunCompleted,
    RunFailed,
    RunHeader,
    bundle_prefix,
    drill_file,
)
from fp_core.offsets import OffsetRange, merge_ranges
from fp_core.ports import (
    ActionLog,
    AuditLog,
    CaseStore,
    CheckpointLog,
    JoinStore,
    LabelStore,
    ObjectStore,
    ReceiptLog,
)
from fp_core.receipts import AdmissionOutcome, QuarantineReason
from fp_core.reconciliation import reconcile


def render(doc: BaseModel | Mapping[str, Any]) -> bytes:
    data = doc.model_dump(mode="json") if isinstance(doc, BaseModel) else dict(doc)
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


@dataclass
class Reporter:
    objects: ObjectStore
    receipts: ReceiptLog
    audit_log: AuditLog
    action_log: ActionLog
    cases: CaseStore
    labels: LabelStore
    checkpoints: CheckpointLog
    join_store: JoinStore

    def receipt_summary(self, run: str) -> ReceiptSummary:
        by_class = self.receipts.counts(run)
        totals: Counter[str] = Counter()
        for counts in by_class.values():
            totals.update(counts)
        reasons = self.receipts.reason_counts(run)
        top = [{"reason": r, "count": n} for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))]
        sample = [r.model_dump(mode="json") for r in self.receipts.sample(run, 5)]
        return ReceiptSummary(platform_run_id=run, counts={o.value: totals.get(o.value, 0) for o in AdmissionOutcome},
                              by_event_class=by_class, top_reasons=top[:10], sample=sample)

    def dla_summary(self, run: str) -> tuple[DlaSummary, list[str]]:
        """One streamed pass over the audit log: counts, degrade reasons, and the decision digest."""
        h = hashlib.sha256()
        decisions = 0
        actions: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        degraded = 0
        missing_flows: list[str] = []
        sample: list[dict[str, Any]] = []
        for rec in self.audit_log.scan(run):
            decisions += 1
            d = rec.decision
            h.update(canonical_json(d.model_dump(mode="json")) + b"\n")
            actions[d.action.value] += 1
            if d.degrade.reasons:
                degraded += 1
                reasons.update(r.value for r in d.degrade.reasons)
                if DegradeReason.FLOW_ANCHOR_MISSING in d.degrade.reasons:
                    missing_flows.append(d.flow_id)
            if len(sample) < 3:
                sample.append(rec.model_dump(mode="json"))
        acts = self.action_log.outcome_counts(run)
        n_cases, n_events = self.cases.counts(run)
        return DlaSummary(
            platform_run_id=run, decisions=decisions, action_intents=acts["intents"],
            action_outcomes=acts["outcomes"], actions=dict(sorted(actions.items())),
            degrade_by_reason=dict(sorted(reasons.items())), degraded_decisions=degraded,
            decision_digest=h.hexdigest(), cases=n_cases, case_timeline_events=n_events,
            label_assertions=len(self.labels.for_run(run)), sample=sample,
        ), missing_flows

    def write(self, run: str, header: RunHeader, intended: Mapping[str, int], metrics: Mapping[str, Any],
              drills: Sequence[DrillRecord], rtdl_group: str, archive_objects: Sequence[str],
              ambiguous_publishes: int, attachments: Mapping[str, bytes] | None = None
              ) -> tuple[str, dict[str, bytes]]:
        """Write the complete bundle; returns its prefix and the files as written."""
        receipts = self.receipt_summary(run)
        dla, missing_flows = self.dla_summary(run)
        late = self.join_store.get(run, [(ContextKind.FLOW_ANCHOR, f) for f in missing_flows])
        ranges = merge_ranges(self.checkpoints.ranges(run, rtdl_group))
        traffic_admitted = receipts.by_event_class.get(TRAFFIC_CLASS, {}).get("ADMIT", 0)
        acts = self.action_log.outcome_counts(run)
        reasons = self.receipts.reason_counts(run)
        files: dict[str, bytes] = {
            "run.json": render(header),
            "ingress/receipt_summary.json": render(receipts),
            "decisions/dla_summary.json": render(dla),
            "replay/offset_ranges.json": render(OffsetRangesDoc(
                platform_run_id=run, consumer_group=rtdl_group, ranges=tuple(ranges),
                archive_objects=sorted(archive_objects))),
            "obs/metrics.json": render(dict(metrics, platform_run_id=run)),
            "obs/anomalies.json": render(AnomalySummary(
                platform_run_id=run, duplicates=receipts.counts["DUPLICATE"],
                payload_hash_mismatches=reasons.get(QuarantineReason.PAYLOAD_HASH_MISMATCH.value, 0),
                quarantined=receipts.counts["QUARANTINE"],
                quarantine_reasons=dict(sorted(reasons.items())),
                join_miss_degrades=dla.degraded_decisions, late_context_arrivals=len(late),
                ambiguous_publishes=ambiguous_publishes)),
            "obs/reconciliation.json": render(ReconciliationDoc(
                platform_run_id=run, ingress=reconcile(intended, receipts.by_event_class),
                traffic_admitted=traffic_admitted, decisions=dla.decisions,
                every_admitted_txn_decided=dla.decisions == traffic_admitted,
                duplicate_action_outcomes=acts["duplicate_outcomes"])),
        }
        for d in drills:
            files[drill_file(d.drill_id)] = render(d)
        files.update(attachments or {})
        files[COMPLETION_FILE] = render(RunCompleted(
            platform_run_id=run, status="COMPLETED", files=sorted(files),
            drills_passed=all(d.passed for d in drills), conformance_attached=CONFORMANCE_FILE in files))
        prefix = bundle_prefix(run)
        for name, data in files.items():
            self.objects.put(f"{prefix}/{name}", data)
        return prefix, files

    def write_failure(self, run: str, header: RunHeader | None, stage: str, reason: str,
                      partial: Mapping[str, Any], offsets: Sequence[OffsetRange]) -> str:
        """A failed stage still leaves evidence: header (if pinned), failure stage, reason, partial counts."""
        prefix = bundle_prefix(run)
        if header is not None and not self.objects.exists(f"{prefix}/run.json"):
            self.objects.put(f"{prefix}/run.json", render(header))
        doc = RunFailed(platform_run_id=run, status="FAILED", failure_stage=stage, reason=reason[:2000],
                        partial_counts=dict(partial),
                        offsets_consumed=[r.model_dump(mode="json") for r in merge_ranges(offsets)])
        self.objects.put(f"{prefix}/{FAILURE_FILE}", render(doc), overwrite=True)
        return prefix
