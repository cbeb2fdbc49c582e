"""Reporter: run closure writes the evidence bundle from the stores (summaries and small slices)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from fp_core.canonical import canonical_json
from fp_core.context import ContextKind
from fp_core.degrade import DegradeReason
from fp_core.drills import DrillRecord
from fp_core.drills import hooks as drill_hooks
from fp_core.errors import ConfigError, NotFound, TransientError
from fp_core.event_class import TRAFFIC_CLASS
from fp_core.evidence import (
    COMPLETION_FILE,
    CONFORMANCE_FILE,
    FAILURE_FILE,
    REPORT_FILE,
    STARTED_FILE,
    AnomalySummary,
    DlaSummary,
    OffsetRangesDoc,
    ReceiptSummary,
    ReconciliationDoc,
    RunCompleted,
    RunFailed,
    RunHeader,
    RunMetrics,
    bundle_prefix,
    drill_file,
    render,
)
from fp_core.offsets import merge_ranges
from fp_core.ports import (
    ActionLog,
    AdmissionIndex,
    AuditLog,
    CaseStore,
    CheckpointLog,
    JoinStore,
    LabelStore,
    ObjectStore,
    QuarantineIndex,
    ReceiptLog,
    ReportRenderer,
)
from fp_core.receipts import AdmissionOutcome, QuarantineReason
from fp_core.reconciliation import reconcile
from fp_core.services.archive import ARCHIVE_GROUP
from fp_core.services.cm import CM_GROUP
from fp_core.services.control import RunFacts, StageComplete, StreamComplete
from fp_core.services.rtdl import RTDL_GROUP


def run_counts(stream: StreamComplete, stages: Mapping[str, StageComplete]) -> dict[str, Any]:
    """The run's counts from its facts: what was sent, what IG said, what each finished stage did."""
    counts: dict[str, Any] = {"sent": sum(stream.sent_by_class.values()), "ingress": stream.outcomes,
                              "submissions": stream.submissions, "wsp_retries": stream.retries,
                              "wsp_republished": stream.republished}
    if "rtdl" in stages:
        st = stages["rtdl"].stats
        counts.update(decisions=st["decisions"], degraded=st["degraded"], rtdl_consumed=st["consumed"],
                      case_triggers=st["case_triggers"])
    if "cm" in stages:
        counts["case_events"] = stages["cm"].stats["case_events"]
    if "ls" in stages:
        counts["label_assertions"] = stages["ls"].stats["label_assertions"]
    if "archive" in stages:
        counts["archive_objects"] = len(stages["archive"].stats["objects"])
    return counts


@dataclass(frozen=True)
class StoreReading:
    """What the bundle says of the run's truth stores (receipts, audit, actions, cases, labels, the join
    plane): complete once RTDL, CM and LS are, so it is read while the archive still writes."""

    reasons: Mapping[str, int]
    acts: Mapping[str, int]
    receipts: ReceiptSummary
    dla: DlaSummary
    late_context_arrivals: int
    unresolved_publishes: int


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
    index: AdmissionIndex
    quarantine_index: QuarantineIndex
    report: ReportRenderer | None = None
    """Renders ``report.html`` (a view derived from the bundle, rewritten on demand; not in the listing)."""

    def close_run(self, facts: RunFacts, header: RunHeader, durations_s: Mapping[str, float] | None = None,
                  rates_per_s: Mapping[str, float] | None = None, attachments: Mapping[str, bytes] | None = None,
                  reading: StoreReading | None = None) -> tuple[str, dict[str, bytes], list[DrillRecord]]:
        """Judge the drills and write the complete bundle from the run's facts and the stores (``reading``:
        the stores as ``read_stores`` read them already)."""
        ready, stream, stages = facts.ready, facts.require_stream(), facts.stages
        run = ready.pins.platform_run_id
        rtdl_stats: Mapping[str, Any] = stages["rtdl"].stats if "rtdl" in stages else {}
        drills = drill_hooks.judge(ready, facts.extra, rtdl_stats, self.receipts, self.index, self.quarantine_index,
                                   self.audit_log, self.action_log, self.join_store)
        archive = stages.get("archive")
        metrics = RunMetrics(platform_run_id=run, counts=run_counts(stream, stages),
                             durations_s=dict(durations_s or {}), rates_per_s=dict(rates_per_s or {}),
                             wall_clock={"lag_drill": drill_hooks.lag_observation(facts.extra, rtdl_stats),
                                         "decision_latency_ms": dict(rtdl_stats.get("latency_ms", {})),
                                         "decision_latency_histogram_ms": dict(
                                             rtdl_stats.get("latency_histogram_ms", {})),
                                         "decided_over_time": dict(rtdl_stats.get("decided_over_time", {})),
                                         "max_lag_by_topic": dict(rtdl_stats.get("max_lag_by_topic", {})),
                                         "rtdl_final_lag": rtdl_stats.get("final_lag", 0),
                                         "anomalies": {k.split(":", 1)[1]: json.loads(v)["counts"]
                                                       for k, v in sorted(facts.extra.items())
                                                       if k.startswith("ANOMALIES:")}}
                             if "rtdl" in stages else {})
        prefix, files = self.write(run, header, stream.sent_by_class, metrics, drills,
                                   list(archive.stats["objects"]) if archive else [],
                                   reading or self.read_stores(run), attachments)
        return prefix, files, drills

    def read_stores(self, run: str) -> StoreReading:
        """The stores' side of the bundle: receipt and decision summaries, anomaly counts."""
        reasons = self.receipts.reason_counts(run)
        acts = self.action_log.outcome_counts(run)
        dla, missing_flows = self.dla_summary(run, acts)
        late = self.join_store.get(run, [(ContextKind.FLOW_ANCHOR, f) for f in missing_flows])
        return StoreReading(reasons=reasons, acts=acts, receipts=self.receipt_summary(run, reasons), dla=dla,
                            late_context_arrivals=len(late),
                            unresolved_publishes=self.receipts.unresolved_publishes(run))

    def receipt_summary(self, run: str, reasons: Mapping[str, int] | None = None) -> ReceiptSummary:
        """``reasons``: the run's quarantine reason counts when the caller has read them already."""
        by_class = self.receipts.counts(run)
        totals: Counter[str] = Counter()
        for counts in by_class.values():
            totals.update(counts)
        if reasons is None:
            reasons = self.receipts.reason_counts(run)
        top = [{"reason": r, "count": n} for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))]
        sample = [r.model_dump(mode="json") for r in self.receipts.sample(run, 5)]
        return ReceiptSummary(platform_run_id=run, counts={o.value: totals.get(o.value, 0) for o in AdmissionOutcome},
                              by_event_class=by_class, top_reasons=top[:10], sample=sample)

    def dla_summary(self, run: str, acts: Mapping[str, int] | None = None) -> tuple[DlaSummary, list[str]]:
        """One streamed pass over the audit log: counts, degrade reasons, and the decision digest. ``acts``:
        the run's action outcome counts when the caller has read them already."""
        h = hashlib.sha256()
        decisions = 0
        actions: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        degraded = 0
        missing_flows: list[str] = []
        sample: list[dict[str, Any]] = []
        # The stored JSON is the records' JSON form (``model_dump(mode="json")``): read, not re-validated.
        for document in self.audit_log.documents(run):
            decisions += 1
            rec = orjson.loads(document)
            d = rec["decision"]
            h.update(canonical_json(d) + b"\n")
            actions[d["action"]] += 1
            if d["degrade"]["reasons"]:
                degraded += 1
                reasons.update(d["degrade"]["reasons"])
                if DegradeReason.FLOW_ANCHOR_MISSING.value in d["degrade"]["reasons"]:
                    missing_flows.append(d["flow_id"])
            if len(sample) < 3:
                sample.append(rec)
        if acts is None:
            acts = self.action_log.outcome_counts(run)
        n_cases, n_events = self.cases.counts(run)
        return DlaSummary(
            platform_run_id=run, decisions=decisions, action_intents=acts["intents"],
            action_outcomes=acts["outcomes"], actions=dict(sorted(actions.items())),
            degrade_by_reason=dict(sorted(reasons.items())), degraded_decisions=degraded,
            decision_digest=h.hexdigest(), cases=n_cases, case_timeline_events=n_events,
            label_assertions=len(self.labels.for_run(run)), sample=sample,
        ), missing_flows

    def write(self, run: str, header: RunHeader, intended: Mapping[str, int], metrics: RunMetrics,
              drills: Sequence[DrillRecord], archive_objects: Sequence[str], reading: StoreReading,
              attachments: Mapping[str, bytes] | None = None) -> tuple[str, dict[str, bytes]]:
        """Write the complete bundle; returns its prefix and the files as written."""
        reasons, acts, receipts, dla = reading.reasons, reading.acts, reading.receipts, reading.dla
        groups = {g: tuple(merge_ranges(self.checkpoints.ranges(run, g)))
                  for g in (RTDL_GROUP, CM_GROUP, ARCHIVE_GROUP)}
        traffic_admitted = receipts.by_event_class.get(TRAFFIC_CLASS, {}).get("ADMIT", 0)
        files: dict[str, bytes] = {
            "run.json": render(header),
            "ingress/receipt_summary.json": render(receipts),
            "decisions/dla_summary.json": render(dla),
            "replay/offset_ranges.json": render(OffsetRangesDoc(
                platform_run_id=run, consumer_group=RTDL_GROUP, ranges=groups[RTDL_GROUP],
                archive_objects=sorted(archive_objects), groups=groups)),
            "obs/metrics.json": render(metrics),
            "obs/anomalies.json": render(AnomalySummary(
                platform_run_id=run, duplicates=receipts.counts["DUPLICATE"],
                payload_hash_mismatches=reasons.get(QuarantineReason.PAYLOAD_HASH_MISMATCH.value, 0),
                quarantined=receipts.counts["QUARANTINE"],
                quarantine_reasons=dict(sorted(reasons.items())),
                join_miss_degrades=dla.degraded_decisions, late_context_arrivals=reading.late_context_arrivals,
                ambiguous_publishes=reading.unresolved_publishes)),
            "obs/reconciliation.json": render(ReconciliationDoc(
                platform_run_id=run, ingress=reconcile(intended, receipts.by_event_class),
                traffic_admitted=traffic_admitted, decisions=dla.decisions,
                every_admitted_txn_decided=dla.decisions == traffic_admitted,
                duplicate_action_outcomes=acts["duplicate_outcomes"])),
        }
        for d in drills:
            files[drill_file(d.drill_id)] = render(d)
        files.update(attachments or {})
        prefix = bundle_prefix(run)
        carried = {}  # written before closure (write-once): listed in run_completed.json, not rewritten
        for name in [STARTED_FILE, *self.failure_files(run)]:
            if self.objects.exists(f"{prefix}/{name}"):
                carried[name] = self.objects.get(f"{prefix}/{name}")
        files[COMPLETION_FILE] = render(RunCompleted(
            platform_run_id=run, status="COMPLETED", files=sorted([*files, *carried]),
            drills_passed=all(d.passed for d in drills), conformance_attached=CONFORMANCE_FILE in files))
        # run_completed.json is written last: it is the commit point. A closure that died part-way left
        # no bundle yet, only files that this attempt replaces whole; nothing is rewritten after it.
        for name, data in files.items():
            self.objects.put(f"{prefix}/{name}", data, overwrite=True)
        if self.report is not None:
            self.objects.put(f"{prefix}/{REPORT_FILE}", self.report.render({**carried, **files}), overwrite=True)
        return prefix, {**carried, **files}

    def write_report(self, run: str) -> tuple[str, bytes]:
        """``fp evidence report``: render the run's bundle as it is now (replay proofs and failure records
        included) and write it to ``report.html`` in the bundle. Returns its key and the page."""
        if self.report is None:
            raise ConfigError("this platform has no report renderer")
        prefix = bundle_prefix(run)
        files = {k.removeprefix(prefix + "/"): self.objects.get(k) for k in self.objects.list(prefix + "/")
                 if not k.endswith(REPORT_FILE)}
        if "run.json" not in files and STARTED_FILE not in files:
            raise NotFound(f"run {run!r} has no evidence bundle")
        page = self.report.render(files)
        self.objects.put(f"{prefix}/{REPORT_FILE}", page, overwrite=True)
        return f"{prefix}/{REPORT_FILE}", page

    def closed_bundle(self, run: str) -> tuple[str, dict[str, bytes], bool] | None:
        """The bundle of a run already closed (prefix, files, whether its drills passed), else None."""
        prefix = bundle_prefix(run)
        key = f"{prefix}/{COMPLETION_FILE}"
        if not self.objects.exists(key):
            return None
        raw = self.objects.get(key)
        completed = RunCompleted.model_validate_json(raw)
        files = {name: self.objects.get(f"{prefix}/{name}") for name in completed.files}
        return prefix, {**files, COMPLETION_FILE: raw}, completed.drills_passed

    def write_failure(self, run: str, header: RunHeader | None, stage: str, reason: str,
                      partial: Mapping[str, Any], groups: Sequence[str]) -> str:
        """A failed stage still leaves evidence, write-once: the stage, the reason, partial counts and
        anomalies, every consumed range per consumer group, and the header as known. Returns its key."""
        prefix = bundle_prefix(run)
        unavailable: dict[str, str] = {}
        by_group: dict[str, list[dict[str, Any]]] = {}
        anomalies: dict[str, int] = {}
        try:
            by_group = {g: [r.model_dump(mode="json") for r in merge_ranges(self.checkpoints.ranges(run, g))]
                        for g in groups}
        except TransientError as exc:
            unavailable["offsets_consumed_by_group"] = str(exc)[:300]
        try:
            anomalies = self.receipts.reason_counts(run)
        except TransientError as exc:
            unavailable["anomalies"] = str(exc)[:300]
        doc = RunFailed(platform_run_id=run, status="FAILED", failure_stage=stage, reason=reason[:2000],
                        partial_counts=dict(partial), anomalies=anomalies,
                        offsets_consumed=by_group.get(RTDL_GROUP, []), offsets_consumed_by_group=by_group,
                        header=header.model_dump(mode="json") if header else {}, unavailable=unavailable)
        n = len(self.failure_files(run))
        key = f"{prefix}/{FAILURE_FILE}" if n == 0 else f"{prefix}/{FAILURE_FILE.removesuffix('.json')}.{n + 1}.json"
        self.objects.put(key, render(doc))
        return key

    def failure_files(self, run: str) -> list[str]:
        prefix = f"{bundle_prefix(run)}/"
        stem = FAILURE_FILE.removesuffix(".json")
        return [k.removeprefix(prefix) for k in self.objects.list(prefix + stem)]
